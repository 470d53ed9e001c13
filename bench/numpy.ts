// NumPy as a benchmark reference: bench/py/numpy_ref.py in a child process (Python with NumPy,
// from $GRAPH_RUN_PYTHON or python3), which times its own runs so the pipe costs nothing per run. Absent
// (no engine) where Python or NumPy is missing.

import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Engine, RefPrepared } from './refs.js';

const KEYS = [
  'mlp_step_ms',
  'mlp_infer_ms',
  'matmul_128_gflops',
  'matmul_512_gflops',
  'matmul_1024_gflops',
  'elementwise_1m_gbs',
  'elementwise_16m_gbs',
];

export async function numpyEngine(): Promise<Engine | null> {
  const python = process.env.GRAPH_RUN_PYTHON ?? 'python3';
  const script = new URL('../../bench/py/numpy_ref.py', import.meta.url).pathname;
  if (spawnSync(python, ['-c', 'import numpy'], { stdio: 'ignore' }).status !== 0) return null;
  // The benchmark ends with process.exit, which closes the pipe and so ends the child.
  const child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const pending: ((line: string) => void)[] = [];
  lines.on('line', (l) => pending.shift()?.(l));
  const ask = (cmd: string) =>
    new Promise<string>((resolve) => {
      pending.push(resolve);
      child.stdin!.write(`${cmd}\n`);
    });
  const version = await new Promise<string>((resolve) => pending.push(resolve));
  const workloads: Engine['workloads'] = {};
  for (const key of KEYS) {
    workloads[key] = async (): Promise<RefPrepared> => {
      if ((await ask(`prep ${key}`)) !== 'ok') throw new Error(`numpy has no workload ${key}`);
      return {
        run: async () => void (await ask(`run ${key} 1`)),
        runN: async (n: number) => Number(await ask(`run ${key} ${n}`)),
      };
    };
  }
  return { name: 'numpy', version, workloads, dispose: () => child.kill() };
}
