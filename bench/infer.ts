// The MLP 784-256-256-10 at batch 128, forward only, four ways in one process, interleaved
// round by round so that a busy machine weighs on all of them alike: graph-run's forward plan
// with the gemm epilogue (bias and ReLU finished in the matrix product), the same plan with
// bias and ReLU as a pass of their own (as before the epilogue), Session.run (the public
// path: feeding the batch, copying the outputs out), and ONNX Runtime on the same model.
// `tsc -p tsconfig.bench.json && node dist/bench/infer.js [--rounds N] [--json] [--cpu]`.
// --cpu: one thread each (GRAPH_RUN_THREADS=1 is set for graph-run, ONNX Runtime gets one
// intra-op thread) and CPU time (process.cpuUsage) instead of wall time: on a machine busier
// than its cores a process's CPU time barely depends on how often it was descheduled, so this
// compares the code, not the share of the machine each engine got.

import v8 from 'node:v8';
import { mlpData, mlpInference, graphPath, type Prepared } from './workloads.js';
import { onnxEngine, type RefPrepared } from './refs.js';
import { median } from './stats.js';
import { kernels } from '../runtime/executors/cpu/threads.js';
import { loadGraph } from '../runtime/index.js';
import { Session } from '../runtime/session.js';

const cpu = process.argv.includes('--cpu');
if (cpu) process.env.GRAPH_RUN_THREADS = '1';
if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('--rounds', 15);
const K = kernels();
if (!K) throw new Error('the fast kernels are off (GRAPH_RUN_FAST=0?)');

/** A plan built with the epilogue on or off (the choice is made when the plan is built). */
function plan(epilogue: boolean): Prepared {
  const was = K!.epilogue;
  K!.epilogue = epilogue;
  try {
    return mlpInference(128);
  } finally {
    K!.epilogue = was;
  }
}

function sessionRun(): Prepared {
  const s = new Session(loadGraph(graphPath('graphs/bench/mlp.yaml')));
  const d = mlpData(128);
  for (const [name, v] of d.params) s.params.get(name)!.set(v);
  let last = 0;
  return {
    run: () => {
      last = s.run({ x: d.x }, 128).out!.data[0]!;
    },
    check: () => last,
  };
}

const variants: { name: string; prep: RefPrepared & { check?: () => number } }[] = [
  { name: 'plan, epilogue', prep: plan(true) },
  { name: 'plan, no epilogue', prep: plan(false) },
  { name: 'Session.run', prep: sessionRun() },
];
const ort = await onnxEngine(cpu ? 1 : 2);
const ortPrep = await ort?.workloads.mlp_infer_ms?.();
if (ortPrep) variants.push({ name: 'onnxruntime', prep: ortPrep });

// The two plans compute the same bits.
variants[0]!.prep.run();
variants[1]!.prep.run();
if (variants[0]!.prep.check!() !== variants[1]!.prep.check!()) throw new Error('the plans disagree');

const clock = () => {
  if (!cpu) return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function timeN(run: () => void | Promise<void>, n: number): Promise<number> {
  const t0 = clock();
  for (let i = 0; i < n; i++) {
    const r = run();
    if (r) await r;
  }
  return (clock() - t0) / n;
}

const inner = new Map<string, number>();
for (const v of variants) {
  await timeN(v.prep.run, 20);
  const est = await timeN(v.prep.run, 20);
  inner.set(v.name, Math.max(1, Math.round(40 / Math.max(est, 0.01))));
}
const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
for (let r = 0; r < rounds; r++)
  for (const v of variants) samples.get(v.name)!.push(await timeN(v.prep.run, inner.get(v.name)!));

const result: Record<string, { median_ms: number; min_ms: number }> = {};
for (const [name, s] of samples) result[name] = { median_ms: median(s), min_ms: Math.min(...s) };
const ortMs = result.onnxruntime;
if (process.argv.includes('--json'))
  process.stdout.write(`${JSON.stringify({ rounds, threads: K.threads, time: cpu ? 'cpu' : 'wall', result })}\n`);
else {
  console.log(
    `MLP 784-256-256-10 b128 forward, ${rounds} interleaved rounds, ${K.threads} threads, fma ${K.shape.fma}, ${cpu ? 'CPU' : 'wall'} time`,
  );
  for (const [name, r] of Object.entries(result)) {
    const vs = ortMs
      ? `  speed vs ONNX Runtime: ${(ortMs.median_ms / r.median_ms).toFixed(2)}× (medians), ${(ortMs.min_ms / r.min_ms).toFixed(2)}× (minima)`
      : '';
    console.log(`${name.padEnd(18)} median ${r.median_ms.toFixed(3)} ms  min ${r.min_ms.toFixed(3)} ms${vs}`);
  }
}
process.exit(0);
