// GPU benchmark: fp32 matmul at n = 1024 and 4096 (TFLOP/s, for each tiled-kernel variant), the
// MLP's thin products (1024×4096·4096×10 and its weight gradient, split k against one pass) and
// one SGD step of a 784-4096-4096-10 ReLU MLP at batch 1024 (ms, and kernel dispatches per step;
// also without the fused epilogues and elementwise chains, and without split k), on WebGPU and on
// the CPU, plus gender.yaml trained on WebGPU against the PyTorch f32 reference (many steps per
// submission, and one per step for comparison: gender_webgpu_per_step). PyTorch CUDA
// (bench/py/gpu_torch.py, fp32, TF32 off) runs first when present, as the reference of the same
// run: `references.torch_cuda` in the JSON, ratios in the summary. Each configuration runs in
// its own child process with a timeout: the Dawn binding can crash natively, and a crash must
// become a reported result, not a lost run (see docs/performance-gpu.md).
//   node dist/bench/gpu.js [--json] [--out docs/gpu-results.json] [--quick] [--only name,name]
//                          [--targets] (the issue's target rows only: matmul 4096, the MLP step) [--no-torch]

import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CpuExecutor } from '../runtime/executors/cpu/cpu.js';
import type { Executor } from '../runtime/executors/executor.js';
import { WebGpuExecutor } from '../runtime/executors/webgpu/webgpu.js';
import { parseGraph, loadGraph } from '../runtime/index.js';
import { IRGraph } from '../runtime/ir/graph.js';
import { dims } from '../runtime/ops/matmul.js';
import { type MatmulShape, matmulTiles, tiledMatmul, type MatmulTileName } from '../runtime/ops/matmul.wgsl.js';
import type { OpDef, WgslArgs } from '../runtime/ops/op.js';
import { registry } from '../runtime/ops/registry.js';
import { buildPlan } from '../runtime/scheduler/plan.js';
import { Session } from '../runtime/session.js';
import { DeviceRuntime } from '../runtime/session/device-runtime.js';
import { prng } from './stats.js';
import { graphPath } from './workloads.js';

/** What an MLP variant turns off: the fused epilogues and elementwise chains, or split k. */
type Variant = 'unfused' | 'nosplit';

type Config =
  | {
      kind: 'matmul';
      device: 'webgpu' | 'cpu';
      n: number;
      /** A thin product: m×k · k×n (A read transposed with ta); square n×n without. */
      m?: number;
      k?: number;
      ta?: boolean;
      tile?: MatmulTileName;
      flags?: string[];
      variant?: 'nosplit';
    }
  | { kind: 'mlp'; device: 'webgpu' | 'cpu'; batch: number; width: number; tile?: MatmulTileName; variant?: Variant }
  | { kind: 'gender'; device: 'webgpu'; perStep?: boolean }
  | { kind: 'parity'; device: 'webgpu' };

interface Result {
  name: string;
  config: Config;
  ok: boolean;
  error?: string;
  seconds: number;
  [k: string]: unknown;
}

const nameOf = (c: Config): string => {
  switch (c.kind) {
    case 'matmul':
      return `matmul_${c.m ? `${c.m}x${c.k}x${c.n}${c.ta ? '_ta' : ''}` : c.n}_${c.device}${c.tile ? `_${c.tile}` : ''}${c.flags?.length ? '_norobust' : ''}${c.variant ? `_${c.variant}` : ''}`;
    case 'mlp':
      return `mlp_${c.width}_b${c.batch}_${c.device}${c.tile ? `_${c.tile}` : ''}${c.variant ? `_${c.variant}` : ''}`;
    case 'gender':
      return `gender_${c.device}${c.perStep ? '_per_step' : ''}`;
    case 'parity':
      return `parity_${c.device}`;
    default:
      return c satisfies never;
  }
};

/** The product a matmul's WGSL arguments describe. */
function shapeOf(a: WgslArgs): MatmulShape {
  const [as, bs] = [a.inTypes[0]!.shape, a.inTypes[1]!.shape];
  const ta = a.attrs.transpose_a === true,
    tb = a.attrs.transpose_b === true;
  const d = dims(as, bs, ta, tb);
  return { batch: d.batch, m: d.m, k: d.k, n: d.n, aStride: d.aStride, bStride: d.bStride, ta, tb };
}

/** Force one tile (one pass, no split k) for every matmul node's tiled kernel in this (child) process. */
function forceTile(tile: MatmulTileName): void {
  const def = registry.matmul as OpDef;
  const orig = def.wgsl!;
  def.wgsl = (a) => (orig(a).kind === 'map' ? orig(a) : tiledMatmul(shapeOf(a), matmulTiles[tile]));
}

/** The environment a variant's child runs with (the switches of executors/webgpu/fused.ts, ops/matmul.wgsl.ts). */
const variantEnv = (v: Variant | undefined): Record<string, string> =>
  v === 'unfused'
    ? { GRAPH_RUN_EPILOGUE: '0', GRAPH_RUN_FUSE: '0' }
    : v === 'nosplit'
      ? { GRAPH_RUN_SPLIT_K: '0' }
      : {};

/** C_r = A·B for r = 1..R independent outputs: R back-to-back dispatches in one submission. */
async function benchMatmul(c: Extract<Config, { kind: 'matmul' }>): Promise<Record<string, unknown>> {
  const { n } = c;
  const m = c.m ?? n,
    k = c.k ?? n,
    ta = c.ta === true;
  const gpu = c.device === 'webgpu' ? await WebGpuExecutor.create(c.flags ? { dawnFlags: c.flags } : {}) : null;
  const exec: Executor<unknown> = (gpu ?? new CpuExecutor()) as Executor<unknown>;
  try {
    if (c.tile) forceTile(c.tile);
    const flops = 2 * m * n * k;
    // Back-to-back products per run: enough that a run is not one dispatch's overhead (thin ones are ~0.1 GFLOP).
    const reps = !gpu ? 1 : c.m ? 50 : n >= 4096 ? 10 : n >= 1024 ? 50 : 2;
    const g = new IRGraph('f32');
    g.add({ name: 'a', op: 'input', inputs: [], attrs: { shape: ta ? [k, m] : [m, k], dtype: 'f32' } });
    g.add({ name: 'b', op: 'input', inputs: [], attrs: { shape: [k, n], dtype: 'f32' } });
    const outs: string[] = [];
    for (let r = 0; r < reps; r++)
      outs.push(
        g.add({ name: `c${r}`, op: 'matmul', inputs: ['a', 'b'], attrs: ta ? { transpose_a: true } : {} }).name,
      );
    const plan = buildPlan(g, exec, { outputs: outs, bound: new Map() });
    const rnd = prng(1);
    const A = new Float32Array(m * k).map(() => rnd() * 2 - 1);
    const B = new Float32Array(k * n).map(() => rnd() * 2 - 1);
    exec.write(plan.buffer('a'), A);
    exec.write(plan.buffer('b'), B);
    const sync = async () => {
      if (gpu) {
        await gpu.ready();
        await gpu.finish();
      }
    };
    plan.run(); // warm-up: pipelines, first touch
    await sync();
    let runs = 0;
    const t0 = performance.now();
    // At least 3 runs and 1 s (CPU: at least one run).
    while (runs < (gpu ? 3 : 1) || performance.now() - t0 < (gpu ? 1000 : 0)) {
      plan.run();
      runs++;
      if (gpu && runs % 5 === 0) await sync();
    }
    await sync();
    const ms = (performance.now() - t0) / (runs * reps);
    // Check 64 entries of the last product against f64 dot products.
    const C = await exec.read(plan.buffer(outs[outs.length - 1]!), 'f32', m * n);
    let worst = 0;
    for (let s = 0; s < 64; s++) {
      const i = Math.floor(rnd() * m),
        j = Math.floor(rnd() * n);
      let ref = 0,
        mag = 0;
      for (let p = 0; p < k; p++) {
        const t = A[ta ? p * m + i : i * k + p]! * B[p * n + j]!;
        ref += t;
        mag += Math.abs(t);
      }
      worst = Math.max(worst, Math.abs(C[i * n + j]! - ref) / mag);
    }
    return {
      ms,
      tflops: flops / (ms * 1e9),
      dispatches_per_product: gpu ? gpu.dispatches / ((runs + 1) * reps) : undefined,
      runs,
      reps,
      max_err_rel_to_sum_abs: worst,
      adapter: gpu?.description ?? 'cpu',
    };
  } finally {
    gpu?.dispose();
  }
}

/** The MLP as YAML: [in, out] weights, seeded uniform ±1/sqrt(fan_in) as nn.Linear, MSE, SGD. */
function mlpYaml(width: number): string {
  const u = (fanIn: number) => `{uniform: {low: ${-1 / Math.sqrt(fanIn)}, high: ${1 / Math.sqrt(fanIn)}}}`;
  return `graph-run: 1
name: mlp_gpu_bench
seed: 42
inputs:
  x: {shape: [batch, 784]}
  y: {shape: [batch, 10]}
params:
  w1: {shape: [784, ${width}], init: ${u(784)}}
  b1: {shape: [${width}], init: ${u(784)}}
  w2: {shape: [${width}, ${width}], init: ${u(width)}}
  b2: {shape: [${width}], init: ${u(width)}}
  w3: {shape: [${width}, 10], init: ${u(width)}}
  b3: {shape: [10], init: ${u(width)}}
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
optimizer: {graph: 'std:optimizers/sgd.yaml', with: {lr: 0.01}}
`;
}

async function benchMlp(c: Extract<Config, { kind: 'mlp' }>): Promise<Record<string, unknown>> {
  if (c.tile) forceTile(c.tile);
  const model = parseGraph(mlpYaml(c.width), graphPath('graphs/bench/mlp-gpu.yaml'));
  const gpuExec = c.device === 'webgpu' ? await WebGpuExecutor.create() : undefined;
  // A forced tile reaches matmul nodes only: their epilogues (own kernels) stay off with it.
  if (gpuExec && c.tile) gpuExec.epilogues = false;
  const s = await Session.create(model, { device: c.device, ...(gpuExec ? { gpu: gpuExec } : {}) });
  try {
    const rnd = prng(7);
    const x = new Float32Array(c.batch * 784).map(() => rnd());
    const y = new Float32Array(c.batch * 10);
    for (let r = 0; r < c.batch; r++) y[r * 10 + Math.floor(rnd() * 10)] = 1;
    const values = { x, y };
    const first = await s.stepOnAsync(c.batch, values); // warm-up: plan, pipelines, upload
    await s.synchronize();
    const gpu = s.device === 'webgpu';
    let steps = 0;
    const d0 = gpuExec?.dispatches ?? 0;
    const t0 = performance.now();
    while (steps < (gpu ? 10 : 2) || performance.now() - t0 < (gpu ? 1500 : 0)) {
      await s.stepOnAsync(c.batch, values, false);
      steps++;
      if (gpu && steps % 10 === 0) await s.synchronize();
    }
    await s.synchronize();
    const ms = (performance.now() - t0) / steps;
    const dispatches = gpuExec ? (gpuExec.dispatches - d0) / steps : undefined;
    // One more step with the loss read back: the cost of a round trip per step.
    const t1 = performance.now();
    const last = await s.stepOnAsync(c.batch, values, true);
    const msRead = performance.now() - t1;
    const flops = 2 * c.batch * (784 * c.width + c.width * c.width + c.width * 10) * 3 - 2 * c.batch * 784 * c.width;
    return {
      ms,
      ms_with_loss_readback: msRead,
      dispatches_per_step: dispatches,
      steps,
      tflops: flops / (ms * 1e9),
      first_loss: first,
      last_loss: last,
      device_note: s.deviceNote,
      explain_summary: s.explain().split('\n')[0],
    };
  } finally {
    s.dispose();
    gpuExec?.dispose();
  }
}

/**
 * Time spent recording and feeding plan runs on the host (the device runtime's synchronous
 * calls, the Dawn binding's included), apart from waiting for the GPU: on a software adapter
 * the wall time is the adapter's own computing, this is what a real GPU would leave.
 */
function hostTime(): { stop(): number } {
  const proto = DeviceRuntime.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['feedRows', 'feed', 'execute', 'executeNow'];
  const orig = names.map((n) => proto[n]!);
  let total = 0;
  names.forEach((n, i) => {
    proto[n] = function (this: unknown, ...a: unknown[]) {
      const t = performance.now();
      try {
        return orig[i]!.apply(this, a);
      } finally {
        total += performance.now() - t;
      }
    };
  });
  return {
    stop: () => {
      names.forEach((n, i) => (proto[n] = orig[i]!));
      return total;
    },
  };
}

/**
 * gender.yaml's 1000 epochs on WebGPU: many steps per submission (the default), or with
 * `perStep` one submission per step and a read per logged evaluation batch (the loop before
 * chunking). The first session's run includes compiling the kernels; a second session on the
 * same device then runs with them cached (`train_ms`).
 */
async function benchGender(perStep: boolean): Promise<Record<string, unknown>> {
  const ref = JSON.parse(readFileSync(graphPath('test/fixtures/seed-torch.json'), 'utf8')) as {
    torch_f32: { loss_log: [number, number][]; predictions: Record<string, number> };
  };
  const gpu = await WebGpuExecutor.create();
  if (perStep) gpu.stepsPerSubmit = 1;
  const timed = async () => {
    const s = await Session.create(loadGraph(graphPath('graphs/gender.yaml')), { device: 'webgpu', gpu });
    const [submits, dispatches] = [gpu.submits, gpu.dispatches];
    const host = hostTime();
    const t0 = performance.now();
    const log = await s.trainAsync();
    const ms = performance.now() - t0;
    const hostMs = host.stop();
    return { s, log, ms, hostMs, submits: gpu.submits - submits, dispatches: gpu.dispatches - dispatches };
  };
  const cold = await timed();
  cold.s.dispose();
  const { s, log, ms, hostMs, submits, dispatches } = await timed();
  try {
    let worst = 0;
    log.forEach(
      (r, i) =>
        (worst = Math.max(
          worst,
          Math.abs(r.loss - ref.torch_f32.loss_log[i]![1]) / Math.abs(ref.torch_f32.loss_log[i]![1]),
        )),
    );
    const p = await s.predictionsAsync();
    const preds = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.pred!.data[0]!]));
    const predErr = Math.max(
      ...Object.entries(preds).map(
        ([k, v]) => Math.abs(v - ref.torch_f32.predictions[k]!) / Math.abs(ref.torch_f32.predictions[k]!),
      ),
    );
    return {
      train_ms: ms,
      train_ms_cold: cold.ms,
      host_ms: hostMs,
      steps_per_submit: gpu.stepsPerSubmit,
      submits,
      dispatches,
      max_loss_rel_diff_vs_torch_f32: worst,
      predictions: preds,
      max_prediction_rel_diff: predErr,
      within_1e4: worst < 1e-4 && predErr < 1e-4,
      device: gpu.description,
    };
  } finally {
    s.dispose();
    gpu.dispose();
  }
}

/** An op case of test/reference/ops.json (made by PyTorch) as a graph: y = op(inputs), L = sum(y * w). */
interface OpCase {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: { name: string; dtype: 'float' | 'i32'; shape: number[]; data: number[] }[];
  output: { shape: number[] };
  w?: number[];
  grads?: Record<string, number[]>;
}

function nest(flat: number[], shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  const step = flat.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), shape.slice(1)));
}

function opCaseYaml(c: OpCase): string {
  const init = (data: number[], shape: number[]) =>
    shape.length ? `{values: ${JSON.stringify(nest(data, shape))}}` : `${data[0]}`;
  const ints = c.inputs.filter((i) => i.dtype === 'i32'),
    floats = c.inputs.filter((i) => i.dtype === 'float');
  const lines = ['graph-run: 1', `name: ${c.name}`];
  if (ints.length)
    lines.push('inputs:', ...ints.map((i) => `  ${i.name}: {shape: ${JSON.stringify(i.shape)}, dtype: i32}`));
  if (floats.length || c.grads) lines.push('params:');
  for (const i of floats)
    lines.push(
      `  ${i.name}: {shape: ${JSON.stringify(i.shape)}, init: ${init(i.data, i.shape)}${i.name === 'c' ? ', trainable: false' : ''}}`,
    );
  if (c.grads)
    lines.push(
      `  w: {shape: ${JSON.stringify(c.output.shape)}, init: ${init(c.w!, c.output.shape)}, trainable: false}`,
    );
  lines.push(
    'nodes:',
    `  - {name: y, op: ${c.op}, inputs: ${JSON.stringify(c.inputs.map((i) => i.name))}, attrs: ${JSON.stringify(c.attrs)}}`,
  );
  if (c.grads) lines.push('  - {name: yw, op: mul, inputs: [y, w]}', '  - {name: L, op: sum, inputs: [yw]}');
  lines.push(
    'outputs: [y]',
    `feed: {${ints.map((i) => `${i.name}: ${JSON.stringify(nest(i.data, i.shape))}`).join(', ')}}`,
  );
  if (c.grads)
    lines.push(`gradients: {of: L, wrt: ${JSON.stringify(floats.filter((i) => i.name !== 'c').map((i) => i.name))}}`);
  return lines.join('\n') + '\n';
}

const relErr = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  let scale = 0,
    err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    const d = Math.abs(got[i]! - want[i]!);
    err = Math.max(err, d !== d ? Infinity : d);
  }
  return err / (scale || 1);
};

/** Every op case on this GPU (forward and gradients, no fallback) against the CPU executor. */
async function benchParity(): Promise<Record<string, unknown>> {
  const ref = JSON.parse(readFileSync(graphPath('test/reference/ops.json'), 'utf8')) as { cases: OpCase[] };
  const gpu = await WebGpuExecutor.create();
  const worst: Record<string, number> = {};
  try {
    for (const c of ref.cases) {
      const model = () => parseGraph(opCaseYaml(c), `${c.name}.yaml`);
      const feed = new Map(c.inputs.filter((i) => i.dtype === 'i32').map((i) => [i.name, i.data]));
      const g = await Session.create(model(), { device: 'webgpu', gpu, strictDevice: true });
      const cpu = new Session(model(), { dtype: 'f32' });
      let e = relErr((await g.runAsync(feed, 1)).y!.data, cpu.run(feed, 1).y!.data);
      if (c.grads) {
        const gg = await g.gradientsAsync(),
          cg = cpu.gradients();
        for (const k of Object.keys(cg)) e = Math.max(e, relErr(gg[k]!.data, cg[k]!.data));
      }
      worst[c.name] = e;
    }
  } finally {
    gpu.dispose();
  }
  const over = Object.entries(worst).filter(([, e]) => !(e <= 1e-5));
  return {
    cases: Object.keys(worst).length,
    max_rel_err: Math.max(...Object.values(worst)),
    over_1e5: Object.fromEntries(over),
    per_case: worst,
  };
}

async function child(c: Config): Promise<void> {
  let out: Record<string, unknown>;
  switch (c.kind) {
    case 'matmul':
      out = await benchMatmul(c);
      break;
    case 'mlp':
      out = await benchMlp(c);
      break;
    case 'gender':
      out = await benchGender(c.perStep === true);
      break;
    case 'parity':
      out = await benchParity();
      break;
    default:
      out = c satisfies never;
  }
  process.stdout.write('RESULT ' + JSON.stringify(out) + '\n');
}

function runChild(c: Config, timeoutS: number): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...variantEnv(c.kind === 'mlp' || c.kind === 'matmul' ? c.variant : undefined) },
    });
    let out = '',
      err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutS * 1000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      const base = { name: nameOf(c), config: c, seconds };
      if (line) resolve({ ...base, ok: true, ...(JSON.parse(line.slice(7)) as object) });
      else {
        const why =
          signal === 'SIGKILL' ? `timed out after ${timeoutS} s` : `exit ${code}${signal ? ` (${signal})` : ''}`;
        resolve({
          ...base,
          ok: false,
          error: `${why}: ${err.trim().split('\n').slice(-3).join(' | ') || out.trim().slice(-300)}`,
        });
      }
    });
  });
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(JSON.parse(argv[1]!) as Config);
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const outAt = argv.indexOf('--out');
  const onlyAt = argv.indexOf('--only');
  const targets = argv.includes('--targets');
  const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]!.split(',')) : null;
  const sizes = quick ? [256, 512] : [1024, 4096];
  const tiles = Object.keys(matmulTiles) as MatmulTileName[];
  const width = quick ? 512 : 4096,
    batch = quick ? 128 : 1024;
  // Slow software adapters (SwiftShader) need longer for the same rows.
  const slow = quick ? 4 : 1;
  // Most telling first, so a run cut short still has them: correctness, the big matmul, the MLP.
  const configs: [Config, number][] = [
    [{ kind: 'gender', device: 'webgpu' }, 120 * slow],
    [{ kind: 'gender', device: 'webgpu', perStep: true }, 180 * slow],
    [{ kind: 'parity', device: 'webgpu' }, 90 * slow],
  ];
  const mlps: Config[] = [
    { kind: 'mlp', device: 'webgpu', batch, width },
    { kind: 'mlp', device: 'webgpu', batch, width, variant: 'unfused' },
    { kind: 'mlp', device: 'webgpu', batch, width, variant: 'nosplit' },
  ];
  // The MLP's thin products: its output layer and that layer's weight gradient (A read transposed).
  const thin: Config[] = [false, true].flatMap((ta) =>
    [undefined, 'nosplit' as const].map(
      (variant): Config => ({
        kind: 'matmul',
        device: 'webgpu',
        m: ta ? width : batch,
        k: ta ? batch : width,
        n: 10,
        ta,
        ...(variant ? { variant } : {}),
      }),
    ),
  );
  for (const n of [...sizes].reverse()) {
    configs.push([{ kind: 'matmul', device: 'webgpu', n }, 30 * slow]);
    if (!targets) for (const tile of tiles) configs.push([{ kind: 'matmul', device: 'webgpu', n, tile }, 30 * slow]);
    if (!targets)
      configs.push([
        { kind: 'matmul', device: 'webgpu', n, tile: 'big', flags: ['enable-dawn-features=disable_robustness'] },
        30 * slow,
      ]);
    if (n === sizes[1]) {
      for (const c of [...mlps, ...thin]) configs.push([c, 60 * slow]);
      if (!targets) {
        configs.push([{ kind: 'mlp', device: 'webgpu', batch, width, tile: 'big16' }, 60 * slow]);
        configs.push([{ kind: 'mlp', device: 'webgpu', batch, width, tile: 'wide' }, 60 * slow]);
      }
    }
  }
  // The CPU last, so its worker threads do not overlap the GPU timings.
  if (!targets) {
    for (const n of sizes) configs.push([{ kind: 'matmul', device: 'cpu', n }, n >= 4096 ? 60 : 30]);
    configs.push([{ kind: 'mlp', device: 'cpu', batch, width }, 90]);
  }

  const results: Result[] = [];
  const doc: Record<string, unknown> = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x ${availableParallelism()}`,
    command: `node dist/bench/gpu.js ${argv.join(' ')}`.trim(),
    references: {},
    results,
  };
  // PyTorch CUDA first and alone on the GPU: the same rows, fp32 with TF32 off.
  const torch = argv.includes('--no-torch') ? null : await torchReference(sizes, width, batch);
  if (torch) {
    doc.references = { torch_cuda: torch };
    if (!json)
      process.stderr.write(
        `${'torch_cuda'.padEnd(34)} ${torch.cuda ? `${torch.device}, torch ${torch.torch}` : `not run: ${torch.reason ?? 'no CUDA'}`}\n`,
      );
  }
  const refRow = (r: Result): { ms: number; tflops: number } | undefined => {
    const c = r.config;
    const rows = torch?.rows ?? {};
    if (c.kind === 'matmul' && !c.tile && !c.variant)
      return rows[c.m ? `thin_${batch}x${width}x10${c.ta ? '_ta' : ''}` : `matmul_${c.n}`];
    if (c.kind === 'mlp') return rows[`mlp_${c.width}_b${c.batch}`];
    return undefined;
  };
  for (const [c, timeout] of configs) {
    if (only && !only.has(nameOf(c)) && !only.has(c.kind)) continue;
    const r = await runChild(c, timeout);
    const ref = r.ok && r.config.device === 'webgpu' ? refRow(r) : undefined;
    if (ref && typeof r.ms === 'number') {
      // Time ratio: graph-run's time over PyTorch's (below 1 is faster); for products also the throughput ratio.
      r.vs_torch_cuda = {
        torch_ms: ref.ms,
        time_ratio: r.ms / ref.ms,
        ...(r.tflops ? { tflops_ratio: (r.tflops as number) / ref.tflops } : {}),
      };
    }
    results.push(r);
    if (!json) process.stderr.write(`${r.name.padEnd(40)} ${r.ok ? summary(r) : 'FAILED ' + r.error}\n`);
    // Written after every configuration, so a run cut short keeps what it measured.
    if (outAt >= 0) writeFileSync(argv[outAt + 1]!, JSON.stringify(doc, null, 2) + '\n');
  }
  if (json) process.stdout.write(JSON.stringify(doc) + '\n');
}

interface TorchReference {
  torch: string | null;
  cuda: boolean;
  device?: string;
  reason?: string;
  rows: Record<string, { ms: number; tflops: number }>;
}

/** bench/py/gpu_torch.py under $GRAPH_RUN_PYTHON (else python3); null where it could not run. */
function torchReference(sizes: number[], width: number, batch: number): Promise<TorchReference | null> {
  const python = process.env.GRAPH_RUN_PYTHON ?? 'python3';
  const script = fileURLToPath(new URL('../../bench/py/gpu_torch.py', import.meta.url));
  const args = [script, '--matmul', sizes.join(','), '--mlp', `${width}:${batch}`, '--thin', `${batch}x${width}x10`];
  return new Promise((resolve) => {
    let out = '';
    const p = spawn(python, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    const timer = setTimeout(() => p.kill('SIGKILL'), 300_000);
    p.stdout.on('data', (d) => (out += d));
    p.on('error', () => resolve(null));
    p.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as TorchReference);
      } catch {
        resolve(null);
      }
    });
  });
}

function summary(r: Result): string {
  const f = (x: unknown, d = 2) => (typeof x === 'number' ? x.toFixed(d) : String(x));
  const vs = r.vs_torch_cuda as { torch_ms: number; time_ratio: number; tflops_ratio?: number } | undefined;
  const torch = vs ? `; PyTorch CUDA ${f(vs.torch_ms, 3)} ms: ${f(vs.time_ratio)}× its time` : '';
  if (r.config.kind === 'matmul')
    return `${f(r.tflops)} TFLOP/s (${f(r.ms, 3)} ms, ${f(r.dispatches_per_product, 0)} dispatches, err ${f(r.max_err_rel_to_sum_abs, 8)})${vs?.tflops_ratio ? `${torch}, ${f(vs.tflops_ratio)}× cuBLAS's TFLOP/s` : ''}`;
  if (r.config.kind === 'parity')
    return `${r.cases} op cases, largest relative difference from the CPU ${f(r.max_rel_err, 8)}; over 1e-5: ${Object.keys(r.over_1e5 as object).join(', ') || 'none'}`;
  if (r.config.kind === 'mlp')
    return `${f(r.ms, 3)} ms/step (${f(r.tflops)} TFLOP/s, ${f(r.dispatches_per_step, 0)} dispatches; with loss read ${f(r.ms_with_loss_readback, 3)} ms)${torch}`;
  return `trained in ${f(r.train_ms, 1)} ms, host ${f(r.host_ms, 1)} ms (${r.submits} submissions, ${r.dispatches} dispatches; first run ${f(r.train_ms_cold, 0)} ms); loss vs torch f32 ${f(r.max_loss_rel_diff_vs_torch_f32, 8)}, predictions ${f(r.max_prediction_rel_diff, 8)}`;
}

main(process.argv.slice(2)).then(
  () => {},
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
