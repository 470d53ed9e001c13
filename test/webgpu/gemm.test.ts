// The WebGPU matmul paths beyond the plain tiled kernel, against f64 references written here and
// the CPU executor: the bias/ReLU epilogue in the kernel's store step (on and off: the executor's
// `epilogues`, GRAPH_RUN_EPILOGUE=0), the narrow tile with k split across workgroups (thin
// products: n = 1, 10; ragged m, k; transposed operands; batches), elementwise chains fused into
// one kernel (on and off: `fusion`, GRAPH_RUN_FUSE=0), and an MLP training step that uses all
// of them, against the CPU. The kernel choice itself is checked without a device.
import { afterAll, describe, expect, it } from 'vitest';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import type { Executor } from '../../runtime/executors/executor.js';
import { WebGpuExecutor } from '../../runtime/executors/webgpu/webgpu.js';
import { frame } from '../../runtime/executors/webgpu/wgsl.js';
import { parseGraph } from '../../runtime/index.js';
import { IRGraph } from '../../runtime/ir/graph.js';
import { sizeOf, type TypedArray } from '../../runtime/ir/types.js';
import { matmulKernel, type MatmulShape, matmulTiles, splitCount } from '../../runtime/ops/matmul.wgsl.js';
import { buildPlan } from '../../runtime/scheduler/plan.js';
import { Session } from '../../runtime/session.js';
import { maxRelErr } from '../ops/helpers.js';
import { probeWebGpu, requireWebGpu } from './device.js';

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

if (requireWebGpu) {
  it('has a WebGPU adapter (GRAPH_RUN_REQUIRE_WEBGPU=1)', () => {
    expect(probe.reason).toBe('');
  });
}

/** f32 against f64, relative to the largest magnitude (as test/webgpu/executors.test.ts). */
const F32_TOL = 1e-5;

const rnd = (() => {
  let s = 98765;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
})();
const randn = (n: number) => Float32Array.from({ length: n }, rnd);

const shapeOf = (as: number[], bs: number[], ta: boolean, tb: boolean): MatmulShape => {
  const am = as.length === 1 ? [1, as[0]!] : as.slice(-2),
    bm = bs.length === 1 ? [bs[0]!, 1] : bs.slice(-2);
  const [m, k] = ta ? [am[1]!, am[0]!] : [am[0]!, am[1]!];
  const n = tb ? bm[0]! : bm[1]!;
  const batch = as.length === 3 ? as[0]! : bs.length === 3 ? bs[0]! : 1;
  return { batch, m, k, n, aStride: as.length === 3 ? m * k : 0, bStride: bs.length === 3 ? k * n : 0, ta, tb };
};

/** act(op(A)·op(B) + bias) in f64; bias one value per column (or none). */
function reference(
  A: Float32Array,
  B: Float32Array,
  s: MatmulShape,
  bias: Float32Array | null,
  relu: boolean,
): number[] {
  const out: number[] = [];
  for (let t = 0; t < s.batch; t++)
    for (let i = 0; i < s.m; i++)
      for (let j = 0; j < s.n; j++) {
        let v = 0;
        for (let p = 0; p < s.k; p++)
          v +=
            A[t * s.aStride + (s.ta ? p * s.m + i : i * s.k + p)]! *
            B[t * s.bStride + (s.tb ? j * s.k + p : p * s.n + j)]!;
        if (bias) v += bias[j]!;
        out.push(relu ? Math.max(v, 0) : v);
      }
  return out;
}

interface Case {
  name: string;
  as: number[];
  bs: number[];
  ta?: boolean;
  tb?: boolean;
}

// Thin products split k (narrow tile, or plain tiles when too few of them); the rest check
// the epilogue on the other kernels (tiled with ragged edges, naive).
const cases: Case[] = [
  { name: 'n = 10, k split (an output layer)', as: [200, 1500], bs: [1500, 10] },
  { name: 'n = 10, aᵀ·b (its weight gradient)', as: [1500, 200], bs: [1500, 10], ta: true },
  { name: 'n = 10, a·bᵀ', as: [200, 1500], bs: [10, 1500], tb: true },
  { name: 'n = 10, aᵀ·bᵀ', as: [700, 130], bs: [10, 700], ta: true, tb: true },
  { name: 'n = 1 (matrix · column)', as: [300, 1000], bs: [1000, 1] },
  { name: 'matrix · vector, long k', as: [70, 900], bs: [900] },
  { name: 'vector · matrix, n = 10, long k', as: [2000], bs: [2000, 10] },
  { name: 'batched 3×65×700 · 700×10 (shared b)', as: [3, 65, 700], bs: [700, 10] },
  { name: 'batched 4×50×300 · 4×300×7', as: [4, 50, 300], bs: [4, 300, 7] },
  { name: 'plain tiles, k split: 130×1500 · 1500×200', as: [130, 1500], bs: [1500, 200] },
  { name: 'dY·Wᵀ with k = 10: 130×10 · (200×10)ᵀ', as: [130, 10], bs: [200, 10], tb: true },
  { name: 'tiled, ragged edges: 130×70 · 70×200', as: [130, 70], bs: [70, 200] },
  { name: 'naive kernel: 6×5 · 5×7', as: [6, 5], bs: [5, 7] },
];

describe('the matmul kernel choice (no device)', () => {
  it('gives thin products a narrow tile with k split, and leaves large ones whole', () => {
    const thin = shapeOf([1024, 4096], [4096, 10], false, false);
    const k = matmulKernel(thin);
    expect(k.kind).toBe('passes');
    if (k.kind !== 'passes') return;
    expect(k.passes[0]!.kind === 'tiled' && k.passes[0]!.grid).toEqual([1, 8, 32]);
    expect(k.scratch).toBe(32 * 1024 * 10);
    expect(k.passes[1]!.kind).toBe('map');
    // The weight gradient h2ᵀ·dY of the same layer.
    const grad = matmulKernel(shapeOf([1024, 4096], [1024, 10], true, false));
    expect(grad.kind === 'passes' && grad.passes[0]!.kind === 'tiled' && grad.passes[0]!.grid).toEqual([1, 32, 8]);
    // Large products: one pass, as before (big tiles, no scratch).
    const big = matmulKernel(shapeOf([4096, 4096], [4096, 4096], false, false));
    expect(big.kind === 'tiled' && big.grid).toEqual([32, 32, 1]);
    expect(splitCount(shapeOf([64, 100], [100, 10], false, false), 1, 16)).toBe(1);
    for (const c of cases) {
      const s = shapeOf(c.as, c.bs, c.ta === true, c.tb === true);
      const want = c.name.includes('split') || c.name.startsWith('n = ') || c.name.includes('long k');
      if (!c.name.startsWith('batched')) expect(matmulKernel(s).kind === 'passes', c.name).toBe(want);
    }
    expect(matmulTiles.narrow.bn).toBe(16);
  });

  it("binds a split product's scratch buffer after the output, in each of its passes", () => {
    const k = matmulKernel(shapeOf([1024, 4096], [4096, 10], false, false));
    if (k.kind !== 'passes') throw new Error('expected a split product');
    for (const p of k.passes) {
      const { code } = frame(p, ['f32', 'f32'], 'f32', true);
      expect(code).toContain('@group(0) @binding(3) var<storage, read_write> scratch: array<f32>;');
      expect(code).toContain('scratch[');
    }
    expect(frame(k.passes[0]!, ['f32', 'f32'], 'f32').code).not.toContain('var<storage, read_write> scratch');
  });

  it('puts the epilogue in the store step of each kernel kind', () => {
    for (const c of cases) {
      const k = matmulKernel(shapeOf(c.as, c.bs, c.ta === true, c.tb === true), undefined, {
        bias: true,
        relu: true,
      });
      const last = k.kind === 'passes' ? k.passes.at(-1)! : k;
      expect(last.body, c.name).toContain('in2[');
      expect(last.body, c.name).toContain('select(0.0, ');
      if (k.kind === 'passes') expect(k.passes[0]!.body).not.toContain('in2[');
    }
  });
});

/** y = matmul(a, b) (then s = y + bias, r = relu(s)), as a plan on `exec`; outputs as asked. */
async function runProduct(
  exec: Executor<unknown>,
  c: Case,
  A: Float32Array,
  B: Float32Array,
  bias: Float32Array | null,
  outputs: string[],
): Promise<{ out: Record<string, TypedArray>; dispatches: number }> {
  const g = new IRGraph('f32');
  g.add({ name: 'a', op: 'input', inputs: [], attrs: { shape: c.as, dtype: 'f32' } });
  g.add({ name: 'b', op: 'input', inputs: [], attrs: { shape: c.bs, dtype: 'f32' } });
  g.add({
    name: 'y',
    op: 'matmul',
    inputs: ['a', 'b'],
    attrs: { ...(c.ta ? { transpose_a: true } : {}), ...(c.tb ? { transpose_b: true } : {}) },
  });
  if (bias) {
    g.add({ name: 'bias', op: 'input', inputs: [], attrs: { shape: [bias.length], dtype: 'f32' } });
    g.add({ name: 's', op: 'add', inputs: ['y', 'bias'] });
    g.add({ name: 'r', op: 'relu', inputs: ['s'] });
  }
  const plan = buildPlan(g, exec, { outputs, bound: new Map() });
  exec.write(plan.buffer('a'), A);
  exec.write(plan.buffer('b'), B);
  if (bias) exec.write(plan.buffer('bias'), bias);
  const gpu = exec instanceof WebGpuExecutor ? exec : null;
  const d0 = gpu?.dispatches ?? 0;
  plan.run();
  if (gpu) await gpu.ready();
  const out: Record<string, TypedArray> = {};
  for (const o of outputs) {
    const t = g.node(o).type;
    out[o] = await exec.read(plan.buffer(o), t.dtype, sizeOf(t.shape));
  }
  return { out, dispatches: (gpu?.dispatches ?? 0) - d0 };
}

describe.skipIf(!probe.gpu)('WebGPU matmul kernels', () => {
  describe.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const s = shapeOf(c.as, c.bs, c.ta === true, c.tb === true);
    const A = randn(sizeOf(c.as)),
      B = randn(sizeOf(c.bs)),
      bias = randn(s.n);
    const passes = matmulKernel(s).kind === 'passes' ? 2 : 1;
    // The planner gives epilogues to matrix outputs only (a vector result keeps its add).
    const vector = c.as.length === 1 || c.bs.length === 1;

    it('plain product: matches the f64 reference and the CPU executor', async () => {
      const gpu = (await runProduct(probe.gpu!, c, A, B, null, ['y'])).out.y!;
      const want = reference(A, B, s, null, false);
      expect(maxRelErr(gpu, want)).toBeLessThanOrEqual(F32_TOL);
      const cpu = (await runProduct(new CpuExecutor() as Executor<unknown>, c, A, B, null, ['y'])).out.y!;
      expect(maxRelErr(gpu, Array.from(cpu))).toBeLessThanOrEqual(F32_TOL);
    });

    it('bias + ReLU in the store step: the f64 reference, the CPU, and the same bits as without', async () => {
      const gpu = probe.gpu!;
      const want = reference(A, B, s, bias, true);
      try {
        gpu.epilogues = true;
        const on = await runProduct(gpu, c, A, B, bias, ['r']);
        gpu.epilogues = false;
        const off = await runProduct(gpu, c, A, B, bias, ['r']);
        expect(on.dispatches).toBe(vector ? passes + 1 : passes);
        // Without the epilogue the add and the ReLU fuse into one elementwise kernel.
        expect(off.dispatches).toBe(passes + 1);
        expect(maxRelErr(on.out.r!, want)).toBeLessThanOrEqual(F32_TOL);
        expect(Array.from(on.out.r!)).toEqual(Array.from(off.out.r!));
        const cpu = (await runProduct(new CpuExecutor() as Executor<unknown>, c, A, B, bias, ['r'])).out.r!;
        expect(maxRelErr(on.out.r!, Array.from(cpu))).toBeLessThanOrEqual(F32_TOL);
      } finally {
        gpu.epilogues = true;
      }
    });

    it('bias only, when the sum is read elsewhere (a training step): the ReLU runs on its own', async () => {
      const r = await runProduct(probe.gpu!, c, A, B, bias, ['s', 'r']);
      expect(r.dispatches).toBe(vector ? passes + 2 : passes + 1);
      expect(maxRelErr(r.out.s!, reference(A, B, s, bias, false))).toBeLessThanOrEqual(F32_TOL);
      expect(maxRelErr(r.out.r!, reference(A, B, s, bias, true))).toBeLessThanOrEqual(F32_TOL);
    });
  });
});

describe.skipIf(!probe.gpu)('WebGPU elementwise fusion', () => {
  /** out = tanh((x - lr·g) · row), row broadcast over [r, c]; the three ops in one kernel. */
  async function chain(
    fuse: boolean,
  ): Promise<{ y: TypedArray; dispatches: number; x: Float32Array; g: Float32Array; row: Float32Array }> {
    const gpu = probe.gpu!;
    const x = randn(37 * 29),
      gr = randn(37 * 29),
      row = randn(29);
    const g = new IRGraph('f32');
    g.add({ name: 'x', op: 'input', inputs: [], attrs: { shape: [37, 29], dtype: 'f32' } });
    g.add({ name: 'g', op: 'input', inputs: [], attrs: { shape: [37, 29], dtype: 'f32' } });
    g.add({ name: 'row', op: 'input', inputs: [], attrs: { shape: [29], dtype: 'f32' } });
    g.add({ name: 'lr', op: 'const', inputs: [], attrs: { value: 0.5, shape: [], dtype: 'f32' } });
    g.add({ name: 'step', op: 'mul', inputs: ['lr', 'g'] });
    g.add({ name: 'upd', op: 'sub', inputs: ['x', 'step'] });
    g.add({ name: 'scaled', op: 'mul', inputs: ['upd', 'row'] });
    g.add({ name: 'y', op: 'tanh', inputs: ['scaled'] });
    try {
      gpu.fusion = fuse;
      const plan = buildPlan(g, gpu as Executor<unknown>, { outputs: ['y'], bound: new Map() });
      gpu.write(plan.buffer('x'), x);
      gpu.write(plan.buffer('g'), gr);
      gpu.write(plan.buffer('row'), row);
      const d0 = gpu.dispatches;
      plan.run();
      await gpu.ready();
      return { y: await gpu.read(plan.buffer('y'), 'f32', 37 * 29), dispatches: gpu.dispatches - d0, x, g: gr, row };
    } finally {
      gpu.fusion = true;
    }
  }

  it('runs a chain with a scalar and a broadcast row as one kernel, as the unfused kernels do', async () => {
    const on = await chain(true);
    expect(on.dispatches).toBe(1);
    const want = Array.from(on.y, (_, i) => Math.tanh((on.x[i]! - 0.5 * on.g[i]!) * on.row[i % 29]!));
    expect(maxRelErr(on.y, want)).toBeLessThanOrEqual(F32_TOL);
    const off = await chain(false);
    expect(off.dispatches).toBe(4);
  });

  it('runs a group with more inputs than a kernel may bind member by member', async () => {
    const gpu = probe.gpu!;
    const count = gpu.limits.maxBuffers + 2;
    const g = new IRGraph('f32');
    const xs = Array.from({ length: count }, () => randn(50));
    xs.forEach((_, j) => g.add({ name: `x${j}`, op: 'input', inputs: [], attrs: { shape: [50], dtype: 'f32' } }));
    let last = 'x0';
    for (let j = 1; j < count; j++)
      last = g.add({ name: `s${j}`, op: j % 2 ? 'add' : 'mul', inputs: [last, `x${j}`] }).name;
    const plan = buildPlan(g, gpu as Executor<unknown>, { outputs: [last], bound: new Map() });
    xs.forEach((x, j) => gpu.write(plan.buffer(`x${j}`), x));
    plan.run();
    await gpu.ready();
    const got = await gpu.read(plan.buffer(last), 'f32', 50);
    const want = Array.from({ length: 50 }, (_, i) => {
      let v = xs[0]![i]!;
      for (let j = 1; j < count; j++) v = j % 2 ? v + xs[j]![i]! : v * xs[j]![i]!;
      return v;
    });
    expect(maxRelErr(got, want)).toBeLessThanOrEqual(F32_TOL);
  });
});

describe.skipIf(!probe.gpu)('an MLP training step on WebGPU with epilogues, fusion and split products', () => {
  // Width 320 and batch 260: the output layer (k = 320) and its weight gradient (k = 260) split k.
  const width = 320,
    batch = 260;
  const yaml = `graph-run: 1
name: mlp_gemm_test
seed: 5
inputs:
  x: {shape: [batch, 200]}
  y: {shape: [batch, 10]}
params:
  w1: {shape: [200, ${width}], init: {uniform: {low: -0.05, high: 0.05}}}
  b1: {shape: [${width}], init: {uniform: {low: -0.05, high: 0.05}}}
  w2: {shape: [${width}, ${width}], init: {uniform: {low: -0.08, high: 0.08}}}
  b2: {shape: [${width}], init: {uniform: {low: -0.08, high: 0.08}}}
  w3: {shape: [${width}, 10], init: {uniform: {low: -0.08, high: 0.08}}}
  b3: {shape: [10], init: {uniform: {low: -0.08, high: 0.08}}}
nodes:
  - {name: z1, op: matmul, inputs: [x, w1]}
  - {name: s1, op: add, inputs: [z1, b1]}
  - {name: h1, op: relu, inputs: [s1]}
  - {name: z2, op: matmul, inputs: [h1, w2]}
  - {name: s2, op: add, inputs: [z2, b2]}
  - {name: h2, op: relu, inputs: [s2]}
  - {name: z3, op: matmul, inputs: [h2, w3]}
  - {name: out, op: add, inputs: [z3, b3]}
outputs: [out]
loss: {graph: 'std:losses/mse.yaml', inputs: {pred: out, target: y}}
optimizer: {graph: 'std:optimizers/sgd.yaml', with: {lr: 0.05}}
`;

  it('gives the CPU executor’s losses and parameters (within 1e-5) in fewer dispatches', {
    timeout: 300_000,
  }, async () => {
    const x = Float32Array.from({ length: batch * 200 }, () => (rnd() + 1) / 2);
    const y = new Float32Array(batch * 10);
    for (let r = 0; r < batch; r++) y[r * 10 + (r % 10)] = 1;
    const train = async (s: Session) => {
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) losses.push(await s.stepOnAsync(batch, { x, y }));
      return { losses, params: await s.parametersAsync() };
    };
    const model = () => parseGraph(yaml, 'mlp_gemm_test.yaml');
    const gpu = probe.gpu!;
    const steps: Record<string, number> = {};
    const results: Record<string, Awaited<ReturnType<typeof train>>> = {};
    for (const [name, on] of [
      ['fused', true],
      ['unfused', false],
    ] as const) {
      gpu.epilogues = gpu.fusion = on;
      const s = await Session.create(model(), { device: 'webgpu', gpu, strictDevice: true });
      try {
        const d0 = gpu.dispatches;
        results[name] = await train(s);
        steps[name] = (gpu.dispatches - d0) / 3;
      } finally {
        s.dispose();
        gpu.epilogues = gpu.fusion = true;
      }
    }
    const cpu = await train(new Session(model(), { dtype: 'f32' }));
    for (const r of [results.fused!, results.unfused!]) {
      expect(maxRelErr(r.losses, cpu.losses)).toBeLessThanOrEqual(1e-5);
      for (const [k, t] of Object.entries(cpu.params))
        expect(maxRelErr(r.params[k]!.data, Array.from(t.data)), k).toBeLessThanOrEqual(1e-5);
    }
    expect(steps.fused).toBeLessThan(steps.unfused! - 8);
  });
});

describe.skipIf(!probe.gpu)('WebGPU column sums (bias gradients over a large batch)', () => {
  const cases: [string, number[], number[], 'sum' | 'mean'][] = [
    ['sum over axis 0 of [1100, 2050] (a ragged last workgroup)', [1100, 2050], [0], 'sum'],
    ['mean over axes 0, 1 of [3, 400, 2048]', [3, 400, 2048], [0, 1], 'mean'],
  ];
  it.each(cases)('%s: the f64 reference and the CPU executor', async (_n, shape, axes, op) => {
    const x = randn(sizeOf(shape));
    const m = shape.at(-1)!,
      count = sizeOf(shape) / m;
    const want = Array.from({ length: m }, (_, j) => {
      let v = 0;
      for (let r = 0; r < count; r++) v += x[r * m + j]!;
      return op === 'mean' ? v / count : v;
    });
    const run = async (exec: Executor<unknown>) => {
      const g = new IRGraph('f32');
      g.add({ name: 'x', op: 'input', inputs: [], attrs: { shape, dtype: 'f32' } });
      g.add({ name: 'y', op, inputs: ['x'], attrs: { axis: axes } });
      const plan = buildPlan(g, exec, { outputs: ['y'], bound: new Map() });
      exec.write(plan.buffer('x'), x);
      plan.run();
      if (exec instanceof WebGpuExecutor) await exec.ready();
      return exec.read(plan.buffer('y'), 'f32', m);
    };
    const got = await run(probe.gpu! as Executor<unknown>);
    expect(maxRelErr(got, want)).toBeLessThanOrEqual(F32_TOL);
    const cpu = await run(new CpuExecutor() as Executor<unknown>);
    expect(maxRelErr(got, Array.from(cpu))).toBeLessThanOrEqual(F32_TOL);
  });
});
