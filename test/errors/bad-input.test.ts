// The bad inputs of the convolution, pooling and sequence-model ops, through the CLI: each a
// positioned error naming the node, exit 1, no stack trace (test/ops/conv.test.ts and
// attention.test.ts hold the first of each kind; these are the other ops and forms). Ids outside
// an embedding's table computed inside the graph stop a CPU run at the node with the id; on
// WebGPU, where a kernel cannot stop a run, such an id reads a row of zeros, never memory outside
// the table, and fed ids are checked on the host first (the CPU's error).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { probeWebGpu } from '../webgpu/device.js';
import { cli, STACK } from './expect-error.js';

const tmp = mkdtempSync(join(tmpdir(), 'graph-run-bad-input-'));

/** A graph of input x, parameter k and one node c1 (at line 7, column 5). */
function graph(x: string, k: string, node: string): string {
  return `graph-run: 1\ninputs:\n  x: {shape: ${x}}\nparams:\n  k: {shape: ${k}, init: 0.1}\nnodes:\n  - ${node}\noutputs: [c1]\n`;
}

async function fails(name: string, text: string, want: RegExp, args: string[] = []): Promise<void> {
  const file = join(tmp, `${name}.yaml`);
  writeFileSync(file, text);
  const r = await cli([file, ...args]);
  expect(r.code, r.err).toBe(1);
  expect(r.out).toBe('');
  expect(r.err).toMatch(want);
  expect(r.err.startsWith(`${file}:`), r.err).toBe(true);
  expect(r.err).not.toMatch(STACK);
}

describe('convolution and pooling', () => {
  const cases: [string, string, string, string, RegExp][] = [
    [
      'conv1d: a kernel larger than the padded input',
      '[batch, 3, 8]',
      '[4, 3, 11]',
      '{name: c1, op: conv1d, inputs: [x, k], attrs: {padding: 1}}',
      /:7:5: ShapeError in node "c1": the kernel \(11\) is larger than the padded input along W \(8 \+ 2 padding = 10\)/,
    ],
    [
      'conv2d: a dilated kernel larger than the input',
      '[batch, 3, 2, 8]',
      '[4, 3, 3, 3]',
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {dilation: 2}}',
      /:7:5: ShapeError in node "c1": the kernel \(3 dilated by 2: 5\) is larger than the padded input along H \(2 \+ 0 padding = 2\)/,
    ],
    [
      'avg_pool2d: a window larger than the padded input',
      '[batch, 3, 4, 4]',
      '[1]',
      '{name: c1, op: avg_pool2d, inputs: [x], attrs: {kernel: 5}}',
      /:7:5: ShapeError in node "c1": the kernel \(5\) is larger than the padded input along H \(4 \+ 0 padding = 4\)/,
    ],
    [
      'conv1d: stride 0',
      '[batch, 3, 8]',
      '[4, 3, 3]',
      '{name: c1, op: conv1d, inputs: [x, k], attrs: {stride: 0}}',
      /:7:60: AttrError in node "c1": attribute stride must be >= 1/,
    ],
    [
      'max_pool2d: stride 0',
      '[batch, 3, 8, 8]',
      '[1]',
      '{name: c1, op: max_pool2d, inputs: [x], attrs: {kernel: 2, stride: 0}}',
      /:7:72: AttrError in node "c1": attribute stride must be >= 1/,
    ],
    [
      'avg_pool2d: stride 0 along W',
      '[batch, 3, 8, 8]',
      '[1]',
      '{name: c1, op: avg_pool2d, inputs: [x], attrs: {kernel: 2, stride: [1, 0]}}',
      /:7:76: AttrError in node "c1": attribute stride\[1\] must be >= 1/,
    ],
    [
      'conv2d: a stride that is not a whole number',
      '[batch, 3, 8, 8]',
      '[4, 3, 3, 3]',
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {stride: 2.5}}',
      /:7:60: AttrError in node "c1": attribute stride must be integer or array/,
    ],
    [
      'max_pool2d: kernel 0',
      '[batch, 3, 8, 8]',
      '[1]',
      '{name: c1, op: max_pool2d, inputs: [x], attrs: {kernel: 0}}',
      /:7:61: AttrError in node "c1": attribute kernel must be >= 1/,
    ],
    [
      'conv2d: dilation 0',
      '[batch, 3, 8, 8]',
      '[4, 3, 3, 3]',
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {dilation: 0}}',
      /:7:62: AttrError in node "c1": attribute dilation must be >= 1/,
    ],
    [
      'conv2d: groups 0',
      '[batch, 3, 8, 8]',
      '[4, 3, 3, 3]',
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {groups: 0}}',
      /:7:60: AttrError in node "c1": attribute groups must be >= 1/,
    ],
    [
      'conv1d: input channels not divisible by groups',
      '[batch, 3, 8]',
      '[4, 3, 3]',
      '{name: c1, op: conv1d, inputs: [x, k], attrs: {groups: 2}}',
      /:7:5: ShapeError in node "c1": the input's 3 channels \(input \[batch, 3, 8\]\) are not divisible by groups 2/,
    ],
    [
      'conv2d: output channels not divisible by groups',
      '[batch, 4, 8, 8]',
      '[3, 2, 3, 3]',
      '{name: c1, op: conv2d, inputs: [x, k], attrs: {groups: 2}}',
      /:7:5: ShapeError in node "c1": the weight's 3 output channels \(weight \[3, 2, 3, 3\]\) are not divisible by groups 2/,
    ],
  ];
  for (const [name, x, k, node, want] of cases)
    it(name, async () => {
      await fails(name.replace(/\W+/g, '-'), graph(x, k, node), want);
    });
});

const ids = (feed: string, shift = false) =>
  [
    'graph-run: 1',
    'inputs:',
    '  ids: {shape: [batch, 3], dtype: i32}',
    'params:',
    '  table: {shape: [5, 2], init: {values: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]}}',
    'nodes:',
    shift
      ? '  - {name: shifted, op: add, inputs: [ids, 3]}'
      : '  - {name: shifted, op: reshape, inputs: [ids], attrs: {shape: [batch, 3]}}',
    '  - {name: emb, op: embedding, inputs: [table, shifted]}',
    'outputs: [emb]',
    `feed: {ids: ${feed}}`,
    '',
  ].join('\n');

describe('embedding ids outside the table', () => {
  it('a negative id fed: the node and the id', async () => {
    await fails(
      'ids-negative',
      ids('[[0, 1, 4], [2, -1, 3]]'),
      /:8:5: DataError in node "emb": node "emb" \(embedding\) got index -1, outside \[0, 5\)/,
    );
  });

  it('an id computed in the graph: the CPU kernel stops at the node with the id', async () => {
    await fails(
      'ids-computed',
      ids('[[0, 1, 1], [2, 0, 1]]', true),
      /:8:5: DataError in node "emb": node "emb" \(embedding\) got index 5, outside \[0, 5\)/,
    );
  });
});

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

describe.skipIf(!probe.gpu)('embedding ids outside the table on WebGPU', () => {
  it('fed ids are checked on the host: the same error as on the CPU, exit 1', async () => {
    await fails(
      'ids-negative-webgpu',
      ids('[[0, 1, 4], [2, -1, 3]]'),
      /:8:5: DataError in node "emb": node "emb" \(embedding\) got index -1, outside \[0, 5\)/,
      ['--device', 'webgpu'],
    );
  });

  it('an id computed on the device reads a row of zeros, never memory past the table', async () => {
    const model = parseGraph(ids('[[0, 1, 1], [2, 0, 1]]', true), join(tmp, 'ids-device.yaml'));
    const s = await Session.create(model, { dtype: 'f32', device: 'webgpu', gpu: probe.gpu!, strictDevice: true });
    const out = (await s.runAsync(new Map([['ids', [0, 1, 1, 2, 0, 1]]]), 2)).emb!;
    // ids + 3: 3, 4, 4, 5, 3, 4; row 5 lies past the table's last row.
    expect(Array.from(out.data)).toEqual([7, 8, 9, 10, 9, 10, 0, 0, 7, 8, 9, 10]);
  });
});
