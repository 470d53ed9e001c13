// Internal ops (the reverse graph's helpers) are hidden from users but valid in graphs: a reverse
// graph printed by `graph-run grad` holds them and must load and run as it is.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { graphOpNames, internalOpNames, registry, userOpNames } from '../../runtime/ops/registry.js';
import { Session } from '../../runtime/session.js';

it('the internal ops are the *_grad helpers', () => {
  expect(internalOpNames).toEqual(
    [
      'clip_grad',
      'conv_input_grad',
      'conv_weight_grad',
      'max_pool2d_grad',
      'avg_pool2d_grad',
      'pad_grad',
      'dropout_grad',
      'gelu_grad',
      'leaky_relu_grad',
      'relu_grad',
      'sigmoid_grad',
      'slice_grad',
      'softplus_grad',
      'tanh_grad',
    ].sort(),
  );
  expect(internalOpNames.every((n) => registry[n].grad === 'none')).toBe(true);
});

it('are not offered: not among the user ops, the schema completions or the docs tables', () => {
  expect(userOpNames.filter((n) => internalOpNames.includes(n))).toEqual([]);
  const schema = readFileSync('schemas/graph.schema.json', 'utf8');
  const doc = readFileSync('docs/ops.md', 'utf8');
  for (const n of internalOpNames) {
    expect(schema).not.toContain(`"${n}"`);
    expect(doc).not.toContain(`| \`${n}\` |`);
  }
});

it('load and run in a graph, as a printed reverse graph uses them', () => {
  expect(graphOpNames).toEqual(expect.arrayContaining(internalOpNames));
  const model = parseGraph(
    [
      'inputs:',
      '  y: {shape: [3]}',
      '  dy: {shape: [3]}',
      'nodes:',
      '  - {name: g, op: sigmoid_grad, inputs: [y, dy]}',
      'outputs: [g]',
    ].join('\n'),
    'reverse.yaml',
  );
  const s = new Session(model, { dtype: 'f64' });
  const g = s.run(
    new Map([
      ['y', [0.5, 0.25, 1]],
      ['dy', [1, 2, 3]],
    ]),
    1,
  ).g!;
  expect(Array.from(g.data)).toEqual([0.25, 0.375, 0]);
});
