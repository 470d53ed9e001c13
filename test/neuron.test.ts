// graphs/neuron.yaml: z = w.x, loss = (z - y)^2, d loss / d w = 2 (z - y) x, computed here
// by hand and compared with PyTorch's autograd (reference/seed/neuron_torch.py, output in
// reference/seed/neuron_torch.json).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, loadGraph, parseGraph } from '../runtime/index.js';
import torch from './reference/seed/neuron_torch.json' with { type: 'json' };

const yaml = readFileSync('graphs/neuron.yaml', 'utf8');

/** neuron.yaml with another starting w and another feed (the file's own text otherwise). */
function variant(x: number[], y: number, w: number[]): string {
  const init = 'init: {values: [1, 1]}';
  const feed = /feed:\n {2}x: \[2, 3\]\n {2}y: 10\n/;
  if (!yaml.includes(init) || !feed.test(yaml)) throw new Error('neuron.yaml changed; update variant()');
  return yaml
    .replace(init, `init: {values: [${w.join(', ')}]}`)
    .replace(feed, `feed:\n  x: [${x.join(', ')}]\n  y: ${y}\n`);
}

/** The gradient by hand: d (w.x - y)^2 / dw = 2 (w.x - y) x. */
function byHand(x: number[], y: number, w: number[]): { z: number; loss: number; grad: number[] } {
  const z = w.reduce((s, wi, i) => s + wi * x[i]!, 0);
  return { z, loss: (z - y) ** 2, grad: x.map((xi) => 2 * (z - y) * xi) };
}

describe('neuron.yaml', () => {
  it('gives d loss / d w = 2 (z - y) x = (-20, -30) at x = (2, 3), y = 10, w = (1, 1)', () => {
    const want = byHand([2, 3], 10, [1, 1]);
    expect(want.grad).toEqual([-20, -30]);
    for (const dtype of ['f32', 'f64'] as const) {
      const s = compile(loadGraph('graphs/neuron.yaml'), { dtype });
      const g = s.gradients();
      expect(g.w!.shape).toEqual([2]);
      expect(Array.from(g.w!.data)).toEqual(want.grad);
    }
  });

  it.each(torch.cases.map((c, i) => ({ ...c, i })))(
    'matches PyTorch autograd and the hand computation (case $i)',
    (c) => {
      const hand = byHand(c.x, c.y, c.w);
      // The hand formula and PyTorch agree (so neither reference is wrong).
      hand.grad.forEach((g, i) => expect(g).toBeCloseTo(c.grad_w[i]!, 12));
      const s = compile(parseGraph(variant(c.x, c.y, c.w), 'neuron_variant.yaml'), { dtype: 'f64' });
      const g = Array.from(s.gradients().w!.data);
      g.forEach((v, i) => expect(Math.abs(v - c.grad_w[i]!)).toBeLessThanOrEqual(1e-12));
      const outs = s.run(
        new Map([
          ['x', c.x],
          ['y', [c.y]],
        ]),
        1,
      );
      expect(Math.abs(outs.z!.data[0]! - c.z)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(outs.loss!.data[0]! - c.loss)).toBeLessThanOrEqual(1e-12);
    },
  );

  it('does not change w when asked for gradients', () => {
    const s = compile(loadGraph('graphs/neuron.yaml'), { dtype: 'f64' });
    s.gradients();
    expect(Array.from(s.parameters().w!.data)).toEqual([1, 1]);
  });
});
