// Bad training input: each error has its class, its position (file:line:col, in the data file
// where the value is), a message naming what is wrong; the CLI exits 1 without a stack trace and
// writes nothing half-way. Fixtures: test/train/fixtures/.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AttrError,
  compile,
  DataError,
  GraphErrors,
  loadGraph,
  NameError,
  type GraphError,
} from '../../runtime/index.js';
import { main } from '../../runtime/cli/main.js';

const fx = (name: string) => `test/train/fixtures/${name}`;

/** The errors loading (and, if it loads, training) a fixture throws. */
function errorsOf(name: string): GraphError[] {
  try {
    compile(loadGraph(fx(name))).train();
  } catch (e) {
    if (e instanceof GraphErrors) return e.errors;
    throw e;
  }
  throw new Error(`${name}: no error`);
}

function expectOne(
  name: string,
  cls: new (...a: never[]) => GraphError,
  at: { file: string; line: number; col: number },
  message: RegExp,
): GraphError {
  const errs = errorsOf(name);
  expect(errs.map((e) => `${e.file}:${e.line}:${e.col}: ${e.kind}: ${e.message}`)).toHaveLength(1);
  const e = errs[0]!;
  expect(e).toBeInstanceOf(cls);
  expect({ file: e.file, line: e.line, col: e.col }).toEqual(at);
  expect(e.message).toMatch(message);
  return e;
}

describe('bad training data and settings', () => {
  it('a non-numeric CSV value, at its row and column in the CSV file', () => {
    expectOne(
      'csv-non-numeric.yaml',
      DataError,
      { file: fx('data/non-numeric.csv'), line: 4, col: 6 },
      /"abc" in column "x2" is not a number/,
    );
  });
  it('a missing CSV value, at its row and column', () => {
    expectOne(
      'csv-missing.yaml',
      DataError,
      { file: fx('data/missing.csv'), line: 3, col: 6 },
      /missing value in column "x2"/,
    );
  });
  it('a non-numeric field of a JSON record, at the field', () => {
    expectOne(
      'json-non-numeric.yaml',
      DataError,
      { file: fx('data/records.json'), line: 1, col: 53 },
      /field "x2" of record 1 is not a number/,
    );
  });
  it('a label outside the class range, at the label in the CSV file', () => {
    expectOne(
      'csv-labels.yaml',
      DataError,
      { file: fx('data/labels.csv'), line: 4, col: 11 },
      /label 3 in row 2 of "label" is outside the 3 classes \[0, 3\)/,
    );
  });
  it('a column name that does not exist, at the name in the graph, with a suggestion', () => {
    const e = expectOne(
      'unknown-column.yaml',
      NameError,
      { file: fx('unknown-column.yaml'), line: 16, col: 23 },
      /has no column "x3" \(for input "x"\)/,
    );
    expect(e.hint).toMatch(/did you mean "x1"/);
  });
  it('a batch size larger than the data in the file, at batch_size', () => {
    expectOne(
      'batch-file.yaml',
      DataError,
      { file: fx('batch-file.yaml'), line: 18, col: 15 },
      /batch_size 10 is larger than the data \(4 rows\)/,
    );
  });
  it('optimizer hyperparameters out of range: negative lr, beta2 = 1, each at its value', () => {
    const errs = errorsOf('negative-lr.yaml');
    expect(errs).toHaveLength(2);
    expect(errs.every((e) => e instanceof AttrError)).toBe(true);
    expect(errs.map((e) => [e.line, e.col, e.message])).toEqual([
      [12, 10, 'attribute "lr" is -0.01; it must be at least 0'],
      [12, 21, 'attribute "beta2" is 1; it must be less than 1'],
    ]);
  });
  it('a loss that becomes NaN: epoch, step and the first node producing a non-finite value', () => {
    const errs = errorsOf('nan.yaml');
    expect(errs).toHaveLength(1);
    const e = errs[0]!;
    expect(e.kind).toBe('NumericError');
    expect(e.nodeName).toBe('lw');
    expect({ line: e.line, col: e.col }).toEqual({ line: 8, col: 5 });
    expect(e.message).toMatch(
      /^epoch 1, step 1 of 1: loss is NaN; the first non-finite value: node "lw" \(log\) produced NaN/,
    );
  });
  it('a non-finite value the graph absorbs on purpose (a clamped log of 0) is not blamed: the NaN after it is', () => {
    const errs = errorsOf('nan-absorbed.yaml');
    expect(errs).toHaveLength(1);
    expect(errs[0]!.nodeName).toBe('ratio');
    expect(errs[0]!.message).toMatch(/^epoch 0, step 1 of 1: loss is NaN; .*node "ratio" \(div\) produced NaN/);
  });
  it('the parameters are left as before the failing step', () => {
    const s = compile(loadGraph(fx('nan.yaml')));
    expect(() => s.train()).toThrow(GraphErrors);
    // One step of w - 0.02 / w from 0.1: the value the failing second step started from.
    expect(s.parameters().w!.data[0]).toBeCloseTo(0.1 - 0.02 / 0.1, 6);
  });
});

describe('the CLI on bad training input', () => {
  it.each(['csv-non-numeric.yaml', 'csv-labels.yaml', 'unknown-column.yaml', 'negative-lr.yaml', 'nan.yaml'])(
    '%s: exit 1, file:line:col, no stack trace',
    async (name) => {
      const out: string[] = [],
        err: string[] = [];
      const dir = mkdtempSync(join(tmpdir(), 'graph-run-train-'));
      const save = join(dir, 'ckpt.safetensors');
      const code = await main(
        [fx(name), '--save', save, '--quiet'],
        (s) => out.push(s),
        (s) => err.push(s),
      );
      expect(code).toBe(1);
      expect(err.join('\n')).toMatch(/^test\/train\/fixtures\/\S+:\d+:\d+: \w+Error/m);
      expect(err.join('\n')).not.toMatch(/\n\s+at /);
      // Nothing written half-way.
      expect(existsSync(save)).toBe(false);
    },
  );
});
