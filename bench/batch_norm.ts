// Batch normalisation as a library graph (graphs/lib/layers/batch_norm.yaml: reductions,
// elementwise ops, is_training/where and their reverse nodes) against what a fused op would cost:
// one hand-written f32 kernel doing the training forward (batch statistics, running-statistic
// update) and backward a channel at a time, timed in the same process on the same activation.
// For proportion, the 3x3 convolution a batch norm follows in a CNN, on the same activation,
// forward and backward through graph-run. Each graph-run row is a whole training step (SGD) of a
// graph holding only that layer, loss = mean(y · w). Medians of repeated runs.
// Run: npx tsx bench/batch_norm.ts [batch] [channels] [size]      (default 64 16 14)
import { parseGraph } from '../runtime/index.js';
import { Session } from '../runtime/session.js';
import { median, prng } from './stats.js';

const n = Number(process.argv[2] ?? 64),
  c = Number(process.argv[3] ?? 16),
  hw = Number(process.argv[4] ?? 14);
const plane = hw * hw,
  len = n * c * plane;
const rnd = prng(1);
const xs = Float32Array.from({ length: len }, () => rnd() * 4 - 2);

function time(f: () => void, reps = 20): number {
  for (let i = 0; i < 3; i++) f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** A training step of x -> body -> y, loss mean(y * w), SGD. */
function stepper(body: string[], params: string[]): () => void {
  const yaml = [
    'graph-run: 1',
    'inputs:',
    `  x: {shape: [batch, ${c}, ${hw}, ${hw}]}`,
    'params:',
    `  w: {shape: [${c}, ${hw}, ${hw}], init: 0.5, trainable: false}`,
    ...params,
    'nodes:',
    ...body,
    '  - {name: yw, op: mul, inputs: [y, w]}',
    'outputs: [y]',
    'loss: {op: mean, inputs: [yw]}',
    'optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.01}}',
    '',
  ];
  const s = new Session(parseGraph(yaml.join('\n'), 'bn-bench.yaml'), { dtype: 'f32' });
  const feed = { x: xs };
  return () => void s.stepOn(n, feed);
}

const bn = stepper([`  - {name: y, graph: std:layers/batch_norm.yaml, inputs: {x: x}, with: {channels: ${c}}}`], []);
const conv = stepper(
  ['  - {name: y, op: conv2d, inputs: [x, k], attrs: {padding: 1}}'],
  [`  k: {shape: [${c}, ${c}, 3, 3], init: 0.01}`],
);
const relu = stepper(['  - {name: y, op: relu, inputs: [x]}'], []);

// The fused kernel: per channel, the batch mean and biased variance (f64 accumulation), the
// running-statistic update, y, then the backward pass (dx, dweight, dbias) in two sweeps.
const y = new Float32Array(len),
  dx = new Float32Array(len),
  dy = new Float32Array(len).fill(0.5 / len),
  weight = new Float32Array(c).fill(1),
  bias = new Float32Array(c),
  rm = new Float32Array(c),
  rv = new Float32Array(c).fill(1),
  dwt = new Float32Array(c),
  db = new Float32Array(c);
function fusedBatchNorm(): void {
  const m = n * plane;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) s += xs[o + i]!;
    const mean = s / m;
    let v = 0;
    for (let b = 0; b < n; b++) for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) v += (xs[o + i]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / m + 1e-5);
    rm[ch] = 0.9 * rm[ch]! + 0.1 * mean;
    rv[ch] = 0.9 * rv[ch]! + (0.1 * v) / (m - 1);
    let sdy = 0,
      sdyx = 0;
    for (let b = 0; b < n; b++)
      for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) {
        const xh = (xs[o + i]! - mean) * rstd;
        y[o + i] = xh * weight[ch]! + bias[ch]!;
        sdy += dy[o + i]!;
        sdyx += dy[o + i]! * xh;
      }
    dwt[ch] = sdyx;
    db[ch] = sdy;
    const g = weight[ch]! * rstd;
    for (let b = 0; b < n; b++)
      for (let i = 0, o = (b * c + ch) * plane; i < plane; i++) {
        const xh = (xs[o + i]! - mean) * rstd;
        dx[o + i] = g * (dy[o + i]! - sdy / m - (xh * sdyx) / m);
      }
  }
}

const rows: [string, number][] = [
  ['batch_norm.yaml training step (graph-run)', time(bn)],
  ['fused batch norm kernel (forward, running update, backward)', time(fusedBatchNorm)],
  ['relu training step (graph-run: the step without a layer worth the name)', time(relu)],
  [`conv2d 3x3 ${c}->${c} training step (graph-run)`, time(conv, 10)],
];
console.log(`batch normalisation of [${n}, ${c}, ${hw}, ${hw}], f32, CPU; median ms`);
for (const [name, ms] of rows) console.log(`${ms.toFixed(2).padStart(9)}  ${name}`);
const [a, b, r, k] = rows.map((x) => x[1]!);
console.log(`batch_norm.yaml (less the relu step) / fused: ${((a! - r!) / b!).toFixed(2)}x`);
console.log(
  `conv + batch norm: the norm is ${((100 * (a! - r!)) / (a! - r! + k!)).toFixed(1)}% as a graph, ${((100 * b!) / (b! + k!)).toFixed(1)}% fused`,
);
