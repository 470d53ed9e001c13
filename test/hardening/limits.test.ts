// Issue 13, defect 8: values that validate but cannot run — non-finite learning rates, endless
// epochs, infinite or huge shapes — are positioned SchemaErrors.

import { describe, expect, it } from 'vitest';
import { GraphErrors, parseGraph } from '../../runtime/index.js';

const graph = (o: { lr?: string; epochs?: string; shape?: string }) => `graph-run: 1
inputs:
  x: {shape: [batch, 2]}
  y: {shape: [batch]}
params:
  w: {shape: ${o.shape ?? '[2]'}, init: 0.1}
nodes:
  - {name: pred, op: matmul, inputs: [x, w]}
outputs: [pred]
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: ${o.lr ?? '0.1'}}}
training:
  data: {x: [[1, 2], [3, 4]], y: [1, 2]}
  epochs: ${o.epochs ?? '1'}
`;

const firstError = (text: string) => {
  try {
    parseGraph(text, 'net.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(GraphErrors);
    return (e as GraphErrors).errors[0]!;
  }
  throw new Error('validated');
};

describe('non-finite and absurd values', () => {
  for (const lr of ['.nan', '.inf', '-.inf', '1e309'])
    it(`lr: ${lr}`, () => {
      const e = firstError(graph({ lr }));
      expect(e.kind).toBe('SchemaError');
      expect(e.message).toMatch(/is not a finite number/);
      expect([e.line, e.col]).toEqual([11, 56]);
    });

  it('epochs: 1e309 and epochs: 1e12', () => {
    expect(firstError(graph({ epochs: '1e309' })).message).toMatch(/not a finite number/);
    const e = firstError(graph({ epochs: '1e12' }));
    expect(e.message).toMatch(/epochs 1000000000000 is over the limit/);
    expect(e.line).toBe(14);
  });

  it('shape [1e309], a dimension past i32, a parameter past 2^28 elements', () => {
    expect(firstError(graph({ shape: '[1e309]' })).message).toMatch(/not a finite number/);
    expect(firstError(graph({ shape: '[3000000000]' })).message).toMatch(/dimension 3000000000 is over the limit/);
    const e = firstError(graph({ shape: '[600000000]' }));
    expect(e.message).toMatch(/holds 600000000 elements, over the limit/);
    expect(e.line).toBe(6);
  });
});

describe('--epochs', () => {
  it('past 1e9 (or 1e309) is a usage error, as epochs: in a graph', async () => {
    const { cli } = await import('./helpers.js');
    for (const n of ['1e309', '1e12', '10000000000']) {
      const r = await cli(['run', 'graphs/gender.yaml', '--epochs', n]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--epochs must be a whole number from 0 to 1000000000/);
    }
  });
});

describe('intermediate values past the per-tensor limit', () => {
  const outer = (batch: number) => `graph-run: 1
inputs:
  x: {shape: [batch, 1]}
params:
  a: {shape: [20000, 1], init: 0.1}
  b: {shape: [1, 20000], init: 0.1}
nodes:
  - {name: outer, op: matmul, inputs: [a, b]}
  - {name: s, op: sum, inputs: [outer]}
  - {name: y, op: mul, inputs: [x, s]}
  - {name: wide, op: broadcast_to, inputs: [y], attrs: {shape: [batch, 20000]}}
outputs: [wide]
loss: {op: mean, inputs: [wide]}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: {x: [[1]]}
  epochs: 1
  batch_size: ${batch}
`;
  it('a 20000 x 20000 product is refused at validation, at its node, not with a RangeError in the run', () => {
    const e = firstError(outer(1));
    expect(e.kind).toBe('ShapeError');
    expect(e.nodeName).toBe('outer');
    expect(e.message).toMatch(/would hold 4\.000e\+8 values at batch size 1 \(\[20000, 20000\]\), over the limit/);
    expect([e.line, e.col]).toEqual([8, 5]);
  });
});
