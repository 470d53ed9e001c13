// One suite, run on each executor (describe.each): the PyTorch op cases of test/reference/ops.json
// (forward and gradients, through Sessions, every node forced onto the executor), kernels at
// shapes the cases do not reach (tiled matmul, broadcasting, tree reductions, a dispatch past
// 65,535 workgroups; placement.test.ts checks the tiled grid's folding without a device) against f64 references written here, and on WebGPU f32 parity with the CPU
// within 1e-5 relative. Then gender.yaml trained on WebGPU against PyTorch f32, and placement
// with a node on the CPU. Without a WebGPU adapter the WebGPU half skips (see ./device.ts).
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { DeviceError, type Executor } from '../../runtime/executors/executor.js';
import { WebGpuExecutor } from '../../runtime/executors/webgpu/webgpu.js';
import { loadGraph, parseGraph } from '../../runtime/index.js';
import { IRGraph } from '../../runtime/ir/graph.js';
import { sizeOf, type Tensor, type TypedArray } from '../../runtime/ir/types.js';
import type { Model } from '../../runtime/load/model.js';
import { Stream } from '../../runtime/ops/random.js';
import { buildPlan } from '../../runtime/scheduler/plan.js';
import { Session } from '../../runtime/session.js';
import { maxRelErr, opCaseYaml, referenceCases, type OpCase } from '../ops/helpers.js';
import { probeWebGpu, requireWebGpu } from './device.js';

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

if (requireWebGpu) {
  it('has a WebGPU adapter (GRAPH_RUN_REQUIRE_WEBGPU=1)', () => {
    expect(probe.reason).toBe('');
  });
}

const ref = { cases: referenceCases() };
const torch = JSON.parse(readFileSync(new URL('../fixtures/seed-torch.json', import.meta.url), 'utf8')) as {
  torch_f32: { loss_log: [number, number][]; predictions: Record<string, number> };
};

/** f32 against an f64 reference: a few units in the last place, relative to the largest magnitude. */
const F32_TOL = 1e-5;
/** WebGPU against the CPU executor, the bound. */
const PARITY = 1e-5;

interface Backend {
  /** A session whose every node runs on this executor (strict: no fallback). */
  session(m: Model): Promise<Session>;
  exec(): Executor<unknown>;
}

const cpuBackend: Backend = {
  session: async (m) => new Session(m, { dtype: 'f32' }),
  exec: () => new CpuExecutor() as Executor<unknown>,
};
const gpuBackend: Backend = {
  session: (m) => Session.create(m, { dtype: 'f32', device: 'webgpu', gpu: probe.gpu!, strictDevice: true }),
  exec: () => probe.gpu! as Executor<unknown>,
};

const feedOf = (c: OpCase) => new Map(c.inputs.filter((i) => i.dtype === 'i32').map((i) => [i.name, i.data]));

/** The same case on the CPU executor, for parity. */
async function cpuOf(c: OpCase): Promise<{ y: Tensor; grads: Record<string, Tensor> }> {
  const s = await cpuBackend.session(parseGraph(opCaseYaml(c), `${c.name}.yaml`));
  return { y: (await s.runAsync(feedOf(c), 1)).y!, grads: c.grads ? await s.gradientsAsync() : {} };
}

// ---- Kernels at shapes the op cases do not reach, with f64 references -----------------------

interface KernelCase {
  name: string;
  /** Adds inputs a, b, ... and the node `y`. */
  build(g: IRGraph): void;
  inputs: Record<string, Float32Array | Int32Array>;
  /** y computed in f64 from the inputs. */
  expect(): number[];
}

const rnd = (() => {
  let s = 12345;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1;
})();
const randn = (n: number, lo = -1, hi = 1) =>
  Float32Array.from({ length: n }, () => lo + ((rnd() + 1) / 2) * (hi - lo));
const input = (g: IRGraph, name: string, shape: number[], dtype: 'f32' | 'i32' = 'f32') =>
  g.add({ name, op: 'input', inputs: [], attrs: { shape, dtype } });

/** Row-major strided read: element `idx` (per-axis) of a tensor of `shape`. */
const at = (data: ArrayLike<number>, shape: number[], idx: number[]) => {
  let o = 0;
  for (let d = 0; d < shape.length; d++) o = o * shape[d]! + (shape[d] === 1 ? 0 : idx[d]!);
  return data[o]!;
};
const unravel = (i: number, shape: number[]) => {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
};

function matmulCase(name: string, as: number[], bs: number[], ta = false, tb = false): KernelCase {
  const A = randn(sizeOf(as)),
    B = randn(sizeOf(bs));
  return {
    name,
    build: (g) => {
      input(g, 'a', as);
      input(g, 'b', bs);
      g.add({
        name: 'y',
        op: 'matmul',
        inputs: ['a', 'b'],
        attrs: { ...(ta ? { transpose_a: true } : {}), ...(tb ? { transpose_b: true } : {}) },
      });
    },
    inputs: { a: A, b: B },
    expect: () => {
      const batch = as.length === 3 ? as[0]! : bs.length === 3 ? bs[0]! : 1;
      // Vectors as matrices: a [k] is one row, b [k] one column.
      const am = as.length === 1 ? [1, as[0]!] : as.slice(-2),
        bm = bs.length === 1 ? [bs[0]!, 1] : bs.slice(-2);
      const [m, k] = ta ? [am[1]!, am[0]!] : [am[0]!, am[1]!];
      const n = tb ? bm[0]! : bm[1]!;
      const out: number[] = [];
      for (let t = 0; t < batch; t++) {
        const ao = as.length === 3 ? t * m * k : 0,
          bo = bs.length === 3 ? t * k * n : 0;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let s = 0;
            for (let p = 0; p < k; p++)
              s += A[ao + (ta ? p * m + i : i * k + p)]! * B[bo + (tb ? j * k + p : p * n + j)]!;
            out.push(s);
          }
        }
      }
      return out;
    },
  };
}

function binaryCase(
  name: string,
  op: string,
  as: number[],
  bs: number[],
  f: (a: number, b: number) => number,
  A: Float32Array | Int32Array = randn(sizeOf(as)),
  B: Float32Array | Int32Array = randn(sizeOf(bs)),
): KernelCase {
  const dtype = A instanceof Int32Array ? 'i32' : 'f32';
  return {
    name,
    build: (g) => {
      input(g, 'a', as, dtype);
      input(g, 'b', bs, dtype);
      g.add({ name: 'y', op, inputs: ['a', 'b'] });
    },
    inputs: { a: A, b: B },
    expect: () => {
      const n = Math.max(as.length, bs.length);
      const pad = (s: number[]) => [...new Array<number>(n - s.length).fill(1), ...s];
      const pa = pad(as),
        pb = pad(bs);
      const out = pa.map((d, i) => Math.max(d, pb[i]!));
      return Array.from({ length: sizeOf(out) }, (_, i) => {
        const idx = unravel(i, out);
        return f(at(A, pa, idx), at(B, pb, idx));
      });
    },
  };
}

function reduceCase(
  name: string,
  op: 'sum' | 'mean',
  shape: number[],
  axis: number[] | undefined,
  x = randn(sizeOf(shape), 0, 1),
): KernelCase {
  return {
    name,
    build: (g) => {
      input(g, 'a', shape);
      g.add({ name: 'y', op, inputs: ['a'], attrs: axis ? { axis } : {} });
    },
    inputs: { a: x },
    expect: () => {
      const axes = axis ?? shape.map((_, i) => i);
      const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const out = new Float64Array(sizeOf(kept));
      for (let i = 0; i < x.length; i++) {
        const idx = unravel(i, shape).map((v, d) => (axes.includes(d) ? 0 : v));
        let o = 0;
        for (let d = 0; d < shape.length; d++) o = o * kept[d]! + idx[d]!;
        out[o]! += x[i]!;
      }
      const count = x.length / out.length;
      return Array.from(out, (v) => (op === 'mean' ? v / count : v));
    },
  };
}

function unaryCase(
  name: string,
  op: string,
  shape: number[],
  f: (x: number) => number,
  x = randn(sizeOf(shape), -3, 3),
): KernelCase {
  return {
    name,
    build: (g) => {
      input(g, 'a', shape);
      g.add({ name: 'y', op, inputs: ['a'] });
    },
    inputs: { a: x },
    expect: () => Array.from(x, f),
  };
}

const dropoutInput = randn(5000);
const dropoutCase: KernelCase = {
  name: 'dropout p=0.3 at step 3: the CPU mask bit for bit (Threefry on u32s)',
  build: (g) => {
    input(g, 'a', [5000]);
    input(g, 's', []);
    g.add({ name: 'y', op: 'dropout', inputs: ['a', 's'], attrs: { p: 0.3, seed: 7, stream: 'drop1' } });
  },
  inputs: { a: dropoutInput, s: Float32Array.of(3) },
  // The mask's definition (runtime/ops/random.ts): kept where uniform(i, step) < 1 - p.
  expect: () => {
    const s = new Stream(7, 'dropout:drop1');
    return Array.from(dropoutInput, (x, i) => (s.uniform(i, 3) < 0.7 ? x / 0.7 : 0));
  },
};

const kernelCases: KernelCase[] = [
  dropoutCase,
  matmulCase('matmul 130x70 · 70x200 (tiled, ragged edges)', [130, 70], [70, 200]),
  matmulCase('matmul aᵀ·b, 70x130 · 70x200', [70, 130], [70, 200], true),
  matmulCase('matmul a·bᵀ, 130x70 · 200x70', [130, 70], [200, 70], false, true),
  matmulCase('matmul aᵀ·bᵀ', [70, 130], [200, 70], true, true),
  matmulCase('matmul batched 3x65x33 · 33x129 (shared b)', [3, 65, 33], [33, 129]),
  matmulCase('matmul 600x300 · 300x520 (128-wide tiles)', [600, 300], [300, 520]),
  matmulCase('matmul vector · matrix', [5], [5, 7]),
  matmulCase('matmul matrix · vector', [6, 5], [5]),
  binaryCase('add [3,1,5] + [4,1] (broadcast both ways)', 'add', [3, 1, 5], [4, 1], (a, b) => a + b),
  binaryCase('sub [2,3] - scalar', 'sub', [2, 3], [], (a, b) => a - b),
  binaryCase(
    'pow: integer exponents of negative bases',
    'pow',
    [8],
    [8],
    (a, b) => Math.pow(a, b),
    Float32Array.from([-2, -2, -1.5, 0, 0, 2, 3, -3]),
    Float32Array.from([3, 2, 2, 0, 2, 0.5, -1, 4]),
  ),
  binaryCase(
    'div i32, with a division by zero',
    'div',
    [5],
    [5],
    (a, b) => Math.trunc(a / b) | 0,
    Int32Array.from([7, -7, 9, 5, 6]),
    Int32Array.from([2, 2, -4, 0, 3]),
  ),
  binaryCase(
    'greater i32 broadcast',
    'greater',
    [2, 3],
    [3],
    (a, b) => (a > b ? 1 : 0),
    Int32Array.from([1, 5, 3, 4, 2, 6]),
    Int32Array.from([2, 2, 5]),
  ),
  binaryCase('maximum [64, 1] vs [1, 48]', 'maximum', [64, 1], [1, 48], (a, b) => Math.max(a, b)),
  binaryCase(
    'add 4,300,000 floats: a map dispatch folded past 65,535 workgroups',
    'add',
    [4300000],
    [4300000],
    (a, b) => a + b,
  ),
  reduceCase('sum over axes 0 and 2 of [4,5,6]', 'sum', [4, 5, 6], [0, 2]),
  reduceCase('mean of 1000 (one invocation)', 'mean', [1000], undefined),
  reduceCase('sum of 100,000 (workgroup tree)', 'sum', [100000], undefined),
  reduceCase('sum over the batch of [3000, 40] (one invocation per column)', 'sum', [3000, 40], [0]),
  reduceCase('mean over the last axis of [300, 2000] (a tree per row)', 'mean', [300, 2000], [1]),
  unaryCase('tanh of large |x| (no NaN)', 'tanh', [6], Math.tanh, Float32Array.from([-100, -20, -0.5, 0.5, 20, 100])),
  unaryCase('sigmoid', 'sigmoid', [1000], (x) => 1 / (1 + Math.exp(-x))),
  {
    name: 'transpose [3,4,5] perm [2,0,1]',
    build: (g) => {
      input(g, 'a', [3, 4, 5]);
      g.add({ name: 'y', op: 'transpose', inputs: ['a'], attrs: { perm: [2, 0, 1] } });
    },
    inputs: { a: randn(60) },
    expect() {
      const a = this.inputs.a!;
      return Array.from({ length: 60 }, (_, i) => {
        const [k, i0, j] = unravel(i, [5, 3, 4]) as [number, number, number];
        return a[i0 * 20 + j * 5 + k]!;
      });
    },
  },
  {
    name: 'broadcast_to [3,1] -> [2,3,4]',
    build: (g) => {
      input(g, 'a', [3, 1]);
      g.add({ name: 'y', op: 'broadcast_to', inputs: ['a'], attrs: { shape: [2, 3, 4] } });
    },
    inputs: { a: randn(3) },
    expect() {
      return Array.from({ length: 24 }, (_, i) => this.inputs.a![unravel(i, [2, 3, 4])[1]!]!);
    },
  },
];

async function runKernel(exec: Executor<unknown>, c: KernelCase): Promise<TypedArray> {
  const g = new IRGraph('f32');
  c.build(g);
  const plan = buildPlan(g, exec, { outputs: ['y'], bound: new Map() });
  for (const [k, v] of Object.entries(c.inputs)) exec.write(plan.buffer(k), v);
  plan.run();
  if (exec instanceof WebGpuExecutor) await exec.ready();
  const t = g.node('y').type;
  return exec.read(plan.buffer('y'), t.dtype, sizeOf(t.shape));
}

describe.each([
  ['cpu', cpuBackend, true],
  ['webgpu', gpuBackend, probe.gpu !== null],
] as const)('%s executor', (name, backend, available) => {
  const onGpu = name === 'webgpu';

  describe.skipIf(!available).each(ref.cases.map((c) => [c.name, c] as const))('op case %s', (_n, c) => {
    it(`${c.op}: forward${c.grads ? ' and gradients' : ''} agree with PyTorch${onGpu ? ', and with the CPU' : ''}`, async () => {
      const s = await backend.session(parseGraph(opCaseYaml(c), `${c.name}.yaml`));
      const y = (await s.runAsync(feedOf(c), 1)).y!;
      expect(y.shape).toEqual(c.output.shape);
      expect(y.dtype).toBe(c.output.dtype === 'i32' ? 'i32' : 'f32');
      expect(maxRelErr(y.data, c.output.data)).toBeLessThanOrEqual(F32_TOL);
      const grads = c.grads ? await s.gradientsAsync() : {};
      for (const [g, want] of Object.entries(c.grads ?? {})) {
        if (g in grads) expect(maxRelErr(grads[g]!.data, want), `d/d${g}`).toBeLessThanOrEqual(F32_TOL);
      }
      if (onGpu) {
        const cpu = await cpuOf(c);
        expect(maxRelErr(y.data, Array.from(cpu.y.data))).toBeLessThanOrEqual(PARITY);
        for (const [g, t] of Object.entries(cpu.grads))
          expect(maxRelErr(grads[g]!.data, Array.from(t.data)), `d/d${g} vs cpu`).toBeLessThanOrEqual(PARITY);
      }
    });
  });

  describe.skipIf(!available).each(kernelCases.map((c) => [c.name, c] as const))('kernel: %s', (_n, c) => {
    it('matches the f64 reference' + (onGpu ? ' and the CPU executor' : ''), async () => {
      const got = await runKernel(backend.exec(), c);
      const want = c.expect();
      expect(got.length).toBe(want.length);
      const isInt = got instanceof Int32Array;
      // Sums: the error of an f32 sum grows with the number of terms (here up to 100,000 terms of
      // [0, 1)), so reductions are held to the sum's own rounding: 1e-5 relative per 1,000 terms.
      const tol = isInt ? 0 : c.name.startsWith('sum of 100,000') ? 1e-4 : F32_TOL;
      expect(maxRelErr(got, want)).toBeLessThanOrEqual(tol);
      if (onGpu) {
        const cpu = await runKernel(new CpuExecutor() as Executor<unknown>, c);
        expect(maxRelErr(got, Array.from(cpu))).toBeLessThanOrEqual(
          isInt ? 0 : c.name.startsWith('sum of 100,000') ? 1e-4 : PARITY,
        );
      }
    });
  });
});

describe.skipIf(!probe.gpu)('WebGPU sessions', () => {
  const gender = () => loadGraph('graphs/gender.yaml');

  it('trains gender.yaml as PyTorch f32 does (within 1e-4), every node on the GPU', { timeout: 600_000 }, async () => {
    const s = await Session.create(gender(), { device: 'webgpu', gpu: probe.gpu!, strictDevice: true });
    expect(s.device).toBe('webgpu');
    const log = await s.trainAsync();
    expect(log.length).toBe(torch.torch_f32.loss_log.length);
    log.forEach((r, i) => {
      const [epoch, want] = torch.torch_f32.loss_log[i]!;
      expect(r.epoch).toBe(epoch);
      expect(Math.abs(r.loss - want) / want, `epoch ${epoch}`).toBeLessThanOrEqual(1e-4);
    });
    const p = await s.predictionsAsync();
    for (const [k, want] of Object.entries(torch.torch_f32.predictions)) {
      expect(Math.abs(p[k]!.pred!.data[0]! - want) / want, k).toBeLessThanOrEqual(1e-4);
    }
    // Training ends with the parameters back on the host, so the synchronous reader works.
    expect(s.parameters().w1!.data.every(Number.isFinite)).toBe(true);
    s.dispose();
  });

  it('runs a node marked device: cpu on the CPU, with transfers, and still matches PyTorch', {
    timeout: 600_000,
  }, async () => {
    const text = readFileSync('graphs/gender.yaml', 'utf8').replace(
      '{name: h, op: sigmoid, inputs: [s1]}',
      '{name: h, op: sigmoid, inputs: [s1], device: cpu}',
    );
    const s = await Session.create(parseGraph(text, 'graphs/gender.yaml'), {
      device: 'webgpu',
      gpu: probe.gpu!,
      strictDevice: true,
    });
    const explain = s.explain();
    expect(explain).toMatch(/^ {2}h +sigmoid +cpu +node device: cpu \(graphs\/gender\.yaml:\d+:\d+\)$/m);
    // Its gradient follows it to the CPU.
    expect(explain).toMatch(/sigmoid_grad +cpu +gradient of h, which asks for cpu/);
    expect(explain).toMatch(/transfer s1: webgpu -> cpu/);
    const log = await s.trainAsync({ epochs: 101 });
    for (let i = 0; i < log.length; i++)
      expect(
        Math.abs(log[i]!.loss - torch.torch_f32.loss_log[i]![1]) / torch.torch_f32.loss_log[i]![1],
      ).toBeLessThanOrEqual(1e-4);
    s.dispose();
  });

  it('falls back to the CPU for f64, visibly, and --strict-device makes that an error', async () => {
    const s = await Session.create(gender(), { device: 'webgpu', dtype: 'f64', gpu: probe.gpu! });
    expect(s.device).toBe('cpu');
    expect(s.explain()).toMatch(/z1 +matmul +cpu +fallback: f64: WGSL has no f64/);
    await expect(
      Session.create(gender(), { device: 'webgpu', dtype: 'f64', gpu: probe.gpu!, strictDevice: true }).then((t) =>
        t.explain(),
      ),
    ).rejects.toMatchObject({ code: 'Fallback', nodeName: 'z1' });
  });

  it('names the tensor and the limit when a tensor is larger than the device binds, before running', async () => {
    // A device binding 1 MiB per buffer (real adapters bind from 128 MiB up, past what graph-run's
    // own per-tensor limit of 2^28 elements lets a graph ask for): the session reads the limit
    // from the executor, so lowering it there is a smaller device as far as placement can tell.
    const limits = probe.gpu!.limits;
    const real = limits.maxBindingBytes;
    const limit = 1 << 20;
    limits.maxBindingBytes = limit;
    const n = Math.floor(limit / 4) + 1024;
    const m = parseGraph(
      `inputs: {x: {shape: [${n}]}}\nnodes: [{name: y, op: neg, inputs: [x]}]\noutputs: [y]`,
      'big.yaml',
    );
    const s = await Session.create(m, { device: 'webgpu', gpu: probe.gpu! });
    const err = await s
      .runAsync(new Map(), 1)
      .catch((e: unknown) => e)
      .finally(() => {
        limits.maxBindingBytes = real;
      });
    expect(err).toBeInstanceOf(DeviceError);
    expect(err).toMatchObject({ code: 'BufferLimit' });
    expect((err as Error).message).toContain(`tensor "x" [${n}]`);
    expect((err as Error).message).toContain(String(limit));
  });

  it('ends training with an error naming the last completed epoch when the device is lost, writing nothing back', {
    timeout: 300_000,
  }, async () => {
    const own = await WebGpuExecutor.create();
    const s = await Session.create(gender(), { device: 'webgpu', gpu: own });
    const before = s.parameters().w1!.data.slice();
    // Destroying the device underneath the session is what a driver reset looks like to it.
    const lose = (r: { epoch: number }) => {
      if (r.epoch === 20) (own as unknown as { device: GPUDevice }).device.destroy();
    };
    const err = await s.trainAsync({ epochs: 100, onLog: lose }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err).toMatchObject({ code: 'DeviceLost' });
    expect((err as Error).message).toContain('the last completed epoch is 20');
    expect(Array.from(s.parameters().w1!.data)).toEqual(Array.from(before));
    own.dispose();
  });

  it('refuses the synchronous API while parameters live on the GPU', async () => {
    const s = await Session.create(gender(), { device: 'webgpu', gpu: probe.gpu! });
    expect(() => s.step(0, 1)).toThrow(/stepAsync/);
    await s.stepAsync(0, 1);
    expect(() => s.parameters()).toThrow(/parametersAsync/);
    const p = await s.parametersAsync();
    expect(p.w1!.data[0]).not.toBe(0.1);
    s.dispose();
  });
});
