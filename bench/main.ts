// `npm run bench`: graph-run's CPU timings, in-process (startup, loading and plan building
// excluded), after warm-up, median of several samples, interleaved with the same workloads on
// the references where installed (TensorFlow.js cpu and wasm, ONNX Runtime; PyTorch for the
// CNN step, bench/cnn.ts, and the character model's, bench/charlm.ts).
// Prints a table, or with --json one JSON document:
//   {"gender_train_ms", "mlp_step_ms", "matmul_1024_gflops", "elementwise_16m_gbs",
//    "node_overhead_us", ..., "references": {"tfjs-wasm": {same keys}, ...},
//    "speedup": {"tfjs-wasm": {key: how many times faster graph-run is}, ...}}
// Flags: --json, --no-refs (graph-run alone), --only key,key (a subset of the workloads),
// --threads (graph-run alone, 1 thread against all threads, interleaved in one process).
// See docs/performance.md for the figures, the machine and the choices behind the kernels.

import { availableParallelism, cpus } from 'node:os';
import v8 from 'node:v8';
import { format } from 'node:util';
import { median } from './stats.js';
import { chain, elementwise, genderTraining, matmul, mlpInference, mlpStep, type Prepared } from './workloads.js';
import { referenceEngines, type Engine, type RefPrepared } from './refs.js';
import { cnnStep } from './cnn.js';
import { charlmStep } from './charlm.js';
import { kernels } from '../runtime/executors/cpu/threads.js';

interface Workload {
  key: string;
  what: string;
  /** From milliseconds per run to the reported figure. */
  metric: (ms: number) => number;
  /** Higher is better (throughput) or lower (time). */
  higher: boolean;
  graphRun: () => Prepared;
}

const gflops = (n: number) => (ms: number) => (2 * n ** 3) / (ms * 1e6);
const gbs = (n: number) => (ms: number) => (16 * n) / (ms * 1e6); // 3 inputs + 1 output, f32
const CHAIN = 1000;

const workloads: Workload[] = [
  {
    key: 'gender_train_ms',
    what: "tutorial's network: 4,000 per-sample SGD steps + 100 loss logs",
    metric: (ms) => ms,
    higher: false,
    graphRun: () => genderTraining('f32'),
  },
  {
    key: 'mlp_step_ms',
    what: 'MLP 784-256-256-10, batch 128, one SGD step',
    metric: (ms) => ms,
    higher: false,
    graphRun: () => mlpStep(128),
  },
  {
    key: 'cnn_step_ms',
    what: 'MNIST CNN (graphs/mnist_cnn.yaml), batch 64, one Adam step',
    metric: (ms) => ms,
    higher: false,
    graphRun: () => cnnStep(64),
  },
  {
    key: 'charlm_step_ms',
    what: 'character transformer (graphs/charlm.yaml: 2 blocks, width 64, context 64), batch 32, one Adam step',
    metric: (ms) => ms,
    higher: false,
    graphRun: () => charlmStep(32),
  },
  {
    key: 'mlp_infer_ms',
    what: 'MLP 784-256-256-10, batch 128, forward only',
    metric: (ms) => ms,
    higher: false,
    graphRun: () => mlpInference(128),
  },
  ...[128, 512, 1024].map((n) => ({
    key: `matmul_${n}_gflops`,
    what: `matmul ${n}³ (GFLOP/s)`,
    metric: gflops(n),
    higher: true,
    graphRun: () => matmul(n),
  })),
  {
    key: 'elementwise_1m_gbs',
    what: 'sigmoid(a*b + c), 1M floats (GB/s)',
    metric: gbs(1 << 20),
    higher: true,
    graphRun: () => elementwise(1 << 20),
  },
  {
    key: 'elementwise_16m_gbs',
    what: 'sigmoid(a*b + c), 16M floats (GB/s)',
    metric: gbs(1 << 24),
    higher: true,
    graphRun: () => elementwise(1 << 24),
  },
  {
    key: 'node_overhead_us',
    what: `chain of ${CHAIN} small nodes, unfused (µs per node)`,
    metric: (ms) => (ms * 1000) / CHAIN,
    higher: false,
    graphRun: () => chain(CHAIN, false),
  },
  {
    key: 'node_overhead_fused_us',
    what: `the same chain, fused into one loop (µs per node)`,
    metric: (ms) => (ms * 1000) / CHAIN,
    higher: false,
    graphRun: () => chain(CHAIN, true),
  },
];

/** Pause before each sample, longer than the references' spinning threads take to sleep. */
const SETTLE_MS = 250;

/** Aim for samples of at least this long, so timer resolution and call overhead vanish. */
const SAMPLE_MS = 40;

interface Series {
  inner: number;
  rounds: number;
  samples: number[];
}

async function callN(
  run: () => void | Promise<void>,
  n: number,
  runN?: (n: number) => Promise<number>,
): Promise<number> {
  if (runN) return runN(n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = run();
    if (r) await r;
  }
  return (performance.now() - t0) / n;
}

async function measure(key: string, engines: { name: string; prep: RefPrepared }[]): Promise<Map<string, Series>> {
  const series = new Map<string, Series>();
  // Warm-up (JIT, plan caches, helper threads) and a first estimate of the cost.
  for (const { name, prep } of engines) {
    await prep.enter?.();
    let est = await callN(prep.run, 1, prep.runN);
    if (est < 200) est = await callN(prep.run, Math.min(20, Math.ceil(100 / Math.max(est, 0.01))), prep.runN);
    const inner = Math.max(1, Math.floor(SAMPLE_MS / Math.max(est, 1e-3)));
    // Slow references get fewer samples (TF.js cpu takes seconds for one 1024³ matmul).
    const rounds = est > 1500 ? 3 : est > 300 ? 5 : 9;
    series.set(name, { inner, rounds, samples: [] });
  }
  const most = Math.max(...[...series.values()].map((s) => s.rounds));
  for (let r = 0; r < most; r++) {
    for (const { name, prep } of engines) {
      const s = series.get(name)!;
      if (r >= s.rounds) continue;
      // A pause between samples: the references' pool threads spin after a run (OpenBLAS's for
      // about 130 ms here, ONNX Runtime's for a while) and would otherwise take a core from
      // whichever engine is timed next.
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      await prep.enter?.();
      s.samples.push(await callN(prep.run, s.inner, prep.runN));
    }
  }
  void key;
  return series;
}

function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '—';
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

async function main(argv: string[]): Promise<void> {
  // As the CLI does: relaxed SIMD (fused multiply-add in the matmul) on Node 20, where it sits
  // behind a flag; set before the first WebAssembly module is compiled.
  if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  // Libraries' notices (TF.js suggests tfjs-node on first use) go to stderr: stdout is the result.
  console.log = console.info = console.warn = (...a: unknown[]) => void process.stderr.write(format(...a) + '\n');
  const json = argv.includes('--json');
  const only = argv.includes('--only') ? new Set(argv[argv.indexOf('--only') + 1]!.split(',')) : null;
  if (argv.includes('--threads')) return threadScaling(only);
  const engines: Engine[] = argv.includes('--no-refs') ? [] : await referenceEngines();
  const result: Record<string, number> = {};
  const refs: Record<string, Record<string, number>> = {};
  const speedup: Record<string, Record<string, number>> = {};
  const spread: Record<string, [number, number]> = {};
  for (const e of engines) {
    refs[e.name] = {};
    speedup[e.name] = {};
  }
  for (const w of workloads) {
    if (only && !only.has(w.key)) continue;
    const gr = w.graphRun();
    const list: { name: string; prep: RefPrepared }[] = [{ name: 'graph-run', prep: gr }];
    for (const e of engines) {
      const make = e.workloads[w.key];
      if (make) list.push({ name: e.name, prep: await make() });
    }
    const series = await measure(w.key, list);
    const g = series.get('graph-run')!;
    result[w.key] = w.metric(median(g.samples));
    const vals = g.samples.map(w.metric);
    spread[w.key] = [Math.min(...vals), Math.max(...vals)];
    for (const e of engines) {
      const s = series.get(e.name);
      if (!s) continue;
      const v = w.metric(median(s.samples));
      refs[e.name]![w.key] = v;
      speedup[e.name]![w.key] = w.higher ? result[w.key]! / v : v / result[w.key]!;
    }
    for (const { prep } of list.slice(1)) prep.dispose?.();
    if (!json) process.stderr.write(`  ${w.key} done\n`);
  }
  const round = (x: number) => Number(x.toPrecision(4));
  const r4 = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]));
  if (json) {
    const out = {
      ...r4(result),
      references: Object.fromEntries(Object.entries(refs).map(([k, v]) => [k, r4(v)])),
      speedup: Object.fromEntries(Object.entries(speedup).map(([k, v]) => [k, r4(v)])),
      spread: Object.fromEntries(Object.entries(spread).map(([k, [a, b]]) => [k, [round(a), round(b)]])),
      machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? '?', node: process.version },
      fma: kernels()?.shape.fma ?? false,
      versions: Object.fromEntries(engines.filter((e) => e.version).map((e) => [e.name, e.version])),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const names = engines.map((e) => e.name);
  const head = ['workload', 'graph-run', '(min–max)', ...names, ...names.map((n) => `× ${n}`)];
  const rows = [head];
  for (const w of workloads) {
    if (!(w.key in result)) continue;
    const [lo, hi] = spread[w.key]!;
    rows.push([
      `${w.key}: ${w.what}`,
      fmt(result[w.key]),
      `${fmt(lo)}–${fmt(hi)}`,
      ...names.map((n) => fmt(refs[n]![w.key])),
      ...names.map((n) => (speedup[n]![w.key] === undefined ? '—' : `${fmt(speedup[n]![w.key])}×`)),
    ]);
  }
  const width = head.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows)
    process.stdout.write(r.map((s, c) => (c === 0 ? s.padEnd(width[c]!) : s.padStart(width[c]!))).join('  ') + '\n');
  process.stdout.write(
    `\n× = how many times faster graph-run is (time: reference/graph-run; throughput: graph-run/reference).\n`,
  );
  process.stdout.write(
    `${availableParallelism()} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}; medians of interleaved samples after warm-up.\n`,
  );
}

/** graph-run's workloads on 1 thread and on all, alternating sample by sample. */
async function threadScaling(only: Set<string> | null): Promise<void> {
  const K = kernels();
  if (!K || K.threads < 2) {
    process.stdout.write('one thread only here (fast kernels off, or GRAPH_RUN_THREADS=1, or one CPU)\n');
    return;
  }
  process.stdout.write(`workload  1 thread  ${K.threads} threads  speedup (medians of interleaved samples)\n`);
  for (const w of workloads) {
    if ((only && !only.has(w.key)) || w.key.startsWith('node_overhead')) continue;
    const prep = w.graphRun();
    const one: RefPrepared = { run: prep.run, enter: async () => void (K.active = 1) };
    const all: RefPrepared = { run: prep.run, enter: async () => void (K.active = K.threads) };
    const series = await measure(w.key, [
      { name: '1', prep: one },
      { name: 'all', prep: all },
    ]);
    const a = w.metric(median(series.get('1')!.samples)),
      b = w.metric(median(series.get('all')!.samples));
    process.stdout.write(`${w.key}  ${fmt(a)}  ${fmt(b)}  ${fmt(w.higher ? b / a : a / b)}×\n`);
  }
  K.active = K.threads;
}

await main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
  process.exit(1);
});
// Helper threads and native thread pools are left to the process's exit.
process.exit(0);
