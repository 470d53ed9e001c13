// Issue 13, defect 9: the library BCE keeps a finite gradient where a sigmoid saturates to
// exactly 0 or 1 (z = ±40 in f64, ±17 in f32), as PyTorch's BCELoss does; its forward value is
// unchanged (log clamped at -100).

import { describe, expect, it } from 'vitest';
import { compile, parseGraph } from '../../runtime/index.js';

const graph = (z: number, target: number) => `graph-run: 1
inputs:
  x: {shape: [batch]}
  t: {shape: [batch]}
params:
  w: {shape: [], init: ${z}}
nodes:
  - {name: z, op: mul, inputs: [x, w]}
  - {name: p, op: sigmoid, inputs: [z]}
outputs: [p]
loss: {graph: std:losses/bce.yaml, inputs: {pred: p, target: t}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: {x: [1], t: [${target}]}
  epochs: 1
`;

describe('BCE at a saturated sigmoid', () => {
  for (const dtype of ['f64', 'f32'] as const)
    for (const z of [40, -40, 17, -17])
      for (const target of [0, 1])
        it(`${dtype}, z = ${z}, target ${target}: a finite loss and a finite step (at z = 40 a NumericError before)`, () => {
          const s = compile(parseGraph(graph(z, target), 'bce.yaml'), { dtype });
          const losses = s.train();
          expect(Number.isFinite(losses[0]!.loss)).toBe(true);
          expect(losses[0]!.loss).toBeLessThanOrEqual(100);
          expect(Number.isFinite(s.parameters().w!.data[0]!)).toBe(true);
        });

  it("f64, z = 40, target 0: the loss before the step is PyTorch's clamped 100", () => {
    const s = compile(parseGraph(graph(40, 0), 'bce.yaml'), { dtype: 'f64' });
    // At p = 1 exactly PyTorch's gradient is 0 too (1e12 * sigmoid'(40) = 1e12 * 0): w stays, the loss is 100.
    expect(s.train()[0]!.loss).toBeCloseTo(100, 6);
    expect(s.parameters().w!.data[0]).toBe(40);
  });
});
