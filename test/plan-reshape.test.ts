// On the fast CPU tier a reshape shares its input's buffer (no copy, no kernel): the buffer then
// lives while either is read, so a later value never reuses it too early; reshapes of reshapes,
// of inputs and of parameters, and reshapes kept as outputs or written back, all give the
// reference tier's values (which copies).

import { describe, expect, it } from 'vitest';
import { parseGraph } from '../runtime/index.js';
import { sessionWithoutData } from '../bench/workloads.js';
import { buildGraph } from '../runtime/ir/build.js';
import { buildPlan } from '../runtime/scheduler/plan.js';
import { CpuExecutor } from '../runtime/executors/cpu/cpu.js';
import { kernels } from '../runtime/executors/cpu/threads.js';

describe.skipIf(kernels() === null)('reshapes sharing their input buffer', () => {
  it('gives the copying plan values, with fewer kernels', () => {
    // a's buffer is shared by r1 and r2, read after d and e (which could reuse a dead buffer of
    // a's size); out is a reshape kept as an output; xr reshapes an input.
    const model = parseGraph(`
inputs: {x: {shape: [8, 16]}}
nodes:
  - {name: a, op: exp, inputs: [x]}
  - {name: r1, op: reshape, inputs: [a], attrs: {shape: [16, 8]}}
  - {name: r2, op: reshape, inputs: [r1], attrs: {shape: [128]}}
  - {name: d, op: neg, inputs: [x]}
  - {name: e, op: square, inputs: [d]}
  - {name: xr, op: reshape, inputs: [x], attrs: {shape: [128]}}
  - {name: er, op: reshape, inputs: [e], attrs: {shape: [128]}}
  - {name: f, op: add, inputs: [r2, er]}
  - {name: g, op: mul, inputs: [f, xr]}
  - {name: out, op: reshape, inputs: [g], attrs: {shape: [2, 64]}}
  - {name: h, op: sub, inputs: [g, r2]}
outputs: [out, h, r1]
`);
    const g = buildGraph(model, { float: 'f32', batch: 1 }).graph;
    const runs = [false, true].map((fast) => {
      const plan = buildPlan(g, new CpuExecutor({ fast }), { outputs: ['out', 'h', 'r1'], bound: new Map() });
      const x = plan.buffer('x');
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
      plan.run();
      return { plan, values: ['out', 'h', 'r1'].map((n) => Array.from(plan.buffer(n))) };
    });
    expect(runs[1]!.values).toEqual(runs[0]!.values);
    expect(runs[1]!.plan.buffer('r1')).toBe(runs[1]!.plan.buffer('r1'));
    // Five reshapes: five kernels fewer (the fast tier fuses nothing else here: f, g, h are read twice or kept).
    expect(runs[0]!.plan.stats.kernels - runs[1]!.plan.stats.kernels).toBeGreaterThanOrEqual(5);
  });

  it("the character model's training steps match the reference tier's within f32 rounding", () => {
    const losses = [false, true].map((fast) => {
      const s = sessionWithoutData('graphs/charlm.yaml', fast);
      const ids = Int32Array.from({ length: 4 * 64 }, (_, i) => (i * 7) % 83);
      const next = Int32Array.from({ length: 4 * 64 }, (_, i) => (i * 11 + 3) % 83);
      return [0, 1, 2].map(() => s.stepOn(4, { ids, next }));
    });
    losses[1]!.forEach((l, i) => expect(l).toBeCloseTo(losses[0]![i]!, 4));
  });
});
