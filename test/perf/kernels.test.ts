// The fast CPU kernels against the reference kernels they stand in for: the WebAssembly SIMD
// matmul on odd shapes (1×1, primes, sizes that are not multiples of the 5×8 register tile or
// of the cache blocks, empty and k = 0 products, transposed operands, batches, vectors, large
// enough to be split across threads), and fused elementwise loops, which must match the
// unfused kernels bit for bit. The matmul runs twice: with plain SIMD (a rounded product, then
// an add) and with relaxed SIMD's fused multiply-add, which Node 20 validates behind a V8 flag
// (set below, as the CLI sets it) and newer engines by default. No timing here: speed is
// measured by `npm run bench` only.

import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { registry } from '../../runtime/ops/registry.js';
import { dims } from '../../runtime/ops/matmul.js';
import { fastMatmul } from '../../runtime/executors/cpu/matmul.js';
import { Kernels, kernels } from '../../runtime/executors/cpu/threads.js';
import { defaultGemmShape, relaxedSimd } from '../../runtime/executors/cpu/wasm/gemm.js';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { buildGraph } from '../../runtime/ir/build.js';
import { buildPlan } from '../../runtime/scheduler/plan.js';
import { fuseElementwise } from '../../runtime/scheduler/fusion.js';
import { compile, loadGraph, parseGraph } from '../../runtime/index.js';
import { sizeOf, type TensorType, type TypedArray } from '../../runtime/ir/types.js';
import { prng } from '../support/prng.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const K = kernels();
const variants: [string, Kernels][] = [
  ['plain SIMD', new Kernels(1, { ...defaultGemmShape, fma: false })],
  ['fused multiply-add', new Kernels(1, { ...defaultGemmShape, fma: true })],
];

it('relaxed SIMD validates (Node >= 22, or Node 20 with the flag the CLI sets)', () => {
  expect(relaxedSimd()).toBe(true);
  expect(K?.shape.fma).toBe(true);
});

describe.each(variants)('WebAssembly SIMD matmul, %s', (_, K) => {
  const rnd = prng(7);
  // [a shape, b shape, transpose_a, transpose_b]
  const cases: [number[], number[], boolean, boolean][] = [
    [[1, 1], [1, 1], false, false],
    [[2, 3], [3, 5], false, false],
    [[7, 13], [13, 11], false, false],
    [[5, 8], [8, 8], false, false],
    [[6, 9], [9, 17], false, false],
    [[31, 37], [37, 41], false, false],
    [[37, 31], [37, 41], true, false],
    [[31, 37], [41, 37], false, true],
    [[37, 31], [41, 37], true, true],
    [[121, 257], [257, 513], false, false], // past one cache block in m, k and n
    [[131, 67], [67, 257], false, false],
    [[67, 131], [257, 67], true, true],
    [[509, 3], [3, 1031], false, false], // long n split; k smaller than a vector
    [[1031, 3], [3, 509], false, false], // long m split
    [[0, 5], [5, 7], false, false], // empty batch
    [[4, 0], [0, 6], false, false], // k = 0: zeros
    [[3, 17], [17], false, false], // matrix · vector
    [[17], [17, 9], false, false], // vector · matrix
    [[29], [29], false, false], // vector · vector
    [[3, 7, 11], [11, 13], false, false], // batch, shared B
    [[7, 11], [3, 11, 13], false, false], // shared A, batched B
    [[3, 11, 7], [3, 13, 11], true, true],
    [[0, 4, 5], [5, 6], false, false], // empty batch of matrices
  ];
  const f32 = (n: number) => new Float32Array(n);
  for (const [as, bs, ta, tb] of cases) {
    it(`${JSON.stringify(as)}${ta ? 'ᵀ' : ''} · ${JSON.stringify(bs)}${tb ? 'ᵀ' : ''}`, () => {
      const d = dims(as, bs, ta, tb);
      const inTypes: TensorType[] = [
        { shape: as, dtype: 'f32' },
        { shape: bs, dtype: 'f32' },
      ];
      const outType: TensorType = { shape: d.out, dtype: 'f32' };
      const attrs = { transpose_a: ta, transpose_b: tb };
      const a = f32(sizeOf(as)).map(() => rnd() * 2 - 1),
        b = f32(sizeOf(bs)).map(() => rnd() * 2 - 1);
      const want = f32(sizeOf(d.out));
      registry.matmul.cpu({ inputs: [a, b], output: want, inTypes, outType, attrs })();
      // Once with plain arrays (staged through arena scratch), once with arena buffers (in place).
      for (const inArena of [false, true]) {
        const A = inArena ? K.arena.f32(a.length) : f32(a.length);
        const B = inArena ? K.arena.f32(b.length) : f32(b.length);
        const C = inArena ? K.arena.f32(want.length) : f32(want.length);
        A.set(a);
        B.set(b);
        C.fill(NaN); // every element must be written
        const run = fastMatmul(K, [A, B], C, inTypes, attrs, 0);
        expect(run).not.toBeNull();
        run!();
        // Within f32 rounding: each step rounds once more (plain) or once less (fused) than the
        // reference's.
        const tol = 4 * Math.max(1, d.k) * 2 ** -24 * Math.max(1, d.k);
        for (let i = 0; i < want.length; i++) {
          if (!(Math.abs(C[i]! - want[i]!) <= tol))
            expect.fail(`element ${i}: fast ${C[i]} vs reference ${want[i]} (arena: ${inArena})`);
        }
        // Twice in a row gives the same bits (no state kept between calls).
        const first = C.slice();
        run!();
        expect(C).toEqual(first);
      }
    });
  }

  it('leaves f64 and tiny products to the reference kernel', () => {
    const t64: TensorType[] = [
      { shape: [64, 64], dtype: 'f64' },
      { shape: [64, 64], dtype: 'f64' },
    ];
    expect(fastMatmul(K, [new Float64Array(4096), new Float64Array(4096)], new Float64Array(4096), t64, {})).toBeNull();
    const t32: TensorType[] = [
      { shape: [2, 2], dtype: 'f32' },
      { shape: [2, 2], dtype: 'f32' },
    ];
    expect(fastMatmul(K, [f32(4), f32(4)], f32(4), t32, {})).toBeNull();
  });
});

describe('elementwise fusion', () => {
  const graph = `
inputs:
  a: {shape: [batch, 5]}
  b: {shape: [batch, 5]}
  bias: {shape: [5]}
  col: {shape: [batch, 1]}
  s: {shape: []}
nodes:
  - {name: p, op: mul, inputs: [a, b]}
  - {name: q, op: add, inputs: [p, bias]}
  - {name: r, op: sigmoid, inputs: [q]}
  - {name: u, op: sub, inputs: [r, col]}
  - {name: v, op: mul, inputs: [u, s]}
  - {name: w, op: tanh, inputs: [v]}
  - {name: z, op: div, inputs: [w, q]}
outputs: [z, r2]
`;
  // r2 reads r from outside the chain after z: r must stay materialised.
  const text = graph.replace('outputs: [z, r2]', '  - {name: r2, op: exp, inputs: [r]}\noutputs: [z, r2]');

  it('groups a chain, keeps values read elsewhere, and runs it bit-identically to the unfused kernels', () => {
    const model = parseGraph(text);
    for (const dtype of ['f32', 'f64'] as const) {
      for (const batch of [1, 3, 0]) {
        const built = buildGraph(model, { float: dtype, batch });
        const g = built.graph;
        const order = g.ancestors(['z', 'r2']);
        const groups = fuseElementwise(g, order, { keep: new Set(['z', 'r2']) });
        // q is read by r and z, r by u and r2: both stay in memory; p joins q, u..w join z.
        expect(groups.map((gr) => gr.nodes.map((n) => n.name))).toEqual([
          ['p', 'q'],
          ['u', 'v', 'w', 'z'],
        ]);
        const rnd = prng(3);
        const feed = new Map<string, number[]>();
        for (const i of ['a', 'b', 'bias', 'col', 's'])
          feed.set(
            i,
            Array.from({ length: sizeOf(g.node(i).type.shape) }, () => rnd() * 4 - 2),
          );
        const results: TypedArray[][] = [];
        for (const fast of [false, true]) {
          const exec = new CpuExecutor({ fast });
          const plan = buildPlan(g, exec, { outputs: ['z', 'r2'], bound: new Map() });
          for (const [k, v] of feed) plan.buffer(k).set(v);
          plan.run();
          results.push([plan.buffer('z').slice(), plan.buffer('r2').slice()]);
        }
        expect(Array.from(results[1]![0]!)).toEqual(Array.from(results[0]![0]!));
        expect(Array.from(results[1]![1]!)).toEqual(Array.from(results[0]![1]!));
      }
    }
  });

  it('fuses broadcast inputs of every kind (row, column, scalar, general) exactly', () => {
    const model = parseGraph(`
inputs:
  x: {shape: [3, 4, 5]}
  row: {shape: [5]}
  col: {shape: [3, 1, 1]}
  mid: {shape: [4, 1]}
  one: {shape: [1]}
nodes:
  - {name: a, op: add, inputs: [x, row]}
  - {name: b, op: mul, inputs: [a, col]}
  - {name: c, op: sub, inputs: [b, mid]}
  - {name: d, op: maximum, inputs: [c, one]}
  - {name: e, op: square, inputs: [d]}
outputs: [e]
`);
    for (const dtype of ['f32', 'f64'] as const) {
      const g = buildGraph(model, { float: dtype, batch: 1 }).graph;
      const rnd = prng(11);
      const out: number[][] = [];
      for (const fast of [false, true]) {
        const plan = buildPlan(g, new CpuExecutor({ fast }), { outputs: ['e'], bound: new Map() });
        const r = prng(5);
        for (const i of ['x', 'row', 'col', 'mid', 'one']) {
          const buf = plan.buffer(i);
          for (let j = 0; j < buf.length; j++) buf[j] = r() * 2 - 1;
        }
        plan.run();
        out.push(Array.from(plan.buffer('e')));
        void rnd;
      }
      expect(out[1]).toEqual(out[0]);
    }
  });
});

describe('training with the fast tier', () => {
  it("gender's f32 training is bit-identical with and without the fast kernels", () => {
    const runs = [false, true].map((fast) => {
      const s = compile(loadGraph('graphs/gender.yaml'), { dtype: 'f32', fast });
      return s.train({ epochs: 50 }).map((r) => r.loss);
    });
    expect(runs[1]).toEqual(runs[0]);
  });

  it('the benchmark MLP takes the same steps within f32 rounding', () => {
    const losses = [false, true].map((fast) => {
      const model = loadGraph('graphs/bench/mlp.yaml');
      const s = compile(model, { fast });
      const rnd = prng(42);
      for (const p of model.params) {
        const buf = s.params.get(p.name)!;
        for (let i = 0; i < buf.length; i++) buf[i] = (rnd() * 2 - 1) / Math.sqrt(p.shape[0]!);
      }
      const batch = 37; // odd on purpose
      const x = new Float32Array(batch * 784).map(() => rnd());
      const y = new Float32Array(batch * 10);
      for (let r = 0; r < batch; r++) y[r * 10 + Math.floor(rnd() * 10)] = 1;
      const out: number[] = [];
      for (let i = 0; i < 5; i++) out.push(s.stepOn(batch, { x, y }));
      return { out, w3: s.params.get('w3')!.slice() };
    });
    losses[1]!.out.forEach((l, i) => expect(l).toBeCloseTo(losses[0]!.out[i]!, 5));
    const w = losses[0]!.w3,
      f = losses[1]!.w3;
    for (let i = 0; i < w.length; i++) expect(Math.abs(f[i]! - w[i]!)).toBeLessThan(1e-5);
  });
});

describe('sum and mean fast paths', () => {
  const rnd = prng(13);
  const cases: [number[], number | number[] | undefined][] = [
    [[128, 256], 0],
    [[128, 256], 1],
    [[128, 256], -1],
    [[7, 1, 5], 0],
    [
      [7, 1, 5],
      [0, 1],
    ],
    [[1, 7, 5], 1],
    [
      [3, 4, 5],
      [0, 1],
    ],
    [
      [3, 4, 5],
      [1, 2],
    ],
    [[3, 4, 5], 1],
    [
      [3, 4, 5],
      [0, 2],
    ],
    [
      [7, 3, 5],
      [1, 2],
    ], // seven rows: four at a time, then three one by one
    [[0, 5], 0],
    [[5, 0], 1],
    [[1, 1], 0],
    [[13], 0],
  ];
  for (const [shape, axis] of cases) {
    for (const op of ['sum', 'mean'] as const) {
      for (const dtype of ['f32', 'f64'] as const) {
        it(`${op} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)} ${dtype}`, () => {
          const attrs = axis === undefined ? {} : { axis };
          const inT: TensorType = { shape, dtype };
          const outT = registry[op].infer([inT], attrs, { float: dtype }) as TensorType;
          const mk = (n: number) => (dtype === 'f32' ? new Float32Array(n) : new Float64Array(n));
          const x = mk(sizeOf(shape)).map(() => rnd() * 2 - 1);
          const want = mk(sizeOf(outT.shape)),
            got = mk(sizeOf(outT.shape));
          registry[op].cpu({ inputs: [x], output: want, inTypes: [inT], outType: outT, attrs })();
          const exec = new CpuExecutor({ fast: true });
          const run = exec.prepare({ name: 'r', op, inputs: ['x'], attrs, type: outT }, [x], got, [inT]);
          got.fill(NaN);
          run();
          expect(Array.from(got)).toEqual(Array.from(want));
        });
      }
    }
  }
});

describe.skipIf(K === null)('WebAssembly SIMD elementwise loops', () => {
  const ulp = (x: number) => {
    const a = Math.abs(x);
    if (a < 1.1754943508222875e-38) return 1.401298464324817e-45;
    return 2 ** (Math.floor(Math.log2(a)) - 23);
  };
  // [graph body, inputs with shapes, exact?]
  const cases: [string, Record<string, number[]>, boolean][] = [
    ['{name: y, op: relu, inputs: [x]}', { x: [1031] }, true], // odd length: a JavaScript tail
    ['{name: y, op: relu_grad, inputs: [x, d]}', { x: [64, 36], d: [64, 36] }, true],
    ['{name: p, op: add, inputs: [x, b]}\n  - {name: y, op: relu, inputs: [p]}', { x: [33, 256], b: [256] }, true], // bias row
    [
      '{name: p, op: mul, inputs: [x, s]}\n  - {name: q, op: sub, inputs: [p, x]}\n  - {name: y, op: maximum, inputs: [q, x]}',
      { x: [4099], s: [] },
      true,
    ],
    [
      '{name: p, op: div, inputs: [x, d]}\n  - {name: q, op: sqrt, inputs: [p]}\n  - {name: y, op: less, inputs: [q, x]}',
      { x: [300], d: [300] },
      true,
    ],
    [
      '{name: p, op: mul, inputs: [x, d]}\n  - {name: q, op: add, inputs: [p, b]}\n  - {name: y, op: sigmoid, inputs: [q]}',
      { x: [2053], d: [2053], b: [2053] },
      false,
    ],
    ['{name: y, op: exp, inputs: [x]}', { x: [4096] }, false],
    ['{name: y, op: sigmoid_grad, inputs: [x, d]}', { x: [1000], d: [1000] }, false],
    // Every user op's SIMD lowering alone (OpDef.simd), exact where it says so, on inputs up to ±120.
    // (Gradient helpers read a forward output, such as tanh's in [-1, 1]: their cases are above.)
    ...Object.values(registry)
      .filter((d) => d.simd && !d.internal)
      .map((d): [string, Record<string, number[]>, boolean] =>
        d.arity === 1
          ? [`{name: y, op: ${d.name}, inputs: [x]}`, { x: [1031] }, d.simd!.exact]
          : [`{name: y, op: ${d.name}, inputs: [x, d]}`, { x: [1031], d: [1031] }, d.simd!.exact],
      ),
  ];
  for (const [body, ins, exact] of cases) {
    it(`${body.replace(/\s+/g, ' ')} ${JSON.stringify(ins)}`, () => {
      const model = parseGraph(
        `inputs: {${Object.entries(ins)
          .map(([k, s]) => `${k}: {shape: [${s.join(', ')}]}`)
          .join(', ')}}\nnodes:\n  - ${body}\noutputs: [y]`,
      );
      const g = buildGraph(model, { float: 'f32', batch: 1 }).graph;
      const out: Float32Array[] = [];
      for (const fast of [false, true]) {
        const plan = buildPlan(g, new CpuExecutor({ fast }), { outputs: ['y'], bound: new Map() });
        const r = prng(17);
        for (const k of Object.keys(ins)) {
          const buf = plan.buffer(k);
          // Wide range for exp and sigmoid (overflow, underflow, subnormal results); zeros and -0 for relu.
          for (let j = 0; j < buf.length; j++)
            buf[j] = j % 97 === 0 ? (j % 2 ? -0 : 0) : (r() * 2 - 1) * (j % 7 === 0 ? 120 : 6);
        }
        plan.run();
        out.push(plan.buffer('y').slice() as Float32Array);
      }
      const [ref, fast] = out as [Float32Array, Float32Array];
      if (exact) expect(Array.from(fast)).toEqual(Array.from(ref));
      else {
        for (let j = 0; j < ref.length; j++) {
          const d = Math.abs(fast[j]! - ref[j]!);
          // Within 4 ulp; below the normal range (subnormal results) an absolute 2^-126.
          if (!(d <= 4 * ulp(ref[j]!) || d < 2 ** -126 || Object.is(fast[j], ref[j])))
            expect.fail(`element ${j}: ${fast[j]} vs ${ref[j]}`);
        }
      }
    });
  }
});

describe.skipIf(K === null || K.threads < 2)('work split across the helper threads', () => {
  it('gives the same bits as the calling thread alone', async () => {
    // Start the helpers with one product large enough to split (256³ ≥ 2^23 multiply-adds),
    // then wait until they are up.
    const warm = fastMatmul(
      K!,
      [K!.arena.f32(256 * 256), K!.arena.f32(256 * 256)],
      K!.arena.f32(256 * 256),
      [
        { shape: [256, 256], dtype: 'f32' },
        { shape: [256, 256], dtype: 'f32' },
      ],
      {},
      0,
    )!;
    warm();
    for (let i = 0; i < 200 && K!.helpersReady < K!.threads - 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(K!.helpersReady).toBe(K!.threads - 1);
    const rnd = prng(23);
    // A product cut into chunks along m, one along n, and elementwise loops cut into chunks (flat and by rows).
    for (const [m, k, n] of [
      [2053, 131, 37],
      [45, 131, 2053],
    ]) {
      // > 8M multiply-adds: split
      const inTypes: TensorType[] = [
        { shape: [m, k], dtype: 'f32' },
        { shape: [k, n], dtype: 'f32' },
      ];
      const a = K!.arena.f32(m * k).map(() => rnd() - 0.5),
        b = K!.arena.f32(k * n).map(() => rnd() - 0.5);
      const A = K!.arena.f32(m * k),
        B = K!.arena.f32(k * n);
      A.set(a);
      B.set(b);
      const C = K!.arena.f32(m * n);
      fastMatmul(K!, [A, B], C, inTypes, {}, 0)!();
      const want = new Float32Array(m * n);
      registry.matmul.cpu({
        inputs: [a, b],
        output: want,
        inTypes,
        outType: { shape: [m, n], dtype: 'f32' },
        attrs: {},
      })();
      for (let i = 0; i < want.length; i++) expect(Math.abs(C[i]! - want[i]!)).toBeLessThan(1e-4);
    }
    const model = parseGraph(`inputs: {x: {shape: [2049, 512]}, b: {shape: [512]}, z: {shape: [2049, 512]}}
nodes:
  - {name: p, op: add, inputs: [x, b]}
  - {name: y, op: relu, inputs: [p]}
  - {name: q, op: mul, inputs: [x, z]}
  - {name: w, op: maximum, inputs: [q, x]}
outputs: [y, w]`);
    const g = buildGraph(model, { float: 'f32', batch: 1 }).graph;
    const res: number[][][] = [];
    for (const fast of [false, true]) {
      const plan = buildPlan(g, new CpuExecutor({ fast }), { outputs: ['y', 'w'], bound: new Map() });
      const r = prng(29);
      for (const i of ['x', 'b', 'z']) {
        const buf = plan.buffer(i);
        for (let j = 0; j < buf.length; j++) buf[j] = r() * 2 - 1;
      }
      plan.run();
      res.push([Array.from(plan.buffer('y')), Array.from(plan.buffer('w'))]);
    }
    expect(res[1]![0]).toEqual(res[0]![0]);
    expect(res[1]![1]).toEqual(res[0]![1]);
  });
});
