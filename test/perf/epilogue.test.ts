// The gemm's epilogue: a matmul followed by the add of a bias row, and a ReLU, finished inside
// the gemm (wasm/gemm-tile.ts) instead of a separate pass. It must give the same bits as the
// unfused kernels (the gemm, then the fused elementwise loop) on every shape: edge tiles (m not
// a multiple of 5, n not of 8), several k-blocks (the epilogue after the last one only), a
// transposed operand, batches, the bias as [n] or [1, n] on either side of the add, NaN and
// negative values through the ReLU, products split across threads. The planner finishes a
// forward MLP's layers in their gemms, and leaves the relu's input alone in a training step,
// where the gradient reads it. No timing here (`npm run bench` measures).

import v8 from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { kernels } from '../../runtime/executors/cpu/threads.js';
import { buildGraph } from '../../runtime/ir/build.js';
import type { TypedArray } from '../../runtime/ir/types.js';
import { buildPlan } from '../../runtime/scheduler/plan.js';
import { gemmEpilogues } from '../../runtime/scheduler/fusion.js';
import { compile, loadGraph, parseGraph } from '../../runtime/index.js';
import { prng } from '../support/prng.js';

v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

/** A graph: y = relu?(matmul(x, w) + b), with the given shapes. */
function layer(x: number[], w: number[], b: number[], o: { relu: boolean; tb?: boolean; biasFirst?: boolean }): string {
  const add = o.biasFirst ? '[b, z]' : '[z, b]';
  return [
    `inputs: {x: {shape: [${x}]}, w: {shape: [${w}]}, b: {shape: [${b}]}}`,
    'nodes:',
    `  - {name: z, op: matmul, inputs: [x, w]${o.tb ? ', attrs: {transpose_b: true}' : ''}}`,
    `  - {name: s, op: add, inputs: ${add}}`,
    ...(o.relu ? ['  - {name: y, op: relu, inputs: [s]}'] : []),
    `outputs: [${o.relu ? 'y' : 's'}]`,
  ].join('\n');
}

/** Run the graph's forward plan on the fast tier, with or without the epilogue; the output. */
function run(
  yaml: string,
  values: Record<string, Float32Array>,
  epilogue: boolean,
): { out: Float32Array; kernels: number } {
  const model = parseGraph(yaml);
  const g = buildGraph(model, { float: 'f32', loss: false, batch: 1 }).graph;
  const exec = new CpuExecutor();
  if (!epilogue) Object.assign(exec, { epilogue: undefined, prepareEpilogue: undefined });
  const out = String(model.outputs[0]!.ref);
  const plan = buildPlan(g, exec, { outputs: [out], bound: new Map<string, TypedArray>() });
  for (const [k, v] of Object.entries(values)) plan.buffer(k).set(v);
  plan.run();
  return { out: (plan.buffer(out) as Float32Array).slice(), kernels: plan.stats.kernels };
}

describe('the gemm epilogue (bias row, then ReLU)', () => {
  const rnd = prng(11);
  // [x shape, w shape, bias shape, transpose_b]
  const cases: [number[], number[], number[], boolean][] = [
    [[7, 13], [13, 11], [11], false],
    [[31, 37], [37, 41], [41], false],
    [[128, 784], [784, 256], [256], false], // the benchmark MLP's first layer: 4 k-blocks, split across threads
    [[128, 256], [256, 10], [1, 10], false], // its last: one full and one edge tile column
    [[33, 300], [45, 300], [45], true],
    [[3, 17, 19], [19, 23], [23], false], // a batch of products
    [[161, 600], [600, 520], [520], false], // past one cache block in m, k and n
  ];
  for (const [xs, ws, bs, tb] of cases)
    for (const relu of [true, false])
      for (const biasFirst of relu ? [false, true] : [false])
        it(`[${xs}]·[${ws}]${tb ? 'ᵀ' : ''} + [${bs}]${relu ? ', relu' : ''}${biasFirst ? ' (bias first)' : ''}`, () => {
          const fill = (shape: number[]) =>
            new Float32Array(shape.reduce((a, d) => a * d, 1)).map(() => (rnd() * 2 - 1) * 0.5);
          const values = { x: fill(xs), w: fill(ws), b: fill(bs) };
          // NaN and a negative zero reach the ReLU: both give 0, as the reference's x > 0 does.
          values.x[0] = Number.NaN;
          values.b[1] = -0;
          const yaml = layer(xs, ws, bs, { relu, tb, biasFirst });
          const fused = run(yaml, values, true);
          const plain = run(yaml, values, false);
          // One kernel instead of two (the matmul, then the elementwise loop); a product too
          // small for the gemm (7·13·11 multiply-adds) keeps the reference kernels.
          const work = xs.slice(-2).reduce((a, d) => a * d, 1) * (tb ? ws[0]! : ws.at(-1)!);
          expect(fused.kernels).toBe(work >= 4096 ? 1 : 2);
          expect(plain.kernels).toBe(2);
          expect(Buffer.from(fused.out.buffer).equals(Buffer.from(plain.out.buffer))).toBe(true);
        });

  it('is not used for small products, f64 values or a matmul read elsewhere', () => {
    const model = loadGraph('graphs/bench/mlp.yaml');
    const fwd = buildGraph(model, { float: 'f32', loss: false, batch: 128 }).graph;
    const can = () => true;
    const order = fwd.ancestors(['out']);
    // The forward MLP: three layers finished in their gemms, two with their ReLU.
    const f = gemmEpilogues(fwd, order, new Set(['out']), can);
    expect(f.map((e) => [e.matmul.name, e.rest.map((n) => n.op)])).toEqual([
      ['z1', ['add', 'relu']],
      ['z2', ['add', 'relu']],
      ['z3', ['add']],
    ]);
    // Kept values stay out: the output itself ends a chain, a kept matmul starts none.
    expect(gemmEpilogues(fwd, order, new Set(['out', 'z1', 's2']), can).map((e) => e.output)).toEqual(['s2', 'out']);
    // f64: no epilogue.
    const g64 = buildGraph(model, { float: 'f64', loss: false, batch: 128 }).graph;
    expect(gemmEpilogues(g64, g64.ancestors(['out']), new Set(['out']), can)).toEqual([]);
    // The executor's own check: a tiny product keeps the reference kernel.
    const exec = new CpuExecutor();
    expect(exec.epilogue?.(fwd.node('z1'), [fwd.node('x').type, fwd.node('w1').type])).toBe(kernels() !== null);
    const tiny = parseGraph(layer([2, 3], [3, 2], [2], { relu: true }));
    const tg = buildGraph(tiny, { float: 'f32', loss: false, batch: 1 }).graph;
    expect(exec.epilogue?.(tg.node('z'), [tg.node('x').type, tg.node('w').type])).toBe(false);
  });

  it("a training step's relu input is read by its gradient: only matmul + add join there", () => {
    const t = compile(loadGraph('graphs/bench/mlp.yaml')).program.train(16);
    const g = t.built.graph;
    const order = g.ancestors([t.loss, ...t.writebacks.map((w) => w.from)]);
    const eps = gemmEpilogues(g, order, new Set([t.loss, ...t.writebacks.map((w) => w.from)]), () => true);
    expect(eps.length).toBe(3);
    for (const e of eps) expect(e.rest.map((n) => n.op)).toEqual(['add']);
  });
});
