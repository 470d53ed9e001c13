// CPU time per run of one workload (process.cpuUsage, so time the process spends waiting for a
// busy machine's cores does not count), for comparing builds or kernels on a shared machine
// where wall times swing; and the gemm's register-tile shapes against each other, interleaved
// in one process. One thread unless GRAPH_RUN_THREADS says otherwise.
//   node dist/bench/cpu-time.js gender|mlp_step|mlp_infer|cnn|charlm|matmul_<n> [--runs N] [--rounds R]
//   node dist/bench/cpu-time.js shapes [--n 512]
// Prints each round's CPU milliseconds per run (GFLOP per CPU-second for matmul and shapes), sorted.

import v8 from 'node:v8';
import { Kernels } from '../runtime/executors/cpu/threads.js';
import type { GemmShape } from '../runtime/executors/cpu/wasm/gemm.js';
import { charlmStep } from './charlm.js';
import { cnnStep } from './cnn.js';
import { genderTraining, matmul, mlpInference, mlpStep, type Prepared } from './workloads.js';

const workloads: Record<string, () => Prepared> = {
  gender: () => genderTraining('f32'),
  mlp_step: () => mlpStep(128),
  mlp_infer: () => mlpInference(128),
  cnn: () => cnnStep(),
  charlm: () => charlmStep(),
};

/** CPU milliseconds spent in `f` (all threads of this process). */
function cpuMs(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const arg = (argv: string[], name: string, d: number): number =>
  argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : d;

/** The gemm's tile shapes, each on its own kernels (one thread), n×n×n, interleaved round by round. */
function shapes(n: number, rounds: number): void {
  const list: GemmShape[] = [
    { mr: 5, nr: 8, unroll: 1 },
    { mr: 5, nr: 8, unroll: 2 },
    { mr: 4, nr: 8, unroll: 1 },
    { mr: 6, nr: 8, unroll: 1 },
    { mr: 3, nr: 12, unroll: 1 },
    { mr: 2, nr: 16, unroll: 1 },
  ];
  const fma = new Kernels(1).shape.fma === true;
  const runs = list.map((s) => {
    const K = new Kernels(1, { ...s, fma });
    const [a, b, c] = [K.arena.f32(n * n), K.arena.f32(n * n), K.arena.f32(n * n)];
    for (let i = 0; i < n * n; i++) [a[i], b[i]] = [Math.random(), Math.random()];
    const t = { m: n, n, k: n, a: a.byteOffset, rsa: n * 4, csa: 4, b: b.byteOffset, rsb: n * 4, csb: 4 };
    return { s, run: () => K.gemm({ ...t, c: c.byteOffset, ldc: n * 4 }), gflops: [] as number[] };
  });
  const reps = Math.max(1, Math.round(1e9 / (2 * n ** 3)));
  for (const r of runs) for (let i = 0; i < 3; i++) r.run();
  for (let i = 0; i < rounds; i++)
    for (const r of runs) {
      const ms = cpuMs(() => {
        for (let j = 0; j < reps; j++) r.run();
      });
      r.gflops.push((2 * n ** 3 * reps) / (ms * 1e6));
    }
  for (const r of runs) {
    const v = r.gflops.sort((x, y) => x - y);
    console.log(
      `${r.s.mr}x${r.s.nr} unroll ${r.s.unroll}${fma ? ' fma' : ''}: median ${v[v.length >> 1]!.toFixed(1)} GFLOP/s per CPU-second (${v.map((x) => x.toFixed(1)).join(' ')})`,
    );
  }
}

function main(argv: string[]): void {
  // As the CLI does: relaxed SIMD on Node 20, set before the first WebAssembly module is compiled.
  if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const what = argv[0] ?? '';
  const rounds = arg(argv, '--rounds', 9);
  if (what === 'shapes') {
    shapes(arg(argv, '--n', 512), rounds);
    return;
  }
  const mm = /^matmul_(\d+)$/.exec(what);
  const make = mm ? () => matmul(Number(mm[1])) : workloads[what];
  if (!make) {
    console.error(`usage: cpu-time.js ${Object.keys(workloads).join('|')}|matmul_<n>|shapes [--runs N] [--rounds R]`);
    process.exitCode = 2;
    return;
  }
  const p = make();
  const runs = arg(argv, '--runs', 10);
  for (let i = 0; i < 3; i++) p.run();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++)
    per.push(
      cpuMs(() => {
        for (let i = 0; i < runs; i++) p.run();
      }) / runs,
    );
  per.sort((x, y) => x - y);
  const show = mm ? per.map((ms) => (2 * Number(mm[1]) ** 3) / (ms * 1e6)).reverse() : per;
  const unit = mm ? 'GFLOP/s per CPU-second' : 'CPU ms per run';
  console.log(
    `${what} (${process.env.GRAPH_RUN_THREADS ?? 'all'} threads): ${unit} ${show.map((x) => x.toFixed(2)).join(' ')}; check ${p.check()}`,
  );
}

main(process.argv.slice(2));
