// Issue 13, defect 6 and 8 (optimizer.with keys): names that are JavaScript object keys are
// refused with a positioned error, wherever a graph uses them as a name; the checkpoint format
// keeps such a tensor name (a null-prototype header) instead of dropping it.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../runtime/index.js';
import { cli, expectPositioned, scratch } from './helpers.js';

const graph = (o: { param?: string; node?: string; query?: string; withKey?: string }) => `graph-run: 1
inputs:
  x: {shape: [batch, 2]}
  y: {shape: [batch]}
params:
  ${o.param ?? 'w'}: {shape: [2], init: 0.1}
nodes:
  - {name: ${o.node ?? 'pred'}, op: matmul, inputs: [x, ${o.param ?? 'w'}]}
outputs: [${o.node ?? 'pred'}]
loss: {graph: std:losses/mse.yaml, inputs: {pred: ${o.node ?? 'pred'}, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {${o.withKey ?? 'lr'}: 0.1}}
training:
  data: {x: [[1, 2], [3, 4]], y: [1, 2]}
  epochs: 1
predict:
  ${o.query ?? 'q'}: {x: [1, 2]}
`;

describe('names that are JavaScript object keys', () => {
  const cases: [string, Parameters<typeof graph>[0], number, number][] = [
    ['a parameter named __proto__', { param: '__proto__' }, 6, 3],
    ['a node named constructor', { node: 'constructor' }, 8, 12],
    ['a node named toString', { node: 'toString' }, 8, 12],
    ['a node named valueOf', { node: 'valueOf' }, 8, 12],
    ['a node named hasOwnProperty', { node: 'hasOwnProperty' }, 8, 12],
    ['a predict query named toString', { query: 'toString' }, 16, 3],
    ['an optimizer.with key constructor', { withKey: 'constructor' }, 11, 52],
  ];
  for (const [what, o, line, col] of cases)
    it(`${what}: a positioned NameError, no stack trace`, async () => {
      const dir = scratch({ 'net.yaml': graph(o) });
      const r = await cli(['validate', join(dir, 'net.yaml')]);
      expectPositioned(r, /cannot be used as a name/);
      expect(r.err).toContain(`net.yaml:${line}:${col}: NameError`);
      expect(r.err).not.toMatch(/UsageGraphError/);
    });

  it('an attribute key __proto__ is refused at its position', async () => {
    const dir = scratch({
      'net.yaml': `graph-run: 1\ninputs:\n  x: {shape: [2]}\nnodes:\n  - {name: y, op: sum, inputs: [x], attrs: {__proto__: 1}}\noutputs: [y]\n`,
    });
    const r = await cli(['validate', join(dir, 'net.yaml')]);
    expectPositioned(r, /"__proto__" cannot be used as a name/);
  });

  it('a safetensors tensor named __proto__ round-trips', () => {
    const bytes = encodeSafetensors([
      { name: '__proto__', dtype: 'F32', shape: [1], data: new Float32Array([3]) },
      { name: 'constructor', dtype: 'F32', shape: [1], data: new Float32Array([4]) },
    ]);
    const f = decodeSafetensors(bytes);
    expect([...f.tensors.keys()].sort()).toEqual(['__proto__', 'constructor']);
    expect(f.tensors.get('__proto__')!.data[0]).toBe(3);
  });
});
