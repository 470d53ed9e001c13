// `trace` labels with fan-out and a batch of 2 (fixtures/fanout.yaml: a = x·w is used twice by
// b = a * a and once by c = a + b): each use's contribution, the partial sums, the total of
// d loss / d a, the unbroadcast sum back to w's shape, --sample with a batch size over 1; and an
// optimizer with state (momentum, fixtures/line.yaml), whose state the updates show.

import { describe, expect, it } from 'vitest';
import { compile, formatTrace, loadGraph, trace, UsageError, type Trace } from '../../runtime/index.js';

const FANOUT = 'test/trace/fixtures/fanout.yaml';
const session = () => compile(loadGraph(FANOUT), { dtype: 'f64' });
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
    expect(total[0]).toMatchObject({
      role: 'gradient',
      rule: 'sum over uses',
      formula: 'grad(a via c) + grad(a via b) + grad(a via b)',
    });
    expect(total[0]!.value.data).toEqual(h.da);
    // Two contributions through b (a * a: one per operand), each dy * a.
    const parts = node(t, 'part of d loss / d a (through b)');
    expect(parts.map((p) => [p.role, p.partOf, p.formula])).toEqual([
      ['contribution', 'a', 'dy * a'],
      ['contribution', 'a', 'dy * a'],
    ]);
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
    expect(trace(session(), { step: 4 })).toMatchObject({
      step: 4,
      steps: 4,
      epoch: 1,
      batchIndex: 1,
      rows: { start: 2, count: 1 },
    });
    expect(() => trace(session(), { step: 5 })).toThrow(UsageError);
    expect(() => trace(session(), { step: 5 })).toThrow(
      'step 5 is beyond the training: test/trace/fixtures/fanout.yaml trains for 4 steps (2 epochs of 2 batches)',
    );
    expect(() => trace(session(), { sample: 3 })).toThrow(
      'sample 3 is beyond the data: test/trace/fixtures/fanout.yaml has 3 samples (0 to 2)',
    );
    expect(() => trace(session(), { step: 0 })).toThrow(UsageError);
    expect(() => trace(session(), { step: 3, epochs: 1 })).toThrow('trains for 2 steps (1 epoch of 2 batches)');
  });
});

describe('trace of an optimizer with state', () => {
  it('shows each velocity before and after, and the update written out through it', () => {
    // y = w x + b, MSE, momentum 0.9, lr 0.1; step 1 on (1, 3), step 2 on (2, 5), by hand:
    // step 1: pred 1, d/dw = d/db = 2(1 - 3) = -4, v = -4, w = 1.4, b = 0.4;
    // step 2: pred 3.2, d/dw = 2(3.2 - 5)·2 = -7.2, d/db = -3.6, v = 0.9·-4 + g, w = 1.4 - 0.1 v.
    const t = trace(compile(loadGraph('test/trace/fixtures/line.yaml'), { dtype: 'f64' }), { step: 2 });
    const [w, b] = t.updates;
    expect(w).toMatchObject({ param: 'w', formula: 'w - 0.1 * (0.9 * velocity + grad(w))' });
    expect(w!.before.data[0]).toBeCloseTo(1.4, 12);
    expect(w!.gradient.data[0]).toBeCloseTo(-7.2, 12);
    expect(w!.after.data[0]).toBeCloseTo(1.4 - 0.1 * (0.9 * -4 - 7.2), 12);
    expect(w!.state).toHaveLength(1);
    expect(w!.state[0]).toMatchObject({ name: 'optimizer/w/velocity', formula: '0.9 * velocity + grad(w)' });
    expect(w!.state[0]!.before.data[0]).toBeCloseTo(-4, 12);
    expect(w!.state[0]!.after.data[0]).toBeCloseTo(0.9 * -4 - 7.2, 12);
    expect(b!.state[0]!.after.data[0]).toBeCloseTo(0.9 * -4 - 3.6, 12);
    expect(w!.nodes.map((n) => n.name)).toEqual([
      'optimizer/w/scaled',
      'optimizer/w/v_next',
      'optimizer/w/step',
      'optimizer/w/updated',
    ]);
    // The optimizer state is not a forward value.
    expect(t.forward.map((n) => n.name)).not.toContain('optimizer/w/velocity');
    expect(formatTrace(t)).toContain('      velocity after   -10.8  = 0.9 * velocity + grad(w)');
  });
});
