// Training data that does not fit: a row of the wrong shape (pointing at the row), columns
// of different lengths, a batch size larger than the data.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, DataError, DTypeError, loadGraph, parseGraph } from '../../runtime/index.js';
import { runCli } from '../support/cli.js';
import { expectUserError } from './expect-error.js';

describe('training data', () => {
  it("a row that does not fit the input's shape: Charlie's 3 numbers, at that row", async () => {
    await expectUserError('bad-row.yaml', {
      cls: DataError,
      line: 18,
      col: 9,
      message: /row 2 of "x" has shape \[3\].*\[2\]/,
      hint: /\[batch, 2\]/,
    });
  });

  it('columns of different lengths: 4 rows of x, 3 of y, at the shorter column', async () => {
    await expectUserError('ragged-columns.yaml', {
      cls: DataError,
      line: 16,
      col: 5,
      message: /"y" has 3 rows, "x" has 4/,
    });
  });

  it('batch_size larger than the data, at batch_size', async () => {
    await expectUserError('batch-too-big.yaml', {
      cls: DataError,
      line: 18,
      col: 15,
      message: /batch_size 8 is larger than the data \(4 rows\)/,
    });
  });

  it('a [batch, 1] input from one CSV column named alone takes one value per row (columns: {y: y} as {y: [y]})', async () => {
    const r = await runCli(['validate', 'test/fixtures/errors/column-scalar.yaml']);
    expect(r.code, r.err).toBe(0);
    const s = compile(loadGraph('test/fixtures/errors/column-scalar.yaml'));
    const same = compile(
      parseGraph(
        readFileSync('test/fixtures/errors/column-scalar.yaml', 'utf8').replace('y: y}', 'y: [y]}'),
        'test/fixtures/errors/column-scalar.yaml',
      ),
    );
    expect(s.data.columns!.get('y')!.values).toEqual(same.data.columns!.get('y')!.values);
    expect(s.data.columns!.get('y')!.rowSize).toBe(1);
  });

  it('a [batch, 1] input given plain numbers inline: one error, the fix as hint', async () => {
    await expectUserError('inline-scalar.yaml', {
      cls: DataError,
      line: 16,
      col: 9,
      message: /\(and 3 more rows like it\)$/,
      hint: /\[\[1\], \[0\], \.\.\.\]/,
    });
  });
});

describe('labels without dtype: i32', () => {
  it("raised in the library's loss graph, with a hint at the user's input declaration", async () => {
    const errors = await expectUserError('float-labels.yaml', {
      cls: DTypeError,
      file: 'graphs/lib/losses/cross_entropy.yaml',
      line: 16,
      col: 5,
      node: 'loss/picked',
      message: /gather indices must be i32, got f32/,
      hint: /^input "label" \(test\/fixtures\/errors\/float-labels\.yaml:6:3\) holds class labels: add dtype: i32 to its declaration$/,
    });
    expect(errors[0]!.loc?.via?.[0]).toMatchObject({ file: 'test/fixtures/errors/float-labels.yaml', line: 12 });
  });
});
