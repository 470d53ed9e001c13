// `trace` labels on a graph with fan-out and a batch of 2 (a = x·w is used three times: twice by
// b = a * a, once by c = a + b): each use's contribution, the partial sums and the total of
// d loss / d a, the unbroadcast sum back to w's shape, and --sample with a batch size over 1.

import { describe, expect, it } from 'vitest';
import { compile, parseGraph, trace, UsageError, type Trace } from '../../runtime/index.js';

const FANOUT = `graph-run: 1
name: fanout
inputs:
  x: {shape: [batch]}
  y: {shape: [batch]}
params:
  w: {shape: [1], init: 0.5}
nodes:
  - {name: a, op: mul, inputs: [x, w]}
  - {name: b, op: mul, inputs: [a, a]}
  - {name: c, op: add, inputs: [a, b]}
outputs: [c]
loss:
  graph: std:losses/mse.yaml
  inputs: {pred: c, target: y}
optimizer:
  graph: std:optimizers/sgd.yaml
  with: {lr: 0.1}
training:
  data: {x: [1, 2, 3], y: [0, 1, 0]}
  epochs: 2
  batch_size: 2
`;

const session = () => compile(parseGraph(FANOUT, 'fanout.yaml'), { dtype: 'f64' });
const node = (t: Trace, label: string) => t.reverse.filter((r) => r.label === label);

/** By hand: c = a + a², L = mean((c - y)²) over the batch, a = x w. */
function byHand(xs: number[], ys: number[], w: number) {
  const a = xs.map((x) => x * w);
  const dc = a.map((ai, i) => (2 * (ai + ai * ai - ys[i]!)) / xs.length);
  const da = dc.map((d, i) => d * (1 + 2 * a[i]!));
  const dw = da.reduce((s, d, i) => s + d * xs[i]!, 0);
  return { a, dc, da, dw, throughB: dc.map((d, i) => d * a[i]!) };
}

describe('trace labels with fan-out and batches', () => {
  it('labels each use of a, the partial sum and the total, and sums them as the builder does', () => {
    const t = trace(session());
    expect(t.rows).toEqual({ start: 0, count: 2 });
    const h = byHand([1, 2], [0, 1], 0.5);
    const total = node(t, 'd loss / d a');
    expect(total).toHaveLength(1);
    expect(total[0]).toMatchObject({ role: 'gradient', rule: 'sum over uses', formula: 'grad(a via c) + grad(a via b) + grad(a via b)' });
    expect(total[0]!.value.data).toEqual(h.da);
    // Two contributions through b (a * a: one per operand), each dy * a.
    const parts = node(t, 'part of d loss / d a (through b)');
    expect(parts.map((p) => [p.role, p.partOf, p.formula])).toEqual([['contribution', 'a', 'dy * a'], ['contribution', 'a', 'dy * a']]);
    for (const p of parts) expect(p.value.data).toEqual(h.throughB);
    expect(node(t, 'partial sum of d loss / d a')[0]).toMatchObject({ role: 'partial-sum', partOf: 'a' });
    // The contribution through c is d loss / d c itself (add passes dy through): one node, three names.
    expect(node(t, 'd loss / d `loss/diff` = d loss / d c = d loss / d b')[0]!.value.data).toEqual(h.dc);
    // w has shape [1]: the gradient is summed over the batch (unbroadcast) and reshaped.
    const dw = node(t, 'd loss / d w')[0]!;
    expect(dw).toMatchObject({ rule: 'mul (unbroadcast)', from: 'a', formula: 'reshape(sum(dy * x, axis 0), [1])' });
    expect(dw.value.data[0]).toBeCloseTo(h.dw, 12);
    expect(t.updates[0]!.after.data[0]).toBeCloseTo(0.5 - 0.1 * h.dw, 12);
  });

  it('with batch size 2, --sample K trains the step on the batch holding row K (here the last, short batch)', () => {
    const t = trace(session(), { sample: 2 });
    expect(t).toMatchObject({ step: 1, batchIndex: 1, rows: { start: 2, count: 1 }, sample: 2 });
    const h = byHand([3], [0], 0.5);
    expect(node(t, 'd loss / d w')[0]!.value.data[0]).toBeCloseTo(h.dw, 12);
  });

  it('counts steps over epochs of ceil(3 / 2) = 2 batches: 4 steps in all', () => {
    expect(trace(session(), { step: 4 })).toMatchObject({ step: 4, steps: 4, epoch: 1, batchIndex: 1, rows: { start: 2, count: 1 } });
    expect(() => trace(session(), { step: 5 })).toThrow(UsageError);
    expect(() => trace(session(), { step: 5 })).toThrow('step 5 is beyond the training: fanout.yaml trains for 4 steps (2 epochs of 2 batches)');
    expect(() => trace(session(), { sample: 3 })).toThrow('sample 3 is beyond the data: fanout.yaml has 3 samples (0 to 2)');
    expect(() => trace(session(), { step: 0 })).toThrow(UsageError);
    expect(() => trace(session(), { step: 3, epochs: 1 })).toThrow('trains for 2 steps (1 epoch of 2 batches)');
  });
});
