// Fused elementwise groups whose inputs hold one value per row (a layer norm's mean and
// 1/std, [..., 1] against [..., dim]) run as WebAssembly SIMD row loops (the value splatted
// once per row), next to row-repeated (bias) and whole inputs: the same bits as the reference
// kernels, split across threads or not, with rows that are not a multiple of 4 (their last
// vector overlaps the one before).

import { describe, expect, it } from 'vitest';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { kernels } from '../../runtime/executors/cpu/threads.js';
import { buildGraph } from '../../runtime/ir/build.js';
import { buildPlan } from '../../runtime/scheduler/plan.js';
import { parseGraph } from '../../runtime/index.js';
import { prng } from '../support/prng.js';

const K = kernels();

describe.skipIf(K === null)('elementwise rows with one value per row', () => {
  for (const [rows, dim] of [
    [[32, 64], 64],
    [[7, 3], 20],
    [[2048], 83], // not a multiple of 4: the last vector of a row redoes three columns
    [[300], 7],
    [[60], 5],
    [[4096], 256], // long enough to be split across threads
  ] as [number[], number][]) {
    it(`layer norm's normalise over [${[...rows, dim].join(', ')}]`, () => {
      const shape = [...rows, dim];
      const col = [...rows, 1];
      const model = parseGraph(`
inputs:
  x: {shape: [${shape.join(', ')}]}
  mean: {shape: [${col.join(', ')}]}
  rstd: {shape: [${col.join(', ')}]}
  w: {shape: [${dim}]}
  b: {shape: [${dim}]}
nodes:
  - {name: c, op: sub, inputs: [x, mean]}
  - {name: n, op: mul, inputs: [c, rstd]}
  - {name: s, op: mul, inputs: [n, w]}
  - {name: y, op: add, inputs: [s, b]}
  - {name: z, op: mul, inputs: [mean, x]}
outputs: [y, z]
`);
      const g = buildGraph(model, { float: 'f32', batch: 1 }).graph;
      const out: number[][] = [];
      for (const fast of [false, true]) {
        const plan = buildPlan(g, new CpuExecutor({ fast }), { outputs: ['y', 'z'], bound: new Map() });
        const r = prng(9);
        for (const i of ['x', 'mean', 'rstd', 'w', 'b']) {
          const buf = plan.buffer(i);
          for (let j = 0; j < buf.length; j++) buf[j] = (r() * 2 - 1) * (j % 13 === 0 ? 1000 : 1);
        }
        plan.run();
        out.push([...plan.buffer('y'), ...plan.buffer('z')]);
      }
      expect(out[1]).toEqual(out[0]);
    });
  }
});
