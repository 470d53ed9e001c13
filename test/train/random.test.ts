// Seeded randomness (docs/init.md): Threefry-2x32 against the Random123 known-answer vectors,
// streams, shuffles and dropout masks against an independent Python implementation of the
// documented algorithm (test/reference/streams.py -> seeded.json), the initialisers' bounds
// against PyTorch's fan and gain rules, and dropout's behaviour in training and evaluation.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, parseGraph, loadGraph } from '../../runtime/index.js';
import { shuffledOrder, Stream, threefry2x32 } from '../../runtime/ops/random.js';
import { initialValues, randomInit, type RandomInitSpec } from '../../runtime/train/init.js';
import type { ParamDecl } from '../../runtime/load/model.js';

const ref = JSON.parse(readFileSync(new URL('../reference/seeded.json', import.meta.url), 'utf8')) as {
  threefry: number[][];
  uniform: { seed: number; stream: string; values: number[] };
  normal: { seed: number; stream: string; values: number[] };
  shuffle: { seed: number; n: number; orders: number[][] };
  dropout: { seed: number; node: string; p: number; step: number; mask: number[] };
  fans: {
    shape: number[];
    kind: keyof RandomInitSpec;
    spec: Record<string, unknown>;
    dist: string;
    a: number;
    b: number;
  }[];
};

describe('Threefry-2x32 and the streams', () => {
  it('matches the Random123 known-answer vectors (threefry2x32_20)', () => {
    expect(threefry2x32(0, 0, 0, 0)).toEqual([0x6b200159, 0x99ba4efe]);
    expect(threefry2x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)).toEqual([0x1cb996fc, 0xbb002be7]);
    expect(threefry2x32(0x13198a2e, 0x03707344, 0x243f6a88, 0x85a308d3)).toEqual([0xc4923a9c, 0x483df7a0]);
  });
  it('agrees with the Python implementation word for word', () => {
    for (const [k0, k1, c0, c1, x0, x1] of ref.threefry) expect(threefry2x32(k0!, k1!, c0!, c1!)).toEqual([x0, x1]);
  });
  it('gives the same uniforms and normals as the Python implementation', () => {
    const u = new Stream(ref.uniform.seed, ref.uniform.stream);
    ref.uniform.values.forEach((v, i) => expect(u.uniform(i, 0)).toBe(v));
    const n = new Stream(ref.normal.seed, ref.normal.stream);
    // log and cos may differ in the last bit between C and JavaScript libraries.
    ref.normal.values.forEach((v, i) =>
      expect(Math.abs(n.normal(i) - v)).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(v))),
    );
  });
  it('shuffles each epoch in the documented order', () => {
    ref.shuffle.orders.forEach((o, e) => expect([...shuffledOrder(ref.shuffle.seed, ref.shuffle.n, e)]).toEqual(o));
    expect(ref.shuffle.orders[0]).not.toEqual(ref.shuffle.orders[1]);
  });
  it('uniforms lie in [0, 1) and look uniform', () => {
    const s = new Stream(1, 'x');
    let sum = 0,
      min = 1,
      max = 0;
    for (let i = 0; i < 20000; i++) {
      const u = s.uniform(i, 0);
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    // Mean of 20000 uniforms: standard error 0.002.
    expect(Math.abs(sum / 20000 - 0.5)).toBeLessThan(0.01);
  });
});

const decl = (name: string, shape: number[], spec: RandomInitSpec): ParamDecl => {
  const init = randomInit(spec, shape);
  if (typeof init === 'string') throw new Error(init);
  return { name, shape, init, trainable: true, loc: { file: 'x', line: 1, col: 1 } };
};

describe('initialisers', () => {
  it.each(ref.fans.map((f) => [`${f.kind} ${JSON.stringify(f.spec)} [${f.shape.join(', ')}]`, f] as const))(
    "%s: PyTorch's bound / std",
    (_n, f) => {
      const init = randomInit({ [f.kind]: f.spec } as RandomInitSpec, f.shape);
      expect(typeof init).toBe('object');
      const r = init as { kind: string; dist: string; a: number; b: number };
      expect(r.dist).toBe(f.dist);
      expect(r.a).toBeCloseTo(f.a, 14);
      expect(r.b).toBeCloseTo(f.b, 14);
    },
  );
  it('draws within the bounds, with the right spread, the same for the same seed', () => {
    const p = decl('w', [200, 100], { kaiming_uniform: { nonlinearity: 'relu' } });
    const v = Array.from(initialValues(p, 5));
    const bound = Math.sqrt(2) * Math.sqrt(3 / 100);
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    expect(Math.abs(sd - bound / Math.sqrt(3)) / (bound / Math.sqrt(3))).toBeLessThan(0.02);
    expect(Array.from(initialValues(p, 5))).toEqual(v);
    expect(Array.from(initialValues(p, 6))).not.toEqual(v);
    const q = decl('w', [100, 100], { normal: { mean: 1, std: 0.5 } });
    const n = Array.from(initialValues(q, 0));
    const nm = n.reduce((a, b) => a + b, 0) / n.length;
    expect(Math.abs(nm - 1)).toBeLessThan(0.02);
  });
  it('names a missing fan for a vector', () => {
    expect(randomInit({ xavier_uniform: {} }, [5])).toMatch(/at least 2 axes/);
    expect(randomInit({ xavier_uniform: { fan_in: 5, fan_out: 1 } }, [5])).toMatchObject({ dist: 'uniform' });
  });
  it('seeded initialisers in a graph: the same values on every load, per parameter', () => {
    const text = (seed: number) =>
      `graph-run: 1\nseed: ${seed}\nparams:\n  a: {shape: [3, 4], init: {xavier_normal: {}}}\n  b: {shape: [3, 4], init: {xavier_normal: {}}}\nnodes:\n  - {name: s, op: add, inputs: [a, b]}\noutputs: [s]\n`;
    const p1 = compile(parseGraph(text(9))).parameters();
    const p2 = compile(parseGraph(text(9))).parameters();
    expect(Array.from(p1.a!.data)).toEqual(Array.from(p2.a!.data));
    expect(Array.from(p1.a!.data)).not.toEqual(Array.from(p1.b!.data));
    expect(Array.from(compile(parseGraph(text(10))).parameters().a!.data)).not.toEqual(Array.from(p1.a!.data));
  });
  it('initial values from JSON and CSV files, relative to the graph', () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-init-'));
    writeFileSync(join(dir, 'w.json'), '[[1, 2, 3], [4, 5, 6]]');
    writeFileSync(join(dir, 'w.csv'), '1,2,3\n4,5,6\n');
    const g = join(dir, 'g.yaml');
    writeFileSync(
      g,
      'graph-run: 1\nparams:\n  a: {shape: [2, 3], init: {file: w.json}}\n  b: {shape: [2, 3], init: {file: w.csv}}\nnodes:\n  - {name: s, op: add, inputs: [a, b]}\noutputs: [s]\n',
    );
    const p = compile(loadGraph(g)).parameters();
    expect(Array.from(p.a!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(p.b!.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('dropout', () => {
  const graph = (p: number) => `graph-run: 1
seed: ${ref.dropout.seed}
inputs: {x: {shape: [batch, 20]}}
params: {w: {shape: [20], init: 1}}
nodes:
  - {name: h, op: mul, inputs: [x, w]}
  - {name: ${ref.dropout.node}, op: dropout, inputs: [h], attrs: {p: ${p}}}
outputs: [${ref.dropout.node}]
loss: {op: sum, inputs: [${ref.dropout.node}]}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 1}}
training:
  data: {x: [${JSON.stringify(Array(20).fill(1))}]}
  epochs: ${ref.dropout.step}
`;
  it('zeroes the documented mask in training step k, scales the rest by 1/(1-p); the gradient uses the same mask', () => {
    const s = compile(parseGraph(graph(ref.dropout.p)), { dtype: 'f64' });
    // Epochs of one step each: after step k, w_i = 1 - (step count in which element i was kept) / (1 - p).
    s.train({ epochs: ref.dropout.step - 1 });
    const before = Array.from(s.parameters().w!.data);
    s.train({ epochs: ref.dropout.step, from: ref.dropout.step - 1 });
    const after = Array.from(s.parameters().w!.data);
    const scale = 1 / (1 - ref.dropout.p);
    after.forEach((a, i) => expect(before[i]! - a).toBeCloseTo(ref.dropout.mask[i]! * scale, 12));
  });
  it('is the identity outside training (predictions, evaluation)', () => {
    const s = compile(parseGraph(graph(0.5)), { dtype: 'f64' });
    const out = s.run(new Map([['x', Array(20).fill(2)]]), 1)[ref.dropout.node]!;
    expect(Array.from(out.data)).toEqual(Array(20).fill(2));
    expect(s.evaluate()).toBe(20);
  });
  it('keeps about 1 - p of the elements', () => {
    const s = new Stream(1, 'dropout:big');
    let kept = 0;
    for (let i = 0; i < 10000; i++) if (s.uniform(i, 1) < 0.7) kept++;
    expect(Math.abs(kept / 10000 - 0.7)).toBeLessThan(0.02);
  });
});
