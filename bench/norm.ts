// Layer and RMS normalisation as library graphs (graphs/lib/layers/layer_norm.yaml, rms_norm.yaml:
// reductions, elementwise ops and their reverse nodes) against what a fused op would cost: one
// hand-written f32 kernel doing the forward and backward passes a row at a time (the kernel a
// `layer_norm` op would run), timed in the same process on the same data. For proportion, the
// product that follows a norm in a transformer's MLP ([rows, d] · [d, 4d]), forward and backward
// through graph-run. Medians of repeated runs.
// Run: npx tsx bench/norm.ts [rows] [d]      (default 2048 rows of 256)
import { parseGraph } from '../runtime/index.js';
import { Session } from '../runtime/session.js';
import { median, prng } from './stats.js';

const rows = Number(process.argv[2] ?? 2048),
  d = Number(process.argv[3] ?? 256);
const rnd = prng(1);
const xs = Float32Array.from({ length: rows * d }, () => rnd() * 4 - 2);

function time(f: () => void, reps = 30): number {
  for (let i = 0; i < 3; i++) f();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/** x -> y (body) -> L = sum(y * w); gradients() runs the forward and reverse graphs. */
function session(body: string, outCols: number, wrt: string[]): Session {
  const yaml = [
    'graph-run: 1',
    'params:',
    `  x: {shape: [${rows}, ${d}], init: 0}`,
    `  w: {shape: [${rows}, ${outCols}], init: 0.5, trainable: false}`,
    `  v: {shape: [${d}, ${4 * d}], init: 0.01}`,
    'nodes:',
    body,
    '  - {name: yw, op: mul, inputs: [y, w]}',
    '  - {name: L, op: sum, inputs: [yw]}',
    'outputs: [y]',
    'feed: {}',
    `gradients: {of: L, wrt: ${JSON.stringify(wrt)}}`,
  ];
  const s = new Session(parseGraph(`${yaml.join('\n')}\n`, 'norm.yaml'), { dtype: 'f32' });
  s.params.get('x')!.set(xs);
  return s;
}

const use = (layer: string) => `  - {name: y, graph: std:layers/${layer}.yaml, inputs: {x: x}, with: {dim: ${d}}}`;
const ln = session(use('layer_norm'), d, ['x', 'y/weight', 'y/bias']);
const rms = session(use('rms_norm'), d, ['x', 'y/weight']);
const mm = session('  - {name: y, op: matmul, inputs: [x, v]}', 4 * d, ['x', 'v']);

// The fused kernels: forward (keeping mean and rstd per row) and backward in one pass per row,
// f32 storage and f64 accumulation, as graph-run's reductions.
const y = new Float32Array(rows * d),
  dx = new Float32Array(rows * d),
  dwt = new Float32Array(d),
  db = new Float32Array(d),
  weight = new Float32Array(d).fill(1),
  dy = new Float32Array(rows * d).fill(0.5);
function fusedLayerNorm(rmsOnly: boolean): void {
  dwt.fill(0);
  db.fill(0);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let mean = 0;
    if (!rmsOnly) {
      for (let j = 0; j < d; j++) mean += xs[o + j]!;
      mean /= d;
    }
    let v = 0;
    for (let j = 0; j < d; j++) v += (xs[o + j]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / d + 1e-5);
    let sdy = 0,
      sdyx = 0;
    for (let j = 0; j < d; j++) {
      const xh = (xs[o + j]! - mean) * rstd;
      y[o + j] = xh * weight[j]!;
      const g = dy[o + j]! * weight[j]!;
      dwt[j]! += dy[o + j]! * xh;
      db[j]! += dy[o + j]!;
      sdy += g;
      sdyx += g * xh;
    }
    for (let j = 0; j < d; j++) {
      const xh = (xs[o + j]! - mean) * rstd;
      const g = dy[o + j]! * weight[j]!;
      dx[o + j] = rstd * (g - (rmsOnly ? 0 : sdy / d) - (xh * sdyx) / d);
    }
  }
}

// A transformer block on the same rows ([rows / 64, 64, d]: two layer norms, attention, MLP),
// forward and backward with respect to every parameter: the share the norms take of a step.
const seq = 64;
const blockParams = ['ln1/weight', 'ln1/bias', 'ln2/weight', 'ln2/bias', 'w1', 'b1', 'w2', 'b2'].concat(
  ['wq', 'wk', 'wv', 'wo', 'bq', 'bk', 'bv', 'bo'].map((p) => `attn/${p}`),
);
const block = new Session(
  parseGraph(
    [
      'graph-run: 1',
      'params:',
      `  x: {shape: [${rows / seq}, ${seq}, ${d}], init: {normal: {std: 1}}}`,
      'nodes:',
      `  - {name: y, graph: std:layers/transformer_block.yaml, inputs: {x: x}, with: {dim: ${d}, heads: 4, head_dim: ${d / 4}, seq: ${seq}, hidden: ${4 * d}}}`,
      '  - {name: L, op: sum, inputs: [y]}',
      'outputs: [y]',
      'feed: {}',
      `gradients: {of: L, wrt: ${JSON.stringify(['x', ...blockParams.map((p) => `y/${p}`)])}}`,
      '',
    ].join('\n'),
    'block.yaml',
  ),
  { dtype: 'f32' },
);

const rowsOut: [string, number][] = [
  ['layer_norm.yaml (graph-run, forward + backward)', time(() => ln.gradients())],
  ['fused layer norm kernel (forward + backward)', time(() => fusedLayerNorm(false))],
  ['rms_norm.yaml (graph-run, forward + backward)', time(() => rms.gradients())],
  ['fused RMS norm kernel (forward + backward)', time(() => fusedLayerNorm(true))],
  [`matmul [${rows}, ${d}]·[${d}, ${4 * d}] (graph-run, forward + backward)`, time(() => mm.gradients(), 10)],
  [
    `transformer_block.yaml on [${rows / seq}, ${seq}, ${d}] (graph-run, forward + backward)`,
    time(() => block.gradients(), 5),
  ],
];
console.log(`normalisation over ${rows} rows of ${d}, f32, CPU; median ms`);
for (const [name, ms] of rowsOut) console.log(`${ms.toFixed(2).padStart(9)}  ${name}`);
const [a, b, c, e, m, blk] = rowsOut.map((r) => r[1]);
console.log(`layer_norm.yaml / fused: ${(a! / b!).toFixed(2)}x; rms_norm.yaml / fused: ${(c! / e!).toFixed(2)}x`);
console.log(`layer_norm.yaml / matmul: ${(a! / m!).toFixed(2)}; fused / matmul: ${(b! / m!).toFixed(2)}`);
console.log(
  `two layer norms in a block: ${((200 * a!) / blk!).toFixed(1)}% of its step as graphs, ${((200 * b!) / blk!).toFixed(1)}% fused`,
);
