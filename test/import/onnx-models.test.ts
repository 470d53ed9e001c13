// ONNX import on models no one here wrote: PyTorch modules exported by torch.onnx and run in
// ONNX Runtime by test/reference/onnx-models.py (the .onnx files, inputs and outputs are
// committed under test/fixtures/onnx/). Each is imported, loaded as a graph (its parameters read
// from the safetensors file beside it) and run; graph-run's outputs must be within 1e-5 of ONNX
// Runtime's. The MLP is then fine-tuned through a graph that uses it as a subgraph and adds a
// loss and an optimizer, and must follow PyTorch's SGD on the same model. Also the round trip:
// graph-run's own ONNX export of the example graphs, imported back, gives the same outputs.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, exportOnnx, ImportError, importOnnx, loadGraph, parseGraph, predict } from '../../runtime/index.js';
import { runCli } from '../support/cli.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'onnx');
const tmp = mkdtempSync(join(tmpdir(), 'graph-run-import-'));

interface Ref {
  opset: number;
  inputs: Record<string, { shape: number[]; data: number[] }>;
  outputs: Record<string, { shape: number[]; data: number[] }>;
}

/** Import fixtures/onnx/<name>.onnx into the temporary folder; the graph file's path. */
function imported(name: string): string {
  const r = importOnnx(readFileSync(join(fixtures, `${name}.onnx`)), {
    file: `${name}.onnx`,
    weights: `${name}.safetensors`,
  });
  writeFileSync(join(tmp, `${name}.safetensors`), r.weights);
  writeFileSync(join(tmp, `${name}.yaml`), r.yaml);
  return join(tmp, `${name}.yaml`);
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('models exported by PyTorch, against ONNX Runtime', () => {
  for (const name of ['mlp', 'cnn', 'cnn2', 'transformer']) {
    it(`${name}: graph-run's outputs are within 1e-5 of ONNX Runtime's`, () => {
      const ref = JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as Ref;
      const s = compile(loadGraph(imported(name)));
      const [input, x] = Object.entries(ref.inputs)[0]!;
      const out = s.run(new Map([[input, x.data]]), x.shape[0]!);
      expect(out.out!.shape).toEqual(ref.outputs.out!.shape);
      expect(maxDiff(out.out!.data, ref.outputs.out!.data)).toBeLessThan(1e-5);
    });
  }

  it('the MLP takes any batch size (its batch dimension stays symbolic)', () => {
    const ref = JSON.parse(readFileSync(join(fixtures, 'mlp.json'), 'utf8')) as Ref;
    const s = compile(loadGraph(imported('mlp')));
    const x = ref.inputs.x!;
    const two = s.run(new Map([['x', x.data.slice(0, 8)]]), 2);
    expect(maxDiff(two.out!.data, ref.outputs.out!.data.slice(0, 6))).toBeLessThan(1e-5);
  });
});

describe('graph-run import', () => {
  it("writes the graph and its weights beside it (default: the model's name), which validate and draw", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-import-cli-'));
    writeFileSync(join(dir, 'cnn.onnx'), readFileSync(join(fixtures, 'cnn.onnx')));
    const r = await runCli(['import', join(dir, 'cnn.onnx')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /cnn\.yaml: 16 nodes from ONNX opset 15; inputs x \[batch, 1, 8, 8\]; outputs out; 8 parameters/,
    );
    expect(readFileSync(join(dir, 'cnn.yaml'), 'utf8')).toContain('init: {file: cnn.safetensors}');
    expect((await runCli(['validate', join(dir, 'cnn.yaml')])).code).toBe(0);
    const dot = await runCli(['dot', join(dir, 'cnn.yaml')]);
    expect(dot.out).toContain('conv2d');
    const o = await runCli(['import', join(dir, 'cnn.onnx'), '-o', join(dir, 'sub', 'net.yaml')]);
    expect(o.code).toBe(1); // no such folder: refused before anything is written
    expect(o.err).toMatch(/cannot write graph/);
  });
});

describe('fine-tuning an imported model', () => {
  const ref = JSON.parse(readFileSync(join(fixtures, 'mlp-finetune.json'), 'utf8')) as {
    x: number[][];
    y: number[][];
    lr: number;
    steps: number;
    losses: number[];
    final_loss: number;
    params: Record<string, number[]>;
  };
  /** fixtures/onnx/finetune.yaml beside the imported MLP: it uses it as a subgraph and adds a loss, an optimizer and data. */
  function finetuneGraph(): string {
    imported('mlp');
    const path = join(tmp, 'finetune.yaml');
    writeFileSync(path, readFileSync(join(fixtures, 'finetune.yaml')));
    return path;
  }

  it('docs/onnx.md shows the fine-tuning graph as it is tested', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'onnx.md'), 'utf8');
    expect(doc).toContain(readFileSync(join(fixtures, 'finetune.yaml'), 'utf8'));
  });

  it("trains like PyTorch's SGD on the same model: the loss falls, the weights match", () => {
    const s = compile(loadGraph(finetuneGraph()));
    expect(s.metrics(0).loss).toBeCloseTo(ref.losses[0]!, 6);
    s.train();
    const after = s.metrics(ref.steps).loss;
    expect(after).toBeLessThan(ref.losses[0]!);
    expect(Math.abs(after - ref.final_loss)).toBeLessThan(1e-6);
    const p = s.parameters();
    for (const [torchName, values] of Object.entries(ref.params))
      expect(maxDiff(p[`net/${torchName.replace('.', '_')}`]!.data, values)).toBeLessThan(1e-6);
  });

  it('the fine-tuning graph validates, traces, checks its gradients and draws', async () => {
    const path = finetuneGraph();
    for (const cmd of ['validate', 'trace', 'check', 'dot']) {
      const r = await runCli([cmd, path]);
      expect(r.err, cmd).toBe('');
      expect(r.code, cmd).toBe(0);
    }
  });
});

describe("round trip: graph-run's ONNX export, imported back", () => {
  for (const g of ['gender', 'xor', 'blobs', 'linreg', 'mlp_dropout']) {
    it(`graphs/${g}.yaml gives the same outputs`, () => {
      const s = compile(loadGraph(join(import.meta.dirname, '..', '..', 'graphs', `${g}.yaml`)));
      s.train({ epochs: 3 });
      const r = importOnnx(exportOnnx(s), { file: `${g}.onnx`, weights: `${g}-rt.safetensors` });
      writeFileSync(join(tmp, `${g}-rt.safetensors`), r.weights);
      writeFileSync(join(tmp, `${g}-rt.yaml`), r.yaml);
      const back = compile(loadGraph(join(tmp, `${g}-rt.yaml`)));
      const input = s.model.inputs.find((i) => back.model.inputs.some((b) => b.name === i.name))!;
      const width = input.shape.slice(1).reduce<number>((a, d) => a * (d as number), 1);
      const rows = Array.from({ length: 3 }, (_, i) => Array.from({ length: width }, (_, j) => i - j * 0.5 + 0.25));
      const feed = { [input.name]: input.shape.length === 1 ? rows.map((r) => r[0]) : rows };
      const want = predict(s, feed);
      const got = predict(back, feed);
      for (const o of s.model.outputs) expect(maxDiff(got[o.name]!.data, want[o.name]!.data)).toBeLessThan(1e-6);
    });
  }

  // Attribute forms PyTorch's exporter did not write above, through graph-run's own exporter.
  const img = 'graph-run: 1\ninputs:\n  x: {shape: [batch, 2, 7, 6]}\n';
  const u = 'init: {uniform: {low: -1, high: 1}}';
  const small: [string, string][] = [
    [
      'conv2d, asymmetric padding',
      `${img}params:\n  k: {shape: [3, 2, 3, 2], ${u}}\nnodes:\n  - {name: out, op: conv2d, inputs: [x, k], attrs: {stride: [2, 1], padding: [1, 0, 0, 1]}}\noutputs: [out]\n`,
    ],
    [
      'max_pool2d, padded, ceil_mode',
      `${img}nodes:\n  - {name: out, op: max_pool2d, inputs: [x], attrs: {kernel: [3, 2], stride: [2, 1], padding: 1, ceil_mode: true}}\noutputs: [out]\n`,
    ],
    [
      'avg_pool2d, padding counted',
      `${img}nodes:\n  - {name: out, op: avg_pool2d, inputs: [x], attrs: {kernel: 3, stride: 2, padding: 1}}\noutputs: [out]\n`,
    ],
    [
      'pad, replicate and constant',
      `${img}nodes:\n  - {name: p, op: pad, inputs: [x], attrs: {pads: [[1, 2], [3, 0]], mode: replicate}}\n  - {name: out, op: pad, inputs: [p], attrs: {pads: [[0, 1]], value: -0.5}}\noutputs: [out]\n`,
    ],
    [
      'slice with steps and negative positions',
      `${img}nodes:\n  - {name: out, op: slice, inputs: [x], attrs: {axes: [2, 3], starts: [-6, 1], ends: [-1, 60], steps: [2, 3]}}\noutputs: [out]\n`,
    ],
  ];
  for (const [what, yaml] of small) {
    it(`${what} gives the same outputs`, () => {
      const s = compile(parseGraph(yaml, join(tmp, 'small.yaml')));
      const r = importOnnx(exportOnnx(s), { file: 'small.onnx', weights: 'small-rt.safetensors' });
      writeFileSync(join(tmp, 'small-rt.safetensors'), r.weights);
      writeFileSync(join(tmp, 'small-rt.yaml'), r.yaml);
      const back = compile(loadGraph(join(tmp, 'small-rt.yaml')));
      const x = Array.from({ length: 2 * 2 * 7 * 6 }, (_, i) => Math.sin(i * 1.7));
      const want = s.run(new Map([['x', x]]), 2).out!;
      const got = back.run(new Map([['x', x]]), 2).out!;
      expect(got.shape).toEqual(want.shape);
      expect(maxDiff(got.data, want.data)).toBeLessThan(1e-6);
    });
  }

  it('ImportError is exported for callers', () => {
    expect(new ImportError('x')).toBeInstanceOf(Error);
  });
});
