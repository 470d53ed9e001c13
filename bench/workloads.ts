// The benchmark workloads on graph-run itself. Each returns a prepared closure (loading,
// compiling and plan building done outside it) so the runner times only the work.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadGraph, parseGraph } from '../runtime/index.js';
import { Session } from '../runtime/session.js';
import { buildGraph } from '../runtime/ir/build.js';
import { buildPlan } from '../runtime/scheduler/plan.js';
import { CpuExecutor } from '../runtime/executors/cpu/cpu.js';
import type { FloatDType, TypedArray } from '../runtime/ir/types.js';
import { prng } from './stats.js';

export interface Prepared {
  run: () => void;
  /** A number the run produced (a loss, an output element), to check the work was done. */
  check: () => number;
}

/** graph-run's own graphs/, found from this module (src: bench/, built: dist/bench/). */
export function graphPath(rel: string): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes('/dist/') ? new URL('../../', import.meta.url) : new URL('../', import.meta.url);
  return fileURLToPath(new URL(rel, root));
}

/**
 * An example graph (a path under the repository) without its training section, the last in the
 * file, as a Session: a benchmark feeds each step directly, so it needs none of the data files
 * the example reads (`npm run data:mnist`, `npm run data:charlm`).
 */
export function sessionWithoutData(rel: string, fast = true): Session {
  const file = graphPath(rel);
  const text = readFileSync(file, 'utf8').replace(/\ntraining:[\s\S]*$/, '\n');
  return new Session(parseGraph(text, file), { fast });
}

/**
 * Training graphs/gender.yaml as `graph-run` does it: 1000 epochs x 4 per-sample steps plus
 * the whole-data loss every 10 epochs. Parameters are reset before each run, so every run
 * trains from the same start; plans are built by the first (warm-up) run.
 */
export function genderTraining(dtype: FloatDType = 'f32', fast = true): Prepared {
  const model = loadGraph(graphPath('graphs/gender.yaml'));
  const s = new Session(model, { dtype, fast });
  const initial = [...s.params.values()].map((buf) => ({ buf, init: buf.slice() }));
  let last = NaN;
  const run = () => {
    for (const { buf, init } of initial) buf.set(init);
    const log = s.train();
    last = log[log.length - 1]!.loss;
  };
  return { run, check: () => last };
}

/** Seeded MLP data and parameters (uniform ±1/sqrt(fan_in), as PyTorch's nn.Linear). */
export function mlpData(batch: number): { params: Map<string, Float32Array>; x: Float32Array; y: Float32Array } {
  const rnd = prng(42);
  const shapes: [string, number[]][] = [
    ['w1', [784, 256]],
    ['b1', [256]],
    ['w2', [256, 256]],
    ['b2', [256]],
    ['w3', [256, 10]],
    ['b3', [10]],
  ];
  const params = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, d) => a * d, 1);
    const bound =
      1 / Math.sqrt(name.startsWith('w') ? shape[0]! : shapes.find(([w]) => w === 'w' + name.slice(1))![1][0]!);
    params.set(
      name,
      new Float32Array(n).map(() => (rnd() * 2 - 1) * bound),
    );
  }
  const x = new Float32Array(batch * 784).map(() => rnd());
  const y = new Float32Array(batch * 10);
  for (let r = 0; r < batch; r++) y[r * 10 + Math.floor(rnd() * 10)] = 1;
  return { params, x, y };
}

/** One SGD step of the 784-256-256-10 ReLU MLP (graphs/bench/mlp.yaml), MSE on one-hot targets. */
export function mlpStep(batch = 128, fast = true): Prepared {
  const model = loadGraph(graphPath('graphs/bench/mlp.yaml'));
  const s = new Session(model, { fast });
  const d = mlpData(batch);
  for (const [name, v] of d.params) s.params.get(name)!.set(v);
  let last = NaN;
  const values = { x: d.x, y: d.y };
  return {
    run: () => {
      last = s.stepOn(batch, values);
    },
    check: () => last,
  };
}

/** The MLP's forward pass alone (inference), for the ONNX Runtime comparison. */
export function mlpInference(batch = 128, fast = true): Prepared {
  const model = loadGraph(graphPath('graphs/bench/mlp.yaml'));
  const s = new Session(model, { fast });
  const d = mlpData(batch);
  for (const [name, v] of d.params) s.params.get(name)!.set(v);
  const g = buildGraph(model, { float: 'f32', batch, loss: false }).graph;
  const plan = buildPlan(g, new CpuExecutor({ fast }), {
    outputs: ['out'],
    bound: new Map<string, TypedArray>(s.params),
  });
  plan.buffer('x').set(d.x);
  const out = plan.buffer('out');
  return { run: () => plan.run(), check: () => out[0]! };
}

/** A one-node plan: C = A·B for n×n f32 matrices. */
export function matmul(n: number, fast = true): Prepared {
  const model = parseGraph(
    `inputs: {a: {shape: [${n}, ${n}]}, b: {shape: [${n}, ${n}]}}
nodes: [{name: c, op: matmul, inputs: [a, b]}]
outputs: [c]`,
    '<bench matmul>.yaml',
  );
  const g = buildGraph(model, { float: 'f32', batch: 1 }).graph;
  const plan = buildPlan(g, new CpuExecutor({ fast }), { outputs: ['c'], bound: new Map() });
  const rnd = prng(1);
  for (const name of ['a', 'b']) {
    const buf = plan.buffer(name);
    for (let i = 0; i < buf.length; i++) buf[i] = rnd() * 2 - 1;
  }
  const c = plan.buffer('c');
  return { run: () => plan.run(), check: () => c[0]! };
}

/** y = sigmoid(a*b + c) over n floats: three nodes, one fused loop on the fast tier. */
export function elementwise(n: number, fast = true): Prepared {
  const model = parseGraph(
    `inputs: {a: {shape: [${n}]}, b: {shape: [${n}]}, c: {shape: [${n}]}}
nodes:
  - {name: p, op: mul, inputs: [a, b]}
  - {name: q, op: add, inputs: [p, c]}
  - {name: y, op: sigmoid, inputs: [q]}
outputs: [y]`,
    '<bench elementwise>.yaml',
  );
  const g = buildGraph(model, { float: 'f32', batch: 1 }).graph;
  const plan = buildPlan(g, new CpuExecutor({ fast }), { outputs: ['y'], bound: new Map() });
  const rnd = prng(2);
  for (const name of ['a', 'b', 'c']) {
    const buf = plan.buffer(name);
    for (let i = 0; i < buf.length; i++) buf[i] = rnd() * 4 - 2;
  }
  const y = plan.buffer('y');
  return { run: () => plan.run(), check: () => y[0]! };
}

/** The chain's YAML: `nodes` alternating v + 1 and v * 0.5 over a small vector. */
export function chainYaml(nodes: number, size: number): string {
  const lines = [`inputs: {x: {shape: [${size}]}}`, 'nodes:'];
  for (let i = 0; i < nodes; i++) {
    const prev = i === 0 ? 'x' : `v${i - 1}`;
    lines.push(
      i % 2 === 0
        ? `  - {name: v${i}, op: add, inputs: [${prev}, 1]}`
        : `  - {name: v${i}, op: mul, inputs: [${prev}, 0.5]}`,
    );
  }
  lines.push(`outputs: [v${nodes - 1}]`);
  return lines.join('\n');
}

/**
 * A chain of `nodes` small elementwise nodes (16 floats). `fused`: the fast tier runs it as
 * one generated loop; otherwise every node is its own kernel call (the per-node overhead).
 */
export function chain(nodes: number, fused: boolean): Prepared {
  const model = parseGraph(chainYaml(nodes, 16), '<bench chain>.yaml');
  const g = buildGraph(model, { float: 'f32', batch: 1 }).graph;
  const out = `v${nodes - 1}`;
  const plan = buildPlan(g, new CpuExecutor({ fast: fused }), { outputs: [out], bound: new Map() });
  plan.buffer('x').fill(1);
  const y = plan.buffer(out);
  return { run: () => plan.run(), check: () => y[0]! };
}
