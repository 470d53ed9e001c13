// `repeat: N` on a subgraph use (docs/format.md, "Repeated subgraphs"): N copies, each with its
// own parameters under <use>/block<i>/ drawn from their own seeded streams, chained output to
// input, the other inputs shared; and the repeated graph through the tools: a training run saved
// and loaded, plan, dot, trace and ONNX export (ONNX Runtime agrees with graph-run). Agreement
// with PyTorch, forward and gradients, is in layers.test.ts (the *_repeat cases of layers.json).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compile, loadGraph, parseGraph, predict } from '../../runtime/index.js';
import { exportOnnx } from '../../runtime/export/onnx.js';
import { Session } from '../../runtime/session.js';
import { runCli } from '../support/cli.js';

const dir = 'test/fixtures/repeat';
const tmp = mkdtempSync(join(tmpdir(), 'graph-run-repeat-'));

const blocks = (repeat: number, seed = 7) =>
  [
    'graph-run: 1',
    `seed: ${seed}`,
    'inputs:',
    '  x: {shape: [batch, 4, 8]}',
    'nodes:',
    '  - name: blocks',
    '    graph: std:layers/transformer_block.yaml',
    `    repeat: ${repeat}`,
    '    inputs: {x: x}',
    '    with: {dim: 8, heads: 2, head_dim: 4, seq: 4, hidden: 16}',
    'outputs: [blocks]',
    '',
  ].join('\n');

describe('repeat: parameters', () => {
  it('are named <use>/block<i>/..., one set per copy, as a single use names its own', () => {
    const model = parseGraph(blocks(3), join(tmp, 'blocks.yaml'));
    const single = parseGraph(blocks(1).replace('    repeat: 1\n', ''), join(tmp, 'one.yaml'));
    const own = single.params.map((p) => p.name.replace(/^blocks\//, ''));
    expect(model.params.map((p) => p.name)).toEqual([0, 1, 2].flatMap((i) => own.map((n) => `blocks/block${i}/${n}`)));
    expect(model.params.map((p) => p.shape)).toEqual([0, 1, 2].flatMap(() => single.params.map((p) => p.shape)));
  });

  it('are initialised independently (each its own seeded stream) and deterministically', () => {
    const a = new Session(parseGraph(blocks(3), join(tmp, 'a.yaml')), { dtype: 'f64' });
    const b = new Session(parseGraph(blocks(3), join(tmp, 'b.yaml')), { dtype: 'f64' });
    const w = (s: Session, i: number) => Array.from(s.params.get(`blocks/block${i}/attn/wq`)!);
    expect(w(a, 0)).not.toEqual(w(a, 1));
    expect(w(a, 1)).not.toEqual(w(a, 2));
    for (const i of [0, 1, 2]) expect(w(b, i)).toEqual(w(a, i));
    // Another seed, other values.
    const c = new Session(parseGraph(blocks(3, 8), join(tmp, 'c.yaml')), { dtype: 'f64' });
    expect(w(c, 0)).not.toEqual(w(a, 0));
  });
});

describe('repeat: chaining', () => {
  it("feeds copy i its predecessor's output: the same as the copies written out by hand", () => {
    const byHand = [
      'graph-run: 1',
      'inputs:',
      '  x: {shape: [batch, 4, 8]}',
      'nodes:',
      ...[0, 1, 2].map(
        (i) =>
          `  - {name: b${i}, graph: std:layers/transformer_block.yaml, inputs: {x: ${i ? `b${i - 1}` : 'x'}}, with: {dim: 8, heads: 2, head_dim: 4, seq: 4, hidden: 16}}`,
      ),
      'outputs: {blocks: b2}',
      '',
    ].join('\n');
    const r = new Session(parseGraph(blocks(3), join(tmp, 'r.yaml')), { dtype: 'f64' });
    const h = new Session(parseGraph(byHand, join(tmp, 'h.yaml')), { dtype: 'f64' });
    for (const [name, v] of r.params) h.params.get(name.replace(/^blocks\/block(\d)\//, 'b$1/'))!.set(v);
    const x = Array.from({ length: 2 * 4 * 8 }, (_, i) => Math.sin(i * 0.7));
    const got = r.run(new Map([['x', x]]), 2).blocks!;
    const want = h.run(new Map([['x', x]]), 2).blocks!;
    expect(got.shape).toEqual([2, 4, 8]);
    expect(Array.from(got.data)).toEqual(Array.from(want.data));
  });

  it('chains the input chain: names and shares the others; by default the first declared input is chained', async () => {
    const model = loadGraph(join(dir, 'shared-use.yaml'));
    const s = new Session(model, { dtype: 'f64' });
    const b = (i: number) => Array.from(s.params.get(`r/block${i}/b`)!);
    // h <- h * scale + b, three times, scale = [2, -0.5] shared.
    const scale = [2, -0.5];
    const want = [
      [1, 2],
      [3, -1],
    ].flatMap((row) => {
      let h = row;
      for (const i of [0, 1, 2]) h = h.map((v, j) => v * scale[j]! + b(i)[j]!);
      return h;
    });
    const got = Array.from(s.run(new Map([['x', [1, 2, 3, -1]]]), 2).r!.data);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    // Without chain:, `scale` (declared first) would be chained: [2] is not [batch, 2].
    const text = readFileSync(join(dir, 'shared-use.yaml'), 'utf8').replace(', chain: h', '');
    expect(() => parseGraph(text, join(dir, 'default-chain.yaml'))).toThrow(
      /the first copy of "r" turns its chained input "scale" \[2\] f32 into \[batch, 2\] f32/,
    );
  });

  it("takes gradients with respect to a copy's parameter named in gradients: wrt", async () => {
    const text = `${blocks(2).replace('outputs: [blocks]\n', '')}${[
      '  - {name: total, op: sum, inputs: [blocks]}',
      'outputs: [blocks]',
      'feed: {x: [[[1, 0, 0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 1, 0], [0, 0, 1, 0, 0, 1, 0, 0], [0, 0, 0, 1, 1, 0, 0, 0]]]}',
      'gradients: {of: total, wrt: [blocks/block1/attn/wq, blocks/block0/w1]}',
      '',
    ].join('\n')}`;
    const file = join(tmp, 'grad.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, text);
    const r = await runCli([file, '--json', '--dtype', 'f64']);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { gradients: Record<string, { shape: number[]; data: number[] }> };
    expect(out.gradients['blocks/block1/attn/wq']!.shape).toEqual([8, 8]);
    expect(out.gradients['blocks/block0/w1']!.shape).toEqual([8, 16]);
    expect(out.gradients['blocks/block0/w1']!.data.some((v) => v !== 0)).toBe(true);
  });
});

describe('a repeated graph through the tools', () => {
  const deep = join(dir, 'deep.yaml');

  it('trains, saves a checkpoint holding every copy, and predicts the same from it', async () => {
    const ck = join(tmp, 'deep.safetensors');
    const trained = await runCli([deep, '--save', ck, '-q', '--json']);
    expect(trained.code, trained.err).toBe(0);
    const t = JSON.parse(trained.out) as {
      params: Record<string, unknown>;
      predictions: Record<string, unknown>;
    };
    for (const i of [0, 1, 2]) expect(Object.keys(t.params)).toContain(`blocks/block${i}/fc2/weight`);
    const loaded = await runCli([deep, '--load', ck, '--json']);
    expect(loaded.code, loaded.err).toBe(0);
    expect(t.predictions.rows).toBeDefined();
    expect((JSON.parse(loaded.out) as typeof t).predictions).toEqual(t.predictions);
  });

  it('plan, dot, trace and grad show every copy', async () => {
    const plan = await runCli(['plan', deep]);
    expect(plan.code, plan.err).toBe(0);
    expect(plan.out).toMatch(/blocks\/block2\/fc1\/xw\s+matmul/);
    const dot = await runCli(['dot', deep]);
    expect(dot.code, dot.err).toBe(0);
    expect(dot.out).toContain('blocks/block1/fc2/y');
    const trace = await runCli(['trace', deep]);
    expect(trace.code, trace.err).toBe(0);
    expect(trace.out).toContain('blocks/block2/fc2/weight');
    // The printed reverse graph carries the values drawn for seeded parameters.
    const grad = await runCli(['grad', deep]);
    expect(grad.code, grad.err).toBe(0);
    expect(grad.out).toMatch(/blocks\/block2\/fc2\/weight: \{shape: \[4, 6\], init: \{values: /);
    // ... and loads back as a graph of its own (parameter names keep their `/`), whose outputs
    // are the same gradients the original graph's session computes.
    const printed = join(tmp, 'deep_grad.yaml');
    writeFileSync(printed, grad.out);
    const rerun = await runCli([printed, '--json']);
    expect(rerun.code, rerun.err).toBe(0);
    const outputs = (JSON.parse(rerun.out) as { outputs: Record<string, { data: number[] }> }).outputs;
    // The reference: one SGD step (lr 0.05) of the original graph in f64 on the same first batch.
    const s = compile(loadGraph(deep), { dtype: 'f64' });
    const before = new Map([...s.params].map(([k, v]) => [k, Float64Array.from(v)]));
    s.step(0, s.batchSize);
    expect(before.size).toBe(16);
    for (const [name, b] of before) {
      const got = outputs[`d_${name.replaceAll('/', '_')}`]!.data;
      const after = s.params.get(name)!;
      expect(got).toHaveLength(b.length);
      got.forEach((g, i) =>
        expect(Math.abs(g - (b[i]! - after[i]!) / 0.05)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(g))),
      );
    }
  });

  it('exports to ONNX, and ONNX Runtime computes what graph-run does', async () => {
    const session = compile(loadGraph(deep));
    const rows = [
      [0, 1, 2],
      [1, -1, 0.5],
      [2, 0, -2],
    ];
    const ours = predict(session, { x: rows }).head!;
    const ortSession = await ort.InferenceSession.create(exportOnnx(session));
    const out = await ortSession.run({ x: new ort.Tensor('float32', Float32Array.from(rows.flat()), [3, 3]) });
    const theirs = Array.from(out.head!.data as Float32Array);
    expect(theirs).toHaveLength(6);
    theirs.forEach((v, i) => expect(Math.abs(v - ours.data[i]!)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
  });
});
