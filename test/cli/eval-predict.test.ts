// graph-run eval and graph-run predict: the loss, the metrics and the outputs of graphs/blobs.yaml's
// initial parameters on every row of graphs/data/blobs.csv against PyTorch
// (test/reference/eval_predict.py -> eval_predict.json), in any batch size; a checkpoint's
// parameters (--load) evaluated on a file give the losses the training run logged on the same
// rows; the printed form is bounded; bad input is a positioned error, exit 1, or a usage error.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, loadGraph } from '../../runtime/index.js';
import { runCli } from '../support/cli.js';

interface Ref {
  params: Record<string, number[] | number[][]>;
  rows: number;
  loss: number;
  accuracy: number;
  probs: number[][];
  klass: number[];
}
const ref = JSON.parse(readFileSync('test/reference/eval_predict.json', 'utf8')) as Ref;
const dir = mkdtempSync(join(tmpdir(), 'graph-run-eval-'));
const blobs = ['graphs/blobs.yaml', '--data', 'graphs/data/blobs.csv'];

describe('graph-run eval', () => {
  it("the reference's parameters are the graph's initial ones", () => {
    const p = compile(loadGraph('graphs/blobs.yaml'), { dtype: 'f64' }).parameters();
    for (const [k, v] of Object.entries(ref.params)) expect(Array.from(p[k]!.data)).toEqual(v.flat());
  });

  it.each([[undefined], ['7'], ['150'], ['1000']])(
    'loss and accuracy of every row agree with PyTorch (--batch-size %s)',
    async (bs) => {
      const r = await runCli(['eval', ...blobs, '--dtype', 'f64', '--json', ...(bs ? ['--batch-size', bs] : [])]);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out) as Record<string, number>;
      expect(j.rows).toBe(150);
      expect(Math.abs(j.loss! - ref.loss)).toBeLessThan(1e-12);
      expect(j.accuracy).toBe(ref.accuracy);
    },
  );

  it('prints the rows, the parameters used, the loss and each metric', async () => {
    const r = await runCli(['eval', ...blobs]);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')).toEqual([
      'graphs/data/blobs.csv: 150 rows (initial parameters, f32)',
      `  loss ${ref.loss.toPrecision(6)}`,
      `  accuracy ${ref.accuracy.toPrecision(6)}`,
    ]);
  });

  it("--load: a checkpoint's loss on a file is the loss the training run logged on those rows", async () => {
    const ckpt = join(dir, 'blobs.safetensors');
    const run = await runCli(['graphs/blobs.yaml', '--epochs', '4', '--save', ckpt, '--json']);
    expect(run.code, run.err).toBe(0);
    const last = (JSON.parse(run.out) as { losses: Record<string, number>[] }).losses.at(-1)!;
    // blobs.yaml trains on the first 120 rows and validates on the last 30 (split 0.2).
    const lines = readFileSync('graphs/data/blobs.csv', 'utf8').trimEnd().split('\n');
    const train = join(dir, 'train.csv'),
      val = join(dir, 'val.csv');
    writeFileSync(train, `${lines.slice(0, 121).join('\n')}\n`);
    writeFileSync(val, `${[lines[0], ...lines.slice(121)].join('\n')}\n`);
    for (const [file, loss, acc] of [
      [train, last.loss, last.accuracy],
      [val, last.val_loss, last.val_accuracy],
    ] as const) {
      const r = await runCli(['eval', 'graphs/blobs.yaml', '--data', file, '--load', ckpt, '--json']);
      expect(r.code, r.err).toBe(0);
      const j = JSON.parse(r.out) as Record<string, number>;
      expect(j.loss).toBe(loss);
      expect(j.accuracy).toBe(acc);
    }
  });
});

describe('graph-run predict', () => {
  const csvRows = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));

  it.each([[undefined], ['16'], ['1']])(
    '--out .csv: a header naming each output value, every row agreeing with PyTorch (--batch-size %s)',
    async (bs) => {
      const out = join(dir, `p${bs ?? ''}.csv`);
      const r = await runCli([
        'predict',
        ...blobs,
        '--dtype',
        'f64',
        '--out',
        out,
        ...(bs ? ['--batch-size', bs] : []),
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(`graphs/data/blobs.csv: 150 rows -> ${out} (probs, class)`);
      const [header, ...rows] = csvRows(readFileSync(out, 'utf8'));
      expect(header).toEqual(['probs_0', 'probs_1', 'probs_2', 'class']);
      expect(rows).toHaveLength(ref.rows);
      rows.forEach((row, i) => {
        row.slice(0, 3).forEach((v, k) => expect(Math.abs(Number(v) - ref.probs[i]![k]!)).toBeLessThan(1e-12));
        expect(Number(row[3])).toBe(ref.klass[i]);
      });
    },
  );

  it('f32 values are written with the fewest digits that read back as the same f32', async () => {
    const out = join(dir, 'p32.csv');
    expect((await runCli(['predict', ...blobs, '--out', out])).code).toBe(0);
    const [, ...rows] = csvRows(readFileSync(out, 'utf8'));
    rows.forEach((row, i) =>
      row.slice(0, 3).forEach((v, k) => {
        expect(Math.abs(Number(v) - ref.probs[i]![k]!)).toBeLessThan(1e-6);
        expect(
          v
            .replace(/e.*$/, '')
            .replace(/^-?0?\./, '')
            .replace(/^0+/, '')
            .replace('.', '').length,
        ).toBeLessThanOrEqual(9);
      }),
    );
  });

  it('--out .npy: one output as a little-endian array of [rows, ...] that NumPy reads', async () => {
    const out = join(dir, 'p.npy');
    const r = await runCli(['predict', 'graphs/linreg.yaml', '--data', 'graphs/data/linreg_val.csv', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const b = readFileSync(out);
    expect(Array.from(b.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = b[8]! | (b[9]! << 8);
    expect((10 + hlen) % 64).toBe(0);
    const header = b.subarray(10, 10 + hlen).toString('latin1');
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(30,\), \} *\n$/);
    expect(b.length).toBe(10 + hlen + 30 * 4);
  });

  it('without --out: the first 10 rows as CSV and a count of the rest; --json the same rows', async () => {
    const r = await runCli(['predict', ...blobs, '--dtype', 'f64']);
    expect(r.code, r.err).toBe(0);
    const lines = r.out.split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe('probs_0,probs_1,probs_2,class');
    expect(Number(lines[1]!.split(',')[0])).toBe(ref.probs[0]![0]);
    expect(lines[11]).toBe('... 140 more rows (150 in all; --out FILE writes every row)');
    const j = JSON.parse((await runCli(['predict', ...blobs, '--dtype', 'f64', '--json'])).out) as {
      rows: number;
      shown: number;
      outputs: Record<string, { shape: number[]; data: number[] }>;
    };
    expect([j.rows, j.shown]).toEqual([150, 10]);
    j.outputs.probs!.data.forEach((v, i) => expect(Math.abs(v - ref.probs.flat()[i]!)).toBeLessThan(1e-12));
    expect(j.outputs.class!.data).toEqual(ref.klass.slice(0, 10));
  });
});

describe('--columns: a file whose columns are named otherwise', () => {
  it('maps inputs to its columns (several joined by +), and names an unknown input or column', async () => {
    const lines = readFileSync('graphs/data/blobs.csv', 'utf8').trimEnd().split('\n');
    const f = join(dir, 'renamed.csv');
    writeFileSync(f, `${['a,b,lab', ...lines.slice(1)].join('\n')}\n`);
    const r = await runCli([
      'eval',
      'graphs/blobs.yaml',
      '--data',
      f,
      '--columns',
      'x=a+b,label=lab',
      '--dtype',
      'f64',
      '--json',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(Math.abs((JSON.parse(r.out) as { loss: number }).loss - ref.loss)).toBeLessThan(1e-12);
    const p = await runCli(['predict', 'graphs/blobs.yaml', '--data', f, '--columns', 'x=a+b']);
    expect(p.code, p.err).toBe(0);
    const bad = await runCli(['eval', 'graphs/blobs.yaml', '--data', f, '--columns', 'x=a+c,label=lab']);
    expect([bad.code, bad.err.split('\n')[0]]).toEqual([
      1,
      `${f}:1:1: NameError: ${f} has no column "c" (for input "x")`,
    ]);
    const unknown = await runCli(['eval', 'graphs/blobs.yaml', '--data', f, '--columns', 'xx=a+b']);
    expect([unknown.code, unknown.err.split('\n')[0]]).toEqual([
      1,
      `${f}:1:1: NameError: columns for unknown input "xx"`,
    ]);
    const usage = await runCli(['eval', 'graphs/blobs.yaml', '--data', f, '--columns', 'xab']);
    expect(usage.code).toBe(2);
  });
});

describe('eval and predict: bad input', () => {
  const bad = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it.each([
    [
      'a missing file',
      () => join(dir, 'nope.csv'),
      (f: string) => `${f}:1:1: DataError: cannot read data file "${f}": no such file`,
    ],
    [
      'a folder',
      () => dir,
      (f: string) => `${f}:1:1: DataError: cannot read data file "${f}": it is not a regular file`,
    ],
    [
      'a column missing (reported at the column spec in the graph)',
      () => bad('cols.csv', 'x1,x3,label\n1,2,0\n'),
      (f: string) => `graphs/blobs.yaml:50:23: NameError: ${f} has no column "x2" (for input "x")`,
    ],
    [
      'a value that is no number',
      () => bad('nan.csv', 'x1,x2,label\n1,2,0\n1,zz,1\n'),
      (f: string) => `${f}:3:3: DataError: "zz" in column "x2" is not a number`,
    ],
  ])('%s: a positioned error, exit 1', async (_, file, first) => {
    const f = file();
    for (const cmd of ['eval', 'predict']) {
      const r = await runCli([cmd, 'graphs/blobs.yaml', '--data', f]);
      expect(r.code).toBe(1);
      expect(r.err.split('\n')[0]).toBe(first(f));
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('a label the graph cannot take (predict needs no labels: it reads only the inputs the outputs use)', async () => {
    const f = bad('label.csv', 'x1,x2,label\n1,2,7\n');
    const e = await runCli(['eval', 'graphs/blobs.yaml', '--data', f]);
    expect(e.code).toBe(1);
    expect(e.err.split('\n')[0]).toBe(
      `${f}:2:5: DataError: data: label 7 in row 0 of "label" is outside the 3 classes [0, 3) of node "loss/picked" (gather)`,
    );
    const nolabel = bad('nolabel.csv', 'x1,x2\n1,2\n');
    const p = await runCli(['predict', 'graphs/blobs.yaml', '--data', nolabel]);
    expect(p.code, p.err).toBe(0);
    expect(p.out.split('\n')).toHaveLength(2);
  });

  it.each([
    [['eval', 'graphs/blobs.yaml'], 'graph-run: graph-run eval needs --data FILE: the rows to evaluate'],
    [['predict', ...blobs, '--out', 'p.txt'], 'graph-run: --out "p.txt": write predictions to a .csv or a .npy file'],
    [
      ['predict', ...blobs, '--out', 'p.npy'],
      'graph-run: --out "p.npy": a .npy file holds one array, and the graph has 2 outputs (probs, class); write a .csv',
    ],
    [
      ['predict', ...blobs, '--out', 'graphs/data/blobs.csv'],
      'graph-run: --out "graphs/data/blobs.csv" would overwrite "graphs/data/blobs.csv", which this run reads',
    ],
    [
      ['graphs/blobs.yaml', '--data', 'x.csv'],
      'graph-run: --data, --columns and --batch-size belong to graph-run eval and predict',
    ],
    [['eval', ...blobs, '--batch-size', '0'], 'graph-run: --batch-size must be a whole number >= 1, got "0"'],
  ])('%j: a usage error, exit 2', async (argv, msg) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe(msg);
  });
});
