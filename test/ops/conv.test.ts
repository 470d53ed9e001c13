// Convolution, pooling and padding beyond the PyTorch cases of test/reference/conv.json (which
// ops.test.ts and the WebGPU suite run): the f32 fast tier (im2col + the SIMD gemm, the bias
// folded into the product) against the reference kernels at larger seeded shapes, forward and
// gradients; and every bad input a positioned error, exit 1, naming the node and the shapes.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { runCli } from '../support/cli.js';
import { maxRelErr } from './helpers.js';

const u = 'init: {uniform: {low: -1, high: 1}}';

/** y = op(x, k, b?) with seeded parameters, L = sum(y * r); gradients to x, k (and b). */
function graph(op: string, x: number[], k: number[] | null, bias: boolean, attrs: string, out: number[]): string {
  const ins = ['x', ...(k ? ['k'] : []), ...(bias ? ['b'] : [])];
  return [
    'graph-run: 1',
    'seed: 3',
    'params:',
    `  x: {shape: ${JSON.stringify(x)}, ${u}}`,
    ...(k ? [`  k: {shape: ${JSON.stringify(k)}, ${u}}`] : []),
    ...(bias ? [`  b: {shape: [${k![0]}], ${u}}`] : []),
    `  r: {shape: ${JSON.stringify(out)}, ${u}, trainable: false}`,
    'nodes:',
    `  - {name: y, op: ${op}, inputs: ${JSON.stringify(ins)}, attrs: ${attrs}}`,
    '  - {name: yr, op: mul, inputs: [y, r]}',
    '  - {name: L, op: sum, inputs: [yr]}',
    'outputs: [y]',
    'feed: {}',
    `gradients: {of: L, wrt: ${JSON.stringify(ins)}}`,
    '',
  ].join('\n');
}

const fastCases: [string, string][] = [
  ['conv2d 3x3 padded, bias', graph('conv2d', [3, 4, 13, 11], [6, 4, 3, 3], true, '{padding: 1}', [3, 6, 13, 11])],
  [
    'conv2d groups 2, stride 2, dilation, asymmetric padding',
    graph(
      'conv2d',
      [2, 4, 12, 10],
      [6, 2, 3, 2],
      true,
      '{groups: 2, stride: [2, 1], dilation: [1, 2], padding: [1, 0, 2, 1]}',
      [2, 6, 7, 9],
    ),
  ],
  [
    'conv2d 3x3 same, dilated along H, groups 2 (width-keeping runs)',
    graph('conv2d', [2, 4, 9, 7], [6, 2, 3, 3], true, '{groups: 2, dilation: [2, 1], padding: same}', [2, 6, 9, 7]),
  ],
  ['conv2d 1x1, no bias', graph('conv2d', [2, 8, 9, 9], [5, 8, 1, 1], false, '{}', [2, 5, 9, 9])],
  [
    'conv2d 5x5 same, depthwise',
    graph('conv2d', [2, 3, 10, 12], [3, 1, 5, 5], true, '{groups: 3, padding: same}', [2, 3, 10, 12]),
  ],
  ['conv1d stride 3', graph('conv1d', [3, 4, 40], [6, 4, 5], true, '{stride: 3, padding: 2}', [3, 6, 14])],
  [
    'max_pool2d 3x3/2 padded',
    graph('max_pool2d', [2, 3, 11, 10], null, false, '{kernel: 3, stride: 2, padding: 1}', [2, 3, 6, 5]),
  ],
  ['avg_pool2d ceil', graph('avg_pool2d', [2, 3, 11, 10], null, false, '{kernel: 2, ceil_mode: true}', [2, 3, 6, 5])],
  ['pad reflect', graph('pad', [2, 3, 9, 8], null, false, '{pads: [[2, 3], [4, 1]], mode: reflect}', [2, 3, 14, 13])],
];

describe('the fast CPU tier agrees with the reference kernels (f32)', () => {
  for (const [name, yaml] of fastCases)
    it(name, () => {
      const run = (fast: boolean) => {
        const s = new Session(parseGraph(yaml, 'case.yaml'), { dtype: 'f32', fast });
        return { y: s.run(new Map(), 1).y!, g: s.gradients() };
      };
      const fast = run(true),
        ref = run(false);
      expect(maxRelErr(fast.y.data, Array.from(ref.y.data))).toBeLessThanOrEqual(1e-5);
      for (const [k, t] of Object.entries(ref.g))
        expect(maxRelErr(fast.g[k]!.data, Array.from(t.data)), `d/d${k}`).toBeLessThanOrEqual(1e-5);
    });
});

const dir = mkdtempSync(join(tmpdir(), 'graph-run-conv-'));

/** A graph with input x and one node (on line 6); returns the CLI's exit code and error text. */
async function bad(x: string, params: string, node: string): Promise<{ code: number; err: string }> {
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    [
      'graph-run: 1',
      'inputs:',
      `  x: {shape: ${x}}`,
      'params:',
      `  ${params}`,
      `nodes:\n  - ${node}`,
      'outputs: [c1]',
      '',
    ].join('\n'),
  );
  const r = await runCli([file]);
  return { code: r.code, err: r.err };
}

describe('bad input: positioned errors, exit 1', () => {
  const k = (shape: string) => `k: {shape: ${shape}, init: 0.1}`;
  const cases: [string, string, string, string, RegExp][] = [
    [
      "weight channels that do not match the input's (both shapes)",
      '[batch, 3, 8, 8]',
      k('[4, 2, 3, 3]'),
      '{name: c1, op: conv2d, inputs: [x, k]}',
      /bad\.yaml:7:5: ShapeError in node "c1": weight \[4, 2, 3, 3\] takes 2 input channels.*input \[batch, 3, 8, 8\] has 3/,
    ],
    [
      'a kernel larger than the padded input',
      '[batch, 3, 8, 8]',
      k('[4, 3, 11, 3]'),
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {padding: 1}}',
      /7:5: ShapeError in node "c1": the kernel \(11\) is larger than the padded input along H \(8 \+ 2 padding = 10\)/,
    ],
    [
      'stride 0',
      '[batch, 3, 8, 8]',
      k('[4, 3, 3, 3]'),
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {stride: 0}}',
      /7:\d+: AttrError in node "c1": attribute stride must be >= 1/,
    ],
    [
      'channels not divisible by groups',
      '[batch, 3, 8, 8]',
      k('[4, 3, 3, 3]'),
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {groups: 2}}',
      /7:5: ShapeError in node "c1": the input's 3 channels \(input \[batch, 3, 8, 8\]\) are not divisible by groups 2/,
    ],
    [
      'a bias that is not one per output channel',
      '[batch, 3, 8]',
      `${k('[4, 3, 3]')}\n  b: {shape: [3], init: 0}`,
      '{name: c1, op: conv1d, inputs: [x, k, b]}',
      /8:5: ShapeError in node "c1": bias \[3\] must be \[4\]/,
    ],
    [
      'a pooling window larger than the padded input',
      '[batch, 3, 4, 4]',
      k('[1]'),
      '{name: c1, op: max_pool2d, inputs: [x], attrs: {kernel: 5}}',
      /7:5: ShapeError in node "c1": the kernel \(5\) is larger than the padded input along H \(4 \+ 0 padding = 4\)/,
    ],
    [
      'pool padding over half the kernel',
      '[batch, 3, 8, 8]',
      k('[1]'),
      '{name: c1, op: avg_pool2d, inputs: [x], attrs: {kernel: 2, padding: 2}}',
      /7:5: AttrError in node "c1": padding \[2, 2\] must be at most half the kernel \[2, 2\]/,
    ],
    [
      'reflect padding as wide as the axis',
      '[batch, 3, 4, 4]',
      k('[1]'),
      '{name: c1, op: pad, inputs: [x], attrs: {pads: [[4, 0]], mode: reflect}}',
      /7:5: ShapeError in node "c1": reflect padding \[4, 0\] must be smaller than axis 3 of \[batch, 3, 4, 4\] \(4\)/,
    ],
    [
      'padding the batch axis',
      '[batch, 4]',
      k('[1]'),
      '{name: c1, op: pad, inputs: [x], attrs: {pads: [[1, 0], [0, 0]]}}',
      /7:5: ShapeError in node "c1": pad cannot widen the batch axis 0/,
    ],
  ];
  for (const [name, x, params, node, want] of cases)
    it(name, async () => {
      const r = await bad(x, params, node);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(want);
      expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    });
});

describe('std:layers/conv_block.yaml', () => {
  it('is conv2d (same padding) + bias + ReLU, its parameters named by the use site', () => {
    const text = [
      'graph-run: 1',
      'seed: 5',
      'inputs:',
      '  x: {shape: [batch, 2, 6, 5]}',
      'params:',
      `  k: {shape: [3, 2, 5, 5], ${u}}`,
      `  b: {shape: [3], ${u}}`,
      'nodes:',
      '  - {name: block1, graph: std:layers/conv_block.yaml, inputs: {x: x}, with: {in_channels: 2, out_channels: 3, kernel: 5}}',
      '  - {name: z, op: conv2d, inputs: [x, k, b], attrs: {padding: same}}',
      '  - {name: direct, op: relu, inputs: [z]}',
      'outputs: [block1, direct]',
      '',
    ].join('\n');
    const s = new Session(parseGraph(text, join(dir, 'block.yaml')), { dtype: 'f64' });
    expect(s.params.get('block1/k')!.length).toBe(3 * 2 * 5 * 5);
    expect(s.params.get('block1/b')!.length).toBe(3);
    // The same weights in both: then the block and the direct nodes agree.
    s.params.get('block1/k')!.set(s.params.get('k')!);
    s.params.get('block1/b')!.set(s.params.get('b')!);
    const x = Array.from({ length: 2 * 2 * 6 * 5 }, (_, i) => Math.sin(i));
    const out = s.run(new Map([['x', x]]), 2);
    expect(out.block1!.shape).toEqual([2, 3, 6, 5]);
    expect(Array.from(out.block1!.data)).toEqual(Array.from(out.direct!.data));
    expect(Math.max(...out.block1!.data)).toBeGreaterThan(0);
  });
});
