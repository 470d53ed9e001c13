// `outputs:` and `gradients.of` may name the loss of a `loss:` section: by its name (`loss`, or
// its `name:`) or by its result's global name (`loss/loss`, as `grad` and `trace` print it).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, feedOutputs, GraphErrors, parseGraph } from '../../runtime/index.js';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'graph-run-loss-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const graph = (outputs: string, extra = '') => `graph-run: 1
inputs:
  x: {shape: [batch, 2]}
  y: {shape: [batch]}
params:
  w: {shape: [1, 2], init: {values: [[0.5, -1]]}}
nodes:
  - {name: z, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
  - {name: pred, op: reshape, inputs: [z], attrs: {shape: [batch]}}
outputs: ${outputs}
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
feed: {x: [[1, 2], [3, 1]], y: [1, -1]}
${extra}`;

// pred = x w^T = [0.5 - 2, 1.5 - 1] = [-1.5, 0.5]; mse = ((-2.5)^2 + 1.5^2) / 2 = 4.25.
// d mse / d w = mean over rows of 2 (pred - y) x = ((-5) [1, 2] + 3 [3, 1]) / 2 = [2, -3.5].
describe('the loss as an output', () => {
  for (const name of ['loss', 'loss/loss']) {
    it(`outputs: [pred, ${name}] gives the loss at the feed`, async () => {
      const s = compile(parseGraph(graph(`[pred, ${name}]`)), { dtype: 'f64' });
      const o = (await feedOutputs(s))!;
      expect(Array.from(o.pred!.data)).toEqual([-1.5, 0.5]);
      expect(o[name]!.shape).toEqual([]);
      expect(o[name]!.data[0]).toBeCloseTo(4.25, 12);
    });
    it(`gradients.of: ${name} differentiates the loss`, () => {
      const s = compile(parseGraph(graph('[pred]', `gradients: {of: ${name}, wrt: [w]}\n`)), { dtype: 'f64' });
      const g = s.gradients();
      expect(Array.from(g.w!.data)).toEqual([2, -3.5]);
    });
  }
  it('a renamed loss is named by its name', async () => {
    const text = graph('{p: pred, l: mse}').replace('loss: {graph', 'loss: {name: mse, graph');
    const o = (await feedOutputs(compile(parseGraph(text), { dtype: 'f64' })))!;
    expect(o.l!.data[0]).toBeCloseTo(4.25, 12);
  });
  it('a name that is not the loss is still unknown', () => {
    expect(() => parseGraph(graph('[pred, los]'))).toThrow(GraphErrors);
  });
  it('the CLI prints the loss among the outputs (names aligned) and names the gradient as written', async () => {
    const file = join(dir, 'net.yaml');
    writeFileSync(file, graph('[pred, loss]', 'gradients: {of: loss, wrt: [w]}\n'));
    const r = await runCli([file, '--dtype', 'f64']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('outputs:\n  pred  [2] [-1.50000, 0.500000]\n  loss  4.25000\n');
    expect(r.out).toContain('gradients of loss:\n  d/dw  [1x2] [2, -3.50000]');
  });
});
