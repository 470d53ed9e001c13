// Binary data files (written by NumPy: test/reference/data_files.py) read into training columns:
// .npy, .npz (stored and deflated), safetensors, IDX (plain and gzipped); dtype conversions,
// shapes checked against the inputs, a scale, and each problem as a positioned error.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trainingSets } from '../../runtime/data/index.js';
import { encodeNpy, readNpy } from '../../runtime/data/npy.js';
import { compile, type GraphError, type LoaderIO, nodeIO, parseGraph } from '../../runtime/index.js';
import { resolveGraph } from '../../runtime/resolve/index.js';
import { runCli } from '../support/cli.js';
import { expectClose } from '../support/close.js';

const dir = 'test/data/fixtures';
const expected = JSON.parse(readFileSync(`${dir}/expected.json`, 'utf8')) as Record<string, number[][] | number[]>;

const graph = (data: string, x = '[batch, 4]', extra = '') => `graph-run: 1
inputs:
  x: {shape: ${x}}
  y: {shape: [batch], dtype: i32}
params:
  w: {shape: [3, 4], init: 0.1}
nodes:
  - {name: flat, op: reshape, inputs: [x], attrs: {shape: [-1, 4]}}
  - {name: logits, op: matmul, inputs: [flat, w], attrs: {transpose_b: true}}
outputs: [logits]
loss: {graph: std:losses/cross_entropy.yaml, inputs: {pred: logits, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: ${data}
  epochs: 1
  batch_size: 2
${extra}`;

/** The training columns of a graph in the fixtures folder, and the errors reading them gave. */
function sets(data: string, float: 'f32' | 'f64' = 'f32', x?: string) {
  const { model, errors } = resolveGraph(`${dir}/g.yaml`, graph(data, x), nodeIO());
  expect(errors).toEqual([]);
  const errs: GraphError[] = [];
  const s = trainingSets(model!, errs, float);
  return { ...s, errors: errs };
}

const flat = (a: number[][] | number[]) => (a as number[][]).flat();

describe('binary data files', () => {
  it.each([
    ['.npy, one file per input', '{x: {file: x.npy}, y: {file: y.npy}}'],
    ['.npz (stored), arrays by name', '{file: train.npz, columns: {x: x_train, y: y_train}}'],
    ['.npz (deflated)', '{file: train_c.npz, columns: {x: x_train, y: y_train}}'],
    ['.npz, one array per input', '{x: {file: train.npz, array: x_train}, y: {file: train_c.npz, array: y_train}}'],
    ['safetensors', '{file: train.safetensors, columns: {x: x_train, y: y_train}}'],
    ['IDX f32 and gzipped u8 labels', '{x: {file: x.idx}, y: {file: labels-idx1-ubyte.gz}}'],
    ['big-endian f8 .npy', '{x: {file: x_be_f8.npy}, y: {file: y.npy}}'],
  ])('%s: values as NumPy wrote them, x as Float32Array, y (int64) as Int32Array', (_, data) => {
    const s = sets(data);
    expect(s.errors.map((e) => e.message)).toEqual([]);
    const x = s.train!.get('x')!;
    const y = s.train!.get('y')!;
    expect(x.values).toBeInstanceOf(Float32Array);
    expect(y.values).toBeInstanceOf(Int32Array);
    expect([x.rows, x.rowSize]).toEqual([6, 4]);
    expect(Array.from(x.values)).toEqual(Array.from(Float32Array.from(flat(expected.x!))));
    expect(Array.from(y.values)).toEqual(expected.y);
  });

  it('an f64 program reads f32 arrays into Float64Array', () => {
    const s = sets('{x: {file: x.npy}, y: {file: y.npy}}', 'f64');
    expect(s.train!.get('x')!.values).toBeInstanceOf(Float64Array);
    expectClose(Array.from(s.train!.get('x')!.values), flat(expected.x!), 1e-7);
  });

  it('f16 arrays are widened exactly; u8 images scaled', () => {
    const a = sets('{x: {file: x_f16.npy}, y: {file: y.npy}}');
    expect(Array.from(a.train!.get('x')!.values)).toEqual(Array.from(Float32Array.from(flat(expected.x_f16!))));
    const b = sets('{x: {file: images-idx3-ubyte.gz, scale: 0.00392156862745098}, y: {file: labels-idx1-ubyte.gz}}');
    expect(b.errors).toEqual([]);
    const want = flat(expected.img!).map((v) => Math.fround(v * 0.00392156862745098));
    expect(Array.from(b.train!.get('x')!.values)).toEqual(want);
    const c = sets('{x: {file: img.npy}, y: {file: labels-idx1-ubyte.gz}}');
    expect(Array.from(c.train!.get('x')!.values)).toEqual(flat(expected.img!));
  });

  it("gzipped IDX reads the same through the IO's native inflater (Node's zlib) and through fflate (browsers)", () => {
    const spec = '{x: {file: images-idx3-ubyte.gz, scale: 0.00392156862745098}, y: {file: labels-idx1-ubyte.gz}}';
    const read = (io: LoaderIO) => {
      const { model, errors } = resolveGraph(`${dir}/g.yaml`, graph(spec), io);
      expect(errors).toEqual([]);
      const errs: GraphError[] = [];
      const s = trainingSets(model!, errs);
      expect(errs).toEqual([]);
      return ['x', 'y'].map((k) => Array.from(s.train!.get(k)!.values));
    };
    const native = nodeIO();
    expect(native.gunzip).toBeTypeOf('function');
    const { gunzip: _, ...fflateOnly } = native;
    const a = read(native);
    expect(read(fflateOnly)).toEqual(a);
    expect(a[0]).toEqual(flat(expected.img!).map((v) => Math.fround(v * 0.00392156862745098)));
  });

  it('images [n, 2, 2] feed an input [batch, 2, 2] and [batch, 4] alike', () => {
    const s = sets('{x: {file: images-idx3-ubyte}, y: {file: labels-idx1-ubyte.gz}}', 'f32', '[batch, 2, 2]');
    expect(s.errors).toEqual([]);
    expect(s.train!.get('x')!.rowSize).toBe(4);
  });

  it('trains on IDX files', () => {
    const s = compile(
      parseGraph(
        graph('{x: {file: images-idx3-ubyte.gz, scale: 0.00392156862745098}, y: {file: labels-idx1-ubyte.gz}}'),
        `${dir}/g.yaml`,
        nodeIO(),
      ),
    );
    const r = s.train();
    expect(Number.isFinite(r.at(-1)!.loss)).toBe(true);
  });
});

describe('bad binary data', () => {
  const one = (data: string, x?: string) => {
    const s = sets(data, 'f32', x);
    expect(s.errors.length, s.errors.map((e) => e.message).join('\n')).toBeGreaterThan(0);
    const e = s.errors[0]!;
    expect(e.file).toBe(`${dir}/g.yaml`);
    return e;
  };
  it('a shape that does not fit: the file, the array and both shapes', () => {
    const e = one('{x: {file: x.npy}, y: {file: y.npy}}', '[batch, 5]');
    expect(e.message).toMatch(/x\.npy has shape \[6, 2, 2\] \(4 values per sample\), input "x" has \[batch, 5\]/);
    expect(e.line).toBe(14);
  });
  it('a float array for an i32 input', () => {
    expect(one('{x: {file: x.npy}, y: {file: y_float.npy}}').message).toMatch(
      /y_float\.npy holds <f4 values; input "y" is i32/,
    );
  });
  it('an array the file does not have, with the closest name', () => {
    const e = one('{file: train.npz, columns: {x: x_trian, y: y_train}}');
    expect(e.message).toMatch(/has no array "x_trian"/);
    expect(e.hint).toMatch(/x_train/);
  });
  it('a scale on an i32 input; array on a .npy; .npy as the whole data', () => {
    expect(one('{x: {file: x.npy}, y: {file: y.npy, scale: 2}}').message).toMatch(/cannot be scaled/);
    expect(one('{x: {file: x.npy, array: a}, y: {file: y.npy}}').message).toMatch(/holds one array/);
    expect(one('{file: x.npy}').message).toMatch(/holds one array; give each input its own file/);
  });
  it('a missing file and a directory', () => {
    expect(one('{x: {file: nope.npy}, y: {file: y.npy}}').message).toMatch(/cannot read data file/);
    expect(one('{x: {file: ../fixtures.npy}, y: {file: y.npy}}').message).toMatch(/cannot read data file/);
  });
});

describe('.npy encoding', () => {
  it('round-trips shapes and dtypes', () => {
    for (const data of [
      new Float32Array([1.5, -2, 3, 4, 5, 6]),
      new Float64Array([1, 2, 3, 4, 5, 6.25]),
      new Int32Array([1, -2, 3, 4, 5, 6]),
    ]) {
      const r = readNpy(encodeNpy([2, 3], data));
      if (typeof r === 'string') throw new Error(r);
      expect(r.shape).toEqual([2, 3]);
      expect(Array.from(r.values)).toEqual(Array.from(data));
      expect(r.values.constructor).toBe(data.constructor);
    }
    const v = readNpy(encodeNpy([4], new Float32Array(4)));
    expect(typeof v !== 'string' && v.shape).toEqual([4]);
  });
});

describe('the CLI on bad binary data', () => {
  it('a truncated .npy: exit 1, positioned, no stack trace', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const d = mkdtempSync(join(tmpdir(), 'graph-run-bin-'));
    const full = readFileSync(`${dir}/x.npy`);
    writeFileSync(join(d, 'x.npy'), full.subarray(0, full.length - 10));
    writeFileSync(join(d, 'y.npy'), readFileSync(`${dir}/y.npy`));
    writeFileSync(join(d, 'g.yaml'), graph('{x: {file: x.npy}, y: {file: y.npy}}'));
    const r = await runCli([join(d, 'g.yaml'), '--quiet']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /g\.yaml:14:\d+: DataError: cannot read data file ".*x\.npy": its header's shape \(6, 2, 2\) of <f4 needs 96 bytes of data, the file holds 86 bytes/,
    );
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('truncated files and headers claiming more than the file holds', () => {
  const scratchSets = async (files: Record<string, Uint8Array>, data: string) => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const d = mkdtempSync(join(tmpdir(), 'graph-run-bin-'));
    for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), v);
    writeFileSync(join(d, 'y.npy'), readFileSync(`${dir}/y.npy`));
    const { model, errors } = resolveGraph(join(d, 'g.yaml'), graph(data), nodeIO());
    expect(errors).toEqual([]);
    const errs: GraphError[] = [];
    trainingSets(model!, errs);
    expect(errs.length).toBeGreaterThan(0);
    return errs[0]!.message;
  };
  const bytes = (p: string) => new Uint8Array(readFileSync(`${dir}/${p}`));

  it('a truncated IDX file', async () => {
    const b = bytes('images-idx3-ubyte');
    expect(await scratchSets({ 'x.idx': b.subarray(0, b.length - 5) }, '{x: {file: x.idx}, y: {file: y.npy}}')).toMatch(
      /x\.idx": its header's shape \(6, 2, 2\) of ubyte needs 24 bytes of data, the file holds 19 bytes/,
    );
  });
  it('an IDX header claiming 10^9 images: refused before allocating', async () => {
    const b = bytes('images-idx3-ubyte').slice();
    new DataView(b.buffer).setUint32(4, 1e9, false);
    expect(await scratchSets({ 'x.idx': b }, '{x: {file: x.idx}, y: {file: y.npy}}')).toMatch(
      /needs 4000000000 bytes of data, the file holds 24 bytes/,
    );
  });
  it('a .npy header claiming more rows than the file holds', async () => {
    const b = bytes('x.npy');
    const text = new TextDecoder('latin1').decode(b).replace("'shape': (6, 2, 2)", "'shape': (9999999, 2, 2)");
    const out = Uint8Array.from(text, (c) => c.charCodeAt(0));
    expect(await scratchSets({ 'x.npy': out }, '{x: {file: x.npy}, y: {file: y.npy}}')).toMatch(
      /needs 159999984 bytes of data, the file holds \d+ bytes/,
    );
  });
  it('a truncated safetensors file, and one whose header length is a lie', async () => {
    const b = bytes('train.safetensors');
    expect(
      await scratchSets(
        { 't.safetensors': b.subarray(0, b.length - 8) },
        '{file: t.safetensors, columns: {x: x_train, y: y_train}}',
      ),
    ).toMatch(/cannot read data file .*t\.safetensors": tensor "(x|y)_train" needs \d+ bytes of data/);
    const lie = b.slice();
    new DataView(lie.buffer).setUint32(0, 0x7fffffff, true);
    expect(
      await scratchSets({ 't.safetensors': lie }, '{file: t.safetensors, columns: {x: x_train, y: y_train}}'),
    ).toMatch(/its header claims 2147483647 bytes/);
  });
  it('a gzip trailer claiming more than deflate can produce; a truncated gzip', async () => {
    const b = bytes('images-idx3-ubyte.gz').slice();
    new DataView(b.buffer).setUint32(b.length - 4, 0xffffffff, true);
    expect(await scratchSets({ 'x-ubyte.gz': b }, '{x: {file: x-ubyte.gz}, y: {file: y.npy}}')).toMatch(
      /more than its \d+ compressed bytes can hold/,
    );
    const t = bytes('images-idx3-ubyte.gz');
    expect(await scratchSets({ 'x-ubyte.gz': t.subarray(0, 30) }, '{x: {file: x-ubyte.gz}, y: {file: y.npy}}')).toMatch(
      /cannot read data file/,
    );
  });
  it('a truncated .npz', async () => {
    const b = bytes('train.npz');
    expect(
      await scratchSets({ 't.npz': b.subarray(0, b.length - 30) }, '{file: t.npz, columns: {x: x_train, y: y_train}}'),
    ).toMatch(/cannot read data file .*t\.npz"/);
  });
});
