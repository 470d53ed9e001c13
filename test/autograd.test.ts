// graphs/autograd.yaml: y = sum(2x) at x = (1, 2, 3); dy/dx = (2, 2, 2) by hand (and by
// PyTorch's y.backward() in the tutorial), through the library and through the CLI.

import { describe, expect, it } from 'vitest';
import { compile, loadGraph, parseGraph } from '../runtime/index.js';
import { main } from '../runtime/cli/main.js';

describe('autograd.yaml', () => {
  it.each(['f32', 'f64'] as const)('gives dy/dx = [2, 2, 2] in %s', (dtype) => {
    const s = compile(loadGraph('graphs/autograd.yaml'), { dtype });
    const g = s.gradients();
    expect(Object.keys(g)).toEqual(['x']);
    expect(g.x!.shape).toEqual([3]);
    expect(Array.from(g.x!.data)).toEqual([2, 2, 2]);
  });

  it('does not depend on where x is: d sum(2x)/dx is 2 at any x', () => {
    const text = `
inputs: {x: {shape: [4]}}
nodes:
  - {name: twice, op: mul, inputs: [2, x]}
  - {name: y, op: sum, inputs: [twice]}
outputs: [y]
feed: {x: [-7, 0, 0.5, 1000]}
gradients: {of: y, wrt: [x]}
`;
    const g = compile(parseGraph(text), { dtype: 'f64' }).gradients();
    expect(Array.from(g.x!.data)).toEqual([2, 2, 2, 2]);
  });

  it('prints y = 12 and the gradient as JSON from the CLI', async () => {
    const out: string[] = [];
    expect(
      await main(
        ['graphs/autograd.yaml', '--json'],
        (s) => out.push(s),
        () => {},
      ),
    ).toBe(0);
    const doc = JSON.parse(out.join('\n')) as Record<string, Record<string, { shape: number[]; data: number[] }>>;
    expect(doc.gradients).toEqual({ x: { shape: [3], data: [2, 2, 2] } });
    expect(doc.outputs!.y).toEqual({ shape: [], data: [12] }); // 2 * (1 + 2 + 3)
  });
});
