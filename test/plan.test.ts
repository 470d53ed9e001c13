// Plans: buffers are reused once a value's last reader has run, the topological order is
// deterministic (declaration order breaks ties), and a training step, once its plan is
// built, allocates no typed arrays and keeps the parameters in the same buffers.

import { afterEach, describe, expect, it } from 'vitest';
import { compile, loadGraph, parseGraph } from '../runtime/index.js';
import { buildGraph } from '../runtime/ir/build.js';
import { buildPlan } from '../runtime/scheduler/plan.js';
import { CpuExecutor } from '../runtime/executors/cpu/cpu.js';
import type { DType, TypedArray } from '../runtime/ir/types.js';

/** A CPU executor that counts the buffers it hands out. */
class CountingExecutor extends CpuExecutor {
  allocations = 0;
  override allocate(dtype: DType, length: number): TypedArray {
    this.allocations++;
    return super.allocate(dtype, length);
  }
}

function genderTrainPlan() {
  const s = compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' });
  const t = s.trainGraph(1);
  const exec = new CountingExecutor();
  const bound = new Map<string, TypedArray>([...s.params, ...s.state]);
  const plan = buildPlan(t.built.graph, exec, { outputs: [t.loss], bound, writebacks: t.writebacks });
  return { s, t, plan, exec };
}

describe('buffer reuse', () => {
  it("gender's training plan has fewer buffers than values, and fewer kernel outputs than kernels", () => {
    const { t, plan, exec } = genderTrainPlan();
    const g = t.built.graph;
    const ops = plan.order.filter((n) => !['input', 'param', 'state', 'const'].includes(g.node(n).op));
    const sources = plan.order.filter((n) => ['input', 'const'].includes(g.node(n).op));
    expect(plan.stats.buffers).toBeLessThan(plan.stats.values);
    expect(exec.allocations).toBe(plan.stats.buffers);
    // Buffers for computed values: every input and constant has its own, the rest are shared.
    expect(plan.stats.buffers - sources.length).toBeLessThan(ops.length);
  });

  it('a chain of same-shaped values runs in two buffers and still computes the right thing', () => {
    const model = parseGraph(`
inputs: {x: {shape: [4]}}
nodes:
  - {name: a, op: exp, inputs: [x]}
  - {name: b, op: neg, inputs: [a]}
  - {name: c, op: exp, inputs: [b]}
  - {name: d, op: neg, inputs: [c]}
  - {name: e, op: square, inputs: [d]}
outputs: [e]
`);
    const built = buildGraph(model, { float: 'f64', batch: 1 });
    // Reference kernels: the fast tier would fuse the chain into one loop and need no buffer for a..d.
    const exec = new CountingExecutor({ fast: false });
    const plan = buildPlan(built.graph, exec, { outputs: ['e'], bound: new Map() });
    // x, then a..e alternate between two buffers (a value's buffer is freed after its reader).
    expect(plan.stats.buffers).toBe(3);
    const x = [0, 1, -1, 0.5];
    plan.buffer('x').set(x);
    plan.run();
    const want = x.map((v) => Math.exp(-Math.exp(v)) ** 2);
    Array.from(plan.buffer('e')).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 14));
  });

  it('a value read twice is not overwritten before its second reader', () => {
    const model = parseGraph(`
inputs: {x: {shape: [3]}}
nodes:
  - {name: a, op: exp, inputs: [x]}
  - {name: b, op: neg, inputs: [a]}
  - {name: c, op: neg, inputs: [b]}
  - {name: d, op: add, inputs: [c, a]}
outputs: [d]
`);
    const built = buildGraph(model, { float: 'f64', batch: 1 });
    const plan = buildPlan(built.graph, new CpuExecutor(), { outputs: ['d'], bound: new Map() });
    plan.buffer('x').set([0, 1, 2]);
    plan.run();
    expect(Array.from(plan.buffer('d'))).toEqual([0, 1, 2].map((v) => 2 * Math.exp(v)));
  });
});

describe('deterministic topological order', () => {
  it('loading the same graph twice gives the same node and plan order', () => {
    const a = genderTrainPlan(),
      b = genderTrainPlan();
    expect(a.plan.order).toEqual(b.plan.order);
    expect(loadGraph('graphs/gender.yaml').nodes.map((n) => n.name)).toEqual(
      loadGraph('graphs/gender.yaml').nodes.map((n) => n.name),
    );
  });

  it('dependencies come first; among ready nodes, declaration order decides', () => {
    const model = parseGraph(`
inputs: {x: {shape: [2]}}
nodes:
  - {name: c, op: neg, inputs: [b]}
  - {name: r, op: exp, inputs: [x]}
  - {name: b, op: neg, inputs: [a]}
  - {name: p, op: exp, inputs: [x]}
  - {name: a, op: neg, inputs: [x]}
  - {name: q, op: add, inputs: [p, r]}
outputs: [c, q]
`);
    // Ready at first: r, p, a (declared in that order). r; p; then q (p and r done) is
    // declared after a, so a goes first, which frees b, then c; q last.
    expect(model.nodes.map((n) => n.name)).toEqual(['r', 'p', 'a', 'b', 'c', 'q']);
  });

  it('independent nodes keep their declaration order', () => {
    const names = ['z', 'm', 'a', 'k'];
    const text = `inputs: {x: {shape: []}}\nnodes:\n${names.map((n) => `  - {name: ${n}, op: exp, inputs: [x]}`).join('\n')}\noutputs: [${names.join(', ')}]\n`;
    expect(parseGraph(text).nodes.map((n) => n.name)).toEqual(names);
  });
});

describe('a training step allocates nothing', () => {
  const saved = { Float32Array, Float64Array, Int32Array };
  afterEach(() => Object.assign(globalThis, saved));

  /** Replace the typed-array constructors with counting proxies while `f` runs. */
  function countTypedArrays(f: () => void): number {
    let count = 0;
    for (const [name, C] of Object.entries(saved)) {
      (globalThis as Record<string, unknown>)[name] = new Proxy(C, {
        construct(target, args, newTarget) {
          count++;
          return Reflect.construct(
            target,
            args,
            newTarget === (globalThis as Record<string, unknown>)[name] ? target : newTarget,
          );
        },
      });
    }
    try {
      f();
    } finally {
      Object.assign(globalThis, saved);
    }
    return count;
  }

  it('the counter sees allocations (so zero below means something)', () => {
    expect(countTypedArrays(() => void new Float64Array(3))).toBe(1);
  });

  it('after the first step, 400 more steps and a loss evaluation create no typed arrays; parameters stay in their buffers', () => {
    const s = compile(loadGraph('graphs/gender.yaml'));
    const before = new Map(s.params);
    const w1 = Array.from(s.params.get('w1')!);
    s.step(0, 1); // builds and caches the plan
    s.evaluate();
    const n = countTypedArrays(() => {
      for (let i = 0; i < 400; i++) s.step(i % 4, 1);
      s.evaluate();
    });
    expect(n).toBe(0);
    for (const [name, buf] of before) expect(s.params.get(name), name).toBe(buf);
    expect(Array.from(s.params.get('w1')!)).not.toEqual(w1);
  });

  it('the compiled plan runs the same kernels every time: a step is deterministic given its parameters', () => {
    const { plan, s } = genderTrainPlan();
    const snapshot = () => [...s.params.values()].flatMap((b) => Array.from(b));
    const start = [...s.params.values()].map((b) => Float64Array.from(b));
    plan.buffer('x').set([-2, -1]);
    plan.buffer('y').set([1]);
    plan.run();
    const once = snapshot();
    [...s.params.values()].forEach((b, i) => b.set(start[i]!)); // the same parameters again: the same update
    plan.run();
    expect(snapshot()).toEqual(once);
    expect(once).not.toEqual(start.flatMap((b) => Array.from(b)));
  });
});
