// Memory of batched evaluation: a 784-128-10 MLP evaluated on 20,000 rows in one batch or in
// batches of N. Run each size in its own process and compare the peak RSS, e.g.
//   /usr/bin/time -f %M npx tsx bench/eval-memory.ts 20000
//   /usr/bin/time -f %M npx tsx bench/eval-memory.ts 64
// (the loss is the same; the evaluation plan's buffers follow the batch, not the data).
import { arrayDataset, compile, parseGraph } from '../runtime/index.js';
const bs = Number(process.argv[2] ?? 64);
const N = 20000;
const model = parseGraph(
  `graph-run: 1
name: mlp
seed: 1
inputs: {x: {shape: [batch, 784]}, y: {shape: [batch], dtype: i32}}
params:
  w1: {shape: [128, 784], init: {normal: {std: 0.05}}}
  b1: {shape: [128], init: 0}
  w2: {shape: [10, 128], init: {normal: {std: 0.05}}}
  b2: {shape: [10], init: 0}
nodes:
  - {name: z1, op: matmul, inputs: [x, w1], attrs: {transpose_b: true}}
  - {name: s1, op: add, inputs: [z1, b1]}
  - {name: h, op: relu, inputs: [s1]}
  - {name: z2, op: matmul, inputs: [h, w2], attrs: {transpose_b: true}}
  - {name: logits, op: add, inputs: [z2, b2]}
outputs: [logits]
loss: {graph: std:losses/cross_entropy.yaml, inputs: {pred: logits, target: y}}
`,
  'bench/eval-memory.yaml',
);
const x = new Float32Array(N * 784);
for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
const y = Int32Array.from({ length: N }, (_, i) => i % 10);
const s = compile(model);
const data = arrayDataset(model, { x, y }, { float: 'f32' });
const before = process.memoryUsage().rss;
const t0 = performance.now();
const r = s.evaluateData(data, bs);
console.log(
  JSON.stringify({
    bs,
    loss: r.loss,
    ms: Math.round(performance.now() - t0),
    rssBeforeMiB: Math.round(before / 1048576),
  }),
);
