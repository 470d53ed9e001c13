// NumPy as a benchmark reference: bench/py/numpy_ref.py in a child process (bench/python.ts),
// which times its own runs so the pipe costs nothing per run. Absent (no engine) where Python
// or NumPy is missing.

import { pythonChild } from './python.js';
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
  const py = await pythonChild(new URL('../../bench/py/numpy_ref.py', import.meta.url).pathname);
  if (!py?.first.startsWith('numpy ')) return null;
  const workloads: Engine['workloads'] = {};
  for (const key of KEYS) {
    workloads[key] = async (): Promise<RefPrepared> => {
      if ((await py.ask(`prep ${key}`)) !== 'ok') throw new Error(`numpy has no workload ${key}`);
      return {
        run: async () => void (await py.ask(`run ${key} 1`)),
        runN: async (n: number) => Number(await py.ask(`run ${key} ${n}`)),
      };
    };
  }
  return { name: 'numpy', version: py.first, workloads };
}
