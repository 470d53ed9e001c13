// CSV and JSON data through the streaming readers: values as Number() reads them, columns by
// range or pattern, JSON files past the positioned reader's size, and every bad input as a
// positioned error naming the file and the line.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainingSets } from '../../runtime/data/index.js';
import { parseNumber } from '../../runtime/data/number.js';
import { type GraphError, nodeIO } from '../../runtime/index.js';
import { resolveGraph } from '../../runtime/resolve/index.js';
import { scratch } from '../hardening/helpers.js';
import { runCli } from '../support/cli.js';

const graph = (data: string, x = '[batch, 3]') => `graph-run: 1
inputs:
  x: {shape: ${x}}
  y: {shape: [batch], dtype: i32}
params:
  w: {shape: [2, 3], init: 0.1}
nodes:
  - {name: logits, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
outputs: [logits]
loss: {graph: std:losses/cross_entropy.yaml, inputs: {pred: logits, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: ${data}
  epochs: 1
  batch_size: 1
`;

function sets(dir: string, data: string, x?: string) {
  const { model, errors } = resolveGraph(join(dir, 'g.yaml'), graph(data, x), nodeIO());
  expect(errors).toEqual([]);
  const errs: GraphError[] = [];
  return { ...trainingSets(model!, errs), errors: errs };
}

const csv = 'a0,a1,a2,label,other\n1,-2.5, 3e2 ,1,x\n0.1,1e-7,-0,0,y\n\n4.25,5,6,1,z\n';

describe('CSV data', () => {
  it('reads values as Number() does, by range, by pattern and by list', () => {
    for (const cols of ['{x: a0..a2, y: label}', '{x: "a*", y: label}', '{x: [a0, a1, a2], y: label}']) {
      const dir = scratch({ 'd.csv': csv });
      const s = sets(dir, `{file: d.csv, columns: ${cols}}`);
      expect(s.errors).toEqual([]);
      expect(Array.from(s.train!.get('x')!.values)).toEqual(
        Array.from(Float32Array.from([1, -2.5, 300, 0.1, 1e-7, -0, 4.25, 5, 6])),
      );
      expect(Array.from(s.train!.get('y')!.values)).toEqual([1, 0, 1]);
    }
  });

  it('parseNumber agrees with Number() on decimal forms', () => {
    const cases = [
      '0',
      '-0',
      '1.5',
      '  2 ',
      '1e308',
      '1e-320',
      '123456789012345678',
      '0.1',
      '.5',
      '5.',
      '-1.25e+3',
      '0x10',
      '1e400',
      'abc',
      '1.2.3',
      '',
      '+4',
      '9007199254740993',
      '3.141592653589793238',
    ];
    for (let i = 0; i < 2000; i++)
      cases.push(((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 20 - 10)).toPrecision(1 + (i % 17)));
    for (const c of cases) {
      const b = new TextEncoder().encode(c);
      const want = Number(c.trim() === '' ? 'x' : c);
      expect(parseNumber(b, 0, b.length), c).toBe(Number.isFinite(want) ? want : Number.NaN);
    }
  });

  it('a range that does not match names the missing column, at the range', () => {
    const dir = scratch({ 'd.csv': csv });
    const s = sets(dir, '{file: d.csv, columns: {x: a0..a3, y: label}}', '[batch, 4]');
    expect(s.errors[0]!.message).toMatch(/has no column "a3" of the range a0\.\.a3 \(for input "x"\)/);
    expect(s.errors[0]!.line).toBe(13);
  });

  it.each([
    ['NaN', 'a0,a1,a2,label\n1,2,3,0\n1,NaN,3,1\n', /"NaN" in column "a1" is not a number/, 3, 3],
    ['Infinity', 'a0,a1,a2,label\n1,2,Infinity,0\n', /"Infinity" in column "a2" is not a number/, 2, 5],
    ['a missing value', 'a0,a1,a2,label\n1,,3,0\n', /missing value in column "a1"/, 2, 3],
    ['a ragged row', 'a0,a1,a2,label\n1,2,3,0\n1,2,3\n', /row has 3 fields, the header has 4/, 3, 1],
    ['a fractional label', 'a0,a1,a2,label\n1,2,3,0.5\n', /row 0 of "y" holds 0\.5; the input is i32/, 2, 7],
  ])('%s: the file, line and column', (_, text, message, line, col) => {
    const dir = scratch({ 'd.csv': text });
    const s = sets(dir, '{file: d.csv, columns: {x: a0..a2, y: label}}');
    expect(s.errors).toHaveLength(1);
    const e = s.errors[0]!;
    expect(e.message).toMatch(message);
    expect([e.file, e.line, e.col]).toEqual([join(dir, 'd.csv'), line, col]);
  });

  it('text that is not UTF-8: the file and the line', () => {
    const head = new TextEncoder().encode('a0,a1,a2,label\n1,2,3,0\n');
    const dir = scratch({ 'd.csv': new Uint8Array([...head, 0x31, 0x2c, 0xff, 0xfe, 0x2c, 0x33, 0x2c, 0x30, 10]) });
    const s = sets(dir, '{file: d.csv, columns: {x: a0..a2, y: label}}');
    expect(s.errors[0]!.message).toMatch(/line 3 is not UTF-8 text/);
    const d2 = scratch({ 'd.csv': new Uint8Array([0x61, 0xff, 10, 0x31, 10]) });
    expect(sets(d2, '{file: d.csv}').errors[0]!.message).toMatch(/line 1 is not UTF-8 text/);
  });

  it('a 100 MB single line is refused with a message, not read into memory as a string', () => {
    const dir = scratch({});
    writeFileSync(join(dir, 'd.csv'), Buffer.alloc(100 * 1024 * 1024, 0x61));
    const s = sets(dir, '{file: d.csv}');
    expect(s.errors[0]!.message).toMatch(/the header row is over 64 MiB long/);
  });

  it('a directory, a FIFO, a device: cannot read, at the graph', () => {
    const dir = scratch({});
    mkdirSync(join(dir, 'd.csv'));
    expect(sets(dir, '{file: d.csv}').errors[0]!.message).toMatch(/cannot read data file .*not a regular file/);
    execFileSync('mkfifo', [join(dir, 'f.csv')]);
    expect(sets(dir, '{file: f.csv}').errors[0]!.message).toMatch(/not a regular file/);
    expect(sets(dir, '{file: /dev/zero}').errors[0]!.message).toMatch(/cannot read data file/);
  });
});

describe('JSON data past the positioned reader (over 2 MiB)', () => {
  const rows = 150000;
  const x = Array.from({ length: rows }, (_, r) => [r * 0.5, -r, r % 7]);
  const y = Array.from({ length: rows }, (_, r) => r % 2);
  it('an object of input -> rows', () => {
    const dir = scratch({ 'd.json': JSON.stringify({ y, skip: [{ a: '"}' }], x }) });
    const s = sets(dir, '{file: d.json}');
    expect(s.errors).toEqual([]);
    expect(s.train!.get('x')!.rows).toBe(rows);
    expect(Array.from(s.train!.get('x')!.values.subarray(0, 6))).toEqual([0, 0, 0, 0.5, -1, 1]);
    expect(Array.from(s.train!.get('y')!.values.subarray(0, 4))).toEqual([0, 1, 0, 1]);
  });
  it('a list of records', () => {
    const recs = x.map((v, r) => ({ a: v[0], b: v[1], c: v[2], label: y[r], note: 'n' }));
    const dir = scratch({ 'd.json': JSON.stringify(recs) });
    const s = sets(dir, '{file: d.json, columns: {x: [a, b, c], y: label}}');
    expect(s.errors).toEqual([]);
    expect(Array.from(s.train!.get('x')!.values.subarray(3, 6))).toEqual([0.5, -1, 1]);
  });
  it('a bad value: its line and column', () => {
    const text = JSON.stringify({ x, y }).replace('[1,-2,2]', '[1,\n  "oops",2]');
    const dir = scratch({ 'd.json': text });
    const e = sets(dir, '{file: d.json}').errors[0]!;
    expect(e.message).toMatch(/expected a number/);
    expect([e.line, e.col]).toEqual([2, 3]);
  });
  it('a row of the wrong size', () => {
    const text = JSON.stringify({ x, y }).replace('[1,-2,2]', '[1,-2]');
    const dir = scratch({ 'd.json': text });
    expect(sets(dir, '{file: d.json}').errors[0]!.message).toMatch(
      /row 2 of "x" has 2 values where its sample shape \[3\] has 3/,
    );
  });
});

describe('the CLI on bad text data', () => {
  it('NaN in a CSV: exit 1, file:line:col, no stack trace', async () => {
    const dir = scratch({
      'd.csv': 'a0,a1,a2,label\n1,2,nan,0\n',
      'g.yaml': graph('{file: d.csv, columns: {x: a0..a2, y: label}}'),
    });
    const r = await runCli([join(dir, 'g.yaml'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/d\.csv:2:5: DataError: "nan" in column "a2" is not a number/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
  it('validate reads the header only: a bad value passes, a missing column does not', async () => {
    const dir = scratch({
      'd.csv': 'a0,a1,a2,label\n1,2,nan,0\n',
      'g.yaml': graph('{file: d.csv, columns: {x: a0..a2, y: label}}'),
    });
    expect((await runCli(['validate', join(dir, 'g.yaml')])).code).toBe(0);
    writeFileSync(join(dir, 'g.yaml'), graph('{file: d.csv, columns: {x: b0..b2, y: label}}'));
    const r = await runCli(['validate', join(dir, 'g.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has no column "b0" of the range b0\.\.b2/);
  });
});
