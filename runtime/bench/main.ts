// `npm run bench`: in-process timings of graph-run on the CPU, startup and plan building
// excluded, after warm-up, median of several runs. `npm run bench -- --json` prints one JSON
// document instead of the table. See docs/performance.md for the figures and the machine.

import { time, type Timing } from './stats.js';
import { genderTraining, mlpStep } from './workloads.js';

interface Row {
  key: string;
  what: string;
  t: Timing;
}

function main(argv: string[]): void {
  const json = argv.includes('--json');
  const rows: Row[] = [];

  const gender = genderTraining('f32');
  rows.push({ key: 'gender_train_ms', what: 'gender.yaml training, 4,000 steps + 100 loss logs (f32)', t: time(gender.run, { warmup: 5, runs: 15 }) });

  const mlp = mlpStep(128, 'f32');
  rows.push({ key: 'mlp_step_ms', what: 'MLP 784-256-256-10, batch 128, one SGD step (f32)', t: time(mlp.run, { warmup: 3, runs: 9 }) });

  if (json) {
    const out: Record<string, number> = {};
    for (const r of rows) out[r.key] = round(r.t.median);
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const lines = [['workload', 'median ms', 'min', 'max', 'runs']];
  for (const r of rows) lines.push([r.what, fmt(r.t.median), fmt(r.t.min), fmt(r.t.max), String(r.t.runs)]);
  const w = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  for (const l of lines) process.stdout.write(l.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  ') + '\n');
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function fmt(x: number): string {
  return x < 10 ? x.toFixed(3) : x.toFixed(1);
}

main(process.argv.slice(2));
