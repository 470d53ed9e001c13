// ONNX export: every example graph whose ops ONNX has, and a small graph per exportable op,
// run in ONNX Runtime (onnxruntime-node) and compared with graph-run within 1e-5; a symbolic
// batch dimension; trained weights from --load; ops without a mapping name the node; an
// unwritable output path fails before training.

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { exampleGraph } from '../support/examples.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compile, loadGraph, parseGraph, predict, type Session, type Tensor } from '../../runtime/index.js';
import { exportableOps, exportOnnx, ExportError } from '../../runtime/export/onnx.js';
import { runCli } from '../support/cli.js';
import { sizeOf } from '../../runtime/ir/types.js';
import { registry } from '../../runtime/ops/registry.js';
import { readFileSync } from 'node:fs';

const tmp = mkdtempSync(join(tmpdir(), 'graph-run-onnx-'));

const cli = runCli;

/** A deterministic pseudo-random sequence (tests must not flake). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

type Feed = Record<string, { shape: number[]; data: number[]; dtype: string }>;

/** Values for the inputs the forward graph reads, with `batch` rows where the shape has a batch. */
function randomFeed(session: Session, batch: number, seed: number, positive = false): Feed {
  const r = rng(seed);
  const feed: Feed = {};
  for (const i of session.model.inputs) {
    const shape = session.inputShape(i.name, batch);
    const n = sizeOf(shape);
    const int = i.dtype === 'i32';
    const data = Array.from({ length: n }, () =>
      int ? Math.floor(r() * 4) : positive ? 0.1 + 1.9 * r() : 4 * r() - 2,
    );
    feed[i.name] = { shape, data, dtype: int ? 'i32' : session.float };
  }
  return feed;
}

/** Nested lists, as predict() takes them. */
function nest(flat: number[], shape: number[]): unknown {
  if (!shape.length) return flat[0];
  const step = flat.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), shape.slice(1)));
}

async function runOrt(bytes: Uint8Array, feed: Feed, names: string[]): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes);
  const inputs: Record<string, ort.Tensor> = {};
  for (const name of s.inputNames) {
    const f = feed[name]!;
    const data =
      f.dtype === 'i32'
        ? Int32Array.from(f.data)
        : f.dtype === 'f64'
          ? Float64Array.from(f.data)
          : Float32Array.from(f.data);
    inputs[name] = new ort.Tensor(
      f.dtype === 'i32' ? 'int32' : f.dtype === 'f64' ? 'float64' : 'float32',
      data,
      f.shape,
    );
  }
  const out = await s.run(inputs);
  for (const n of names) expect(out[n], `ONNX output ${n}`).toBeDefined();
  return out;
}

/** max |a - b| / max(1, |b|) over the elements. */
function maxRelErr(a: ArrayLike<number | bigint>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(Number(a[i]) - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}

async function compare(session: Session, batch: number, seed: number, positive = false): Promise<number> {
  const feed = randomFeed(session, batch, seed, positive);
  const bytes = exportOnnx(session);
  const ours: Record<string, Tensor> = predict(
    session,
    Object.fromEntries(Object.entries(feed).map(([k, v]) => [k, nest(v.data, v.shape)])),
  );
  const theirs = await runOrt(bytes, feed, Object.keys(ours));
  let worst = 0;
  for (const [name, t] of Object.entries(ours)) {
    const o = theirs[name]!;
    expect(Array.from(o.dims).map(Number), `${name} shape`).toEqual(t.shape);
    const err = maxRelErr(o.data as ArrayLike<number>, Array.from(t.data));
    expect(err, `${name}: ONNX Runtime vs graph-run`).toBeLessThanOrEqual(1e-5);
    worst = Math.max(worst, err);
  }
  return worst;
}

function exampleGraphs(dir = 'graphs'): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e !== 'lib') out.push(...exampleGraphs(p));
    } else if (/\.ya?ml$/.test(e)) out.push(p);
  }
  return out.sort();
}

describe('every example graph', () => {
  for (const file of exampleGraphs()) {
    it(`${file}: ONNX Runtime gives graph-run's outputs within 1e-5 (or the export names the op it lacks)`, async () => {
      const session = compile(loadGraph(exampleGraph(file)));
      if (session.model.training) session.train({ epochs: Math.min(session.model.training.epochs, 3) }); // weights off their initial values
      let err: unknown;
      try {
        exportOnnx(session);
      } catch (e) {
        err = e;
      }
      if (err) {
        // An honest refusal only: the node exists and its op really has no ONNX mapping.
        expect(err).toBeInstanceOf(ExportError);
        const node = (err as ExportError).node!;
        const op = session.model.nodes.find((n) => n.name === node)?.op;
        expect(op).toBeDefined();
        expect(exportableOps).not.toContain(op);
        return;
      }
      const hasBatch = session.model.inputs.some((i) => i.shape.includes('batch'));
      await compare(session, hasBatch ? 3 : 1, 7);
      if (hasBatch) await compare(session, 1, 8); // the batch dimension is symbolic
    });
  }
});

// One small graph per exportable op (and per attribute form), compared on random inputs.
const cases: { name: string; yaml: string; positive?: boolean }[] = [];
const x3 = 'inputs:\n  x: {shape: [batch, 3]}\n';
const xy = 'inputs:\n  x: {shape: [batch, 3]}\n  y: {shape: [3]}\n';
// Every exportable one-input op without attributes, from the registry (log and sqrt take positive inputs, below).
const plainUnary = Object.values(registry)
  .filter((d) => d.group === 'unary' && d.onnx !== 'none' && Object.keys(d.attrs.properties).length === 0)
  .map((d) => d.name)
  .filter((n) => n !== 'log' && n !== 'sqrt' && n !== 'rsqrt');
for (const op of plainUnary) {
  cases.push({ name: op, yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x]}\noutputs: [out]\n` });
}
for (const op of ['log', 'sqrt', 'rsqrt'])
  cases.push({
    name: op,
    positive: true,
    yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x]}\noutputs: [out]\n`,
  });
for (const op of [
  'add',
  'sub',
  'mul',
  'div',
  'maximum',
  'minimum',
  'greater',
  'greater_equal',
  'less',
  'less_equal',
  'equal',
  'not_equal',
]) {
  cases.push({
    name: `${op} (broadcast)`,
    yaml: `${xy}nodes:\n  - {name: out, op: ${op}, inputs: [x, y]}\noutputs: [out]\n`,
  });
}
cases.push({
  name: 'equal (equal values)',
  yaml: `${x3}nodes:\n  - {name: f, op: floor, inputs: [x]}\n  - {name: out, op: equal, inputs: [f, 1]}\noutputs: [out]\n`,
});
cases.push({
  name: 'pow',
  positive: true,
  yaml: `${xy}nodes:\n  - {name: out, op: pow, inputs: [x, y]}\noutputs: [out]\n`,
});
// The training mode: 0 in an exported (inference) graph; a choice by mode exports its second branch.
cases.push({
  name: 'is_training',
  yaml: `${x3}nodes:\n  - {name: t, op: is_training}\n  - {name: out, op: add, inputs: [x, t]}\noutputs: [out]\n`,
});
cases.push({
  name: 'where by is_training',
  yaml: `${x3}nodes:\n  - {name: t, op: is_training}\n  - {name: n, op: neg, inputs: [x]}\n  - {name: out, op: where, inputs: [t, x, n]}\noutputs: [out]\n`,
});
cases.push({
  name: 'where',
  yaml: `inputs:\n  c: {shape: [batch, 3]}\n  x: {shape: [batch, 3]}\n  y: {shape: [3]}\nnodes:\n  - {name: p, op: greater, inputs: [c, 0]}\n  - {name: out, op: where, inputs: [p, x, y]}\noutputs: [out]\n`,
});
for (const op of ['sum', 'mean', 'max', 'min', 'logsumexp']) {
  cases.push({ name: `${op} (all)`, yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x]}\noutputs: [out]\n` });
  cases.push({
    name: `${op} (axis 1)`,
    yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x], attrs: {axis: 1}}\noutputs: [out]\n`,
  });
  cases.push({
    name: `${op} (axis [0, -1], keepdims)`,
    yaml: `inputs:\n  x: {shape: [batch, 2, 3]}\nnodes:\n  - {name: out, op: ${op}, inputs: [x], attrs: {axis: [0, -1], keepdims: true}}\noutputs: [out]\n`,
  });
}
for (const op of ['argmax', 'argmin']) {
  cases.push({
    name: `${op} (axis -1)`,
    yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x], attrs: {axis: -1}}\noutputs: [out]\n`,
  });
  cases.push({
    name: `${op} (axis 0, keepdims)`,
    yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x], attrs: {axis: 0, keepdims: true}}\noutputs: [out]\n`,
  });
  cases.push({
    name: `${op} (flattened)`,
    yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x]}\noutputs: [out]\n`,
  });
}
for (const op of ['softmax', 'log_softmax']) {
  cases.push({ name: op, yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x]}\noutputs: [out]\n` });
  cases.push({
    name: `${op} (axis 0)`,
    yaml: `${x3}nodes:\n  - {name: out, op: ${op}, inputs: [x], attrs: {axis: 0}}\noutputs: [out]\n`,
  });
}
const mm = (a: string, b: string, attrs = '') =>
  `inputs:\n  a: {shape: ${a}}\n  b: {shape: ${b}}\nnodes:\n  - {name: out, op: matmul, inputs: [a, b]${attrs ? `, attrs: ${attrs}` : ''}}\noutputs: [out]\n`;
cases.push({ name: 'matmul [batch,3]·[3,4]', yaml: mm('[batch, 3]', '[3, 4]') });
cases.push({ name: 'matmul transposes', yaml: mm('[3, 2]', '[4, 3]', '{transpose_a: true, transpose_b: true}') });
cases.push({ name: 'matmul 3-D · 2-D', yaml: mm('[batch, 2, 3]', '[3, 4]') });
cases.push({ name: 'matmul 3-D · 3-D transpose_b', yaml: mm('[batch, 2, 3]', '[batch, 4, 3]', '{transpose_b: true}') });
cases.push({ name: 'matmul vector · vector', yaml: mm('[3]', '[3]') });
cases.push({ name: 'matmul matrix · vector', yaml: mm('[batch, 3]', '[3]') });
cases.push({
  name: 'reshape with batch',
  yaml: `inputs:\n  x: {shape: [batch, 2, 3]}\nnodes:\n  - {name: out, op: reshape, inputs: [x], attrs: {shape: [batch, 6]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'reshape with -1',
  yaml: `inputs:\n  x: {shape: [batch, 2, 3]}\nnodes:\n  - {name: out, op: reshape, inputs: [x], attrs: {shape: [-1, 3]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'transpose (default)',
  yaml: `inputs:\n  x: {shape: [batch, 2, 3]}\nnodes:\n  - {name: out, op: transpose, inputs: [x]}\noutputs: [out]\n`,
});
cases.push({
  name: 'transpose (perm)',
  yaml: `inputs:\n  x: {shape: [batch, 2, 3]}\nnodes:\n  - {name: out, op: transpose, inputs: [x], attrs: {perm: [0, 2, 1]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'broadcast_to',
  yaml: `inputs:\n  x: {shape: [3]}\nnodes:\n  - {name: out, op: broadcast_to, inputs: [x], attrs: {shape: [2, 3]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'broadcast_to with batch',
  yaml: `inputs:\n  x: {shape: [batch, 1]}\nnodes:\n  - {name: out, op: broadcast_to, inputs: [x], attrs: {shape: [batch, 4]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'concat',
  yaml: `inputs:\n  x: {shape: [batch, 3]}\n  z: {shape: [batch, 2]}\nnodes:\n  - {name: out, op: concat, inputs: [x, z], attrs: {axis: -1}}\noutputs: [out]\n`,
});
cases.push({
  name: 'slice',
  yaml: `inputs:\n  x: {shape: [batch, 7]}\nnodes:\n  - {name: out, op: slice, inputs: [x], attrs: {axes: [1], starts: [-6], ends: [6], steps: [2]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'slice (open end, batch axis)',
  yaml: `inputs:\n  x: {shape: [batch, 7]}\nnodes:\n  - {name: out, op: slice, inputs: [x], attrs: {axes: [0, 1], starts: [0, 2]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'cast to i32 (truncates)',
  yaml: `${x3}nodes:\n  - {name: out, op: cast, inputs: [x], attrs: {dtype: i32}}\noutputs: [out]\n`,
});
cases.push({
  name: 'cast i32 to float',
  yaml: `inputs:\n  k: {shape: [batch, 3], dtype: i32}\nnodes:\n  - {name: out, op: cast, inputs: [k], attrs: {dtype: float}}\noutputs: [out]\n`,
});
cases.push({
  name: 'gather',
  yaml: `inputs:\n  x: {shape: [batch, 4]}\n  k: {shape: [batch, 2], dtype: i32}\nnodes:\n  - {name: out, op: gather, inputs: [x, k], attrs: {axis: 1}}\noutputs: [out]\n`,
});
cases.push({
  name: 'one_hot',
  yaml: `inputs:\n  k: {shape: [batch], dtype: i32}\nnodes:\n  - {name: out, op: one_hot, inputs: [k], attrs: {classes: 5}}\noutputs: [out]\n`,
});
cases.push({
  name: 'clip',
  yaml: `${x3}nodes:\n  - {name: out, op: clip, inputs: [x], attrs: {min: -0.5, max: 1}}\noutputs: [out]\n`,
});
cases.push({
  name: 'clip (max only)',
  yaml: `${x3}nodes:\n  - {name: out, op: clip, inputs: [x], attrs: {max: 0.25}}\noutputs: [out]\n`,
});
cases.push({
  name: 'leaky_relu',
  yaml: `${x3}nodes:\n  - {name: out, op: leaky_relu, inputs: [x], attrs: {negative_slope: 0.2}}\noutputs: [out]\n`,
});
cases.push({
  name: 'dropout (identity at inference)',
  yaml: `${x3}nodes:\n  - {name: out, op: dropout, inputs: [x], attrs: {p: 0.5}}\noutputs: [out]\n`,
});
cases.push({
  name: 'params, constants, several outputs renamed',
  yaml: `${x3}params:\n  w: {shape: [3, 2], init: {values: [[1, -2], [0.5, 3], [-1, 0.25]]}}\nnodes:\n  - {name: h, op: matmul, inputs: [x, w]}\n  - {name: s, op: mul, inputs: [h, 0.5]}\noutputs: {first: h, second: s}\n`,
});

cases.push({
  name: 'embedding',
  yaml: `inputs:\n  k: {shape: [batch, 3], dtype: i32}\nparams:\n  table: {shape: [5, 2], init: {values: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]}}\nnodes:\n  - {name: out, op: embedding, inputs: [table, k]}\noutputs: [out]\n`,
});
cases.push({
  name: 'tri (n) and tri (from an axis, k = -1)',
  yaml: `inputs:\n  x: {shape: [batch, 4, 3]}\nnodes:\n  - {name: a, op: tri, inputs: [], attrs: {n: 3}}\n  - {name: b, op: tri, inputs: [x], attrs: {axis: 1, k: -1}}\noutputs: [a, b]\n`,
});
cases.push({
  name: 'tri sized by the batch axis (Trilu)',
  yaml: `${x3}nodes:\n  - {name: out, op: tri, inputs: [x], attrs: {axis: 0, k: 1}}\noutputs: [out]\n`,
});
cases.push({
  name: 'masked_softmax with a causal mask',
  yaml: `inputs:\n  x: {shape: [batch, 4, 4]}\nnodes:\n  - {name: m, op: tri, inputs: [x]}\n  - {name: out, op: masked_softmax, inputs: [x, m]}\noutputs: [out]\n`,
});
cases.push({
  name: 'masked_softmax with a fully masked row (axis 1)',
  yaml: `inputs:\n  x: {shape: [batch, 3, 2]}\nparams:\n  m: {shape: [3, 1], init: {values: [[1], [0], [1]]}, trainable: false}\nnodes:\n  - {name: out, op: masked_softmax, inputs: [x, m], attrs: {axis: 1}}\noutputs: [out]\n`,
});
cases.push({
  name: 'erf of large arguments',
  yaml: `${x3}nodes:\n  - {name: big, op: mul, inputs: [x, 3]}\n  - {name: out, op: erf, inputs: [big]}\noutputs: [out]\n`,
});
cases.push({
  name: 'transformer block (std:layers: layer norms, causal attention, GELU MLP)',
  yaml: `inputs:\n  x: {shape: [batch, 4, 8]}\nnodes:\n  - {name: out, graph: std:layers/transformer_block.yaml, inputs: {x: x}, with: {dim: 8, heads: 2, head_dim: 4, seq: 4, hidden: 16}}\noutputs: [out]\n`,
});
// sample draws from ONNX Runtime's own generator: the same distribution, not the same ids (below).
const sampleYaml = `inputs:\n  x: {shape: [batch, 2, 6]}\nnodes:\n  - {name: out, op: sample, inputs: [x], attrs: {temperature: 0.5, top_k: 2}}\noutputs: [out]\n`;

describe('sample', () => {
  it("exports as Multinomial over the top_k logits: ids of the right shape among each row's two largest", async () => {
    const session = compile(parseGraph(sampleYaml, join(tmp, 'sample.yaml')));
    const feed = randomFeed(session, 3, 5);
    const out = (await runOrt(exportOnnx(session), feed, ['out'])).out!;
    expect(Array.from(out.dims).map(Number)).toEqual([3, 2]);
    const ids = Array.from(out.data as Int32Array);
    ids.forEach((id, r) => {
      const row = feed.x!.data.slice(r * 6, r * 6 + 6);
      const top2 = [...row].sort((a, b) => b - a)[1]!;
      expect(row[id]!).toBeGreaterThanOrEqual(top2);
    });
  });
});

// Convolution, pooling and padding (their attribute forms).
const u = 'init: {uniform: {low: -1, high: 1}}';
cases.push({
  name: 'conv2d (bias, stride, asymmetric padding)',
  yaml: `inputs:\n  x: {shape: [batch, 2, 7, 6]}\nparams:\n  k: {shape: [3, 2, 3, 2], ${u}}\n  b: {shape: [3], ${u}}\nnodes:\n  - {name: out, op: conv2d, inputs: [x, k, b], attrs: {stride: [2, 1], padding: [1, 0, 0, 1]}}\noutputs: [out]\n`,
});
cases.push({
  name: 'conv2d (groups, dilation, same)',
  yaml: `inputs:\n  x: {shape: [batch, 4, 6, 6]}\nparams:\n  k: {shape: [2, 2, 3, 3], ${u}}\nnodes:\n  - {name: out, op: conv2d, inputs: [x, k], attrs: {groups: 2, dilation: 2, padding: same}}\noutputs: [out]\n`,
});
cases.push({
  name: 'conv1d',
  yaml: `inputs:\n  x: {shape: [batch, 2, 9]}\nparams:\n  k: {shape: [3, 2, 4], ${u}}\n  b: {shape: [3], ${u}}\nnodes:\n  - {name: out, op: conv1d, inputs: [x, k, b], attrs: {stride: 2, padding: [1, 2]}}\noutputs: [out]\n`,
});

const img = 'inputs:\n  x: {shape: [batch, 2, 7, 6]}\n';
cases.push({
  name: 'max_pool2d (overlapping, padded)',
  yaml: `${img}nodes:\n  - {name: out, op: max_pool2d, inputs: [x], attrs: {kernel: [3, 2], stride: [2, 1], padding: 1}}\noutputs: [out]\n`,
});
cases.push({
  name: 'max_pool2d (ceil_mode)',
  yaml: `${img}nodes:\n  - {name: out, op: max_pool2d, inputs: [x], attrs: {kernel: 2, ceil_mode: true}}\noutputs: [out]\n`,
});
cases.push({
  name: 'avg_pool2d (padded, count_include_pad)',
  yaml: `${img}nodes:\n  - {name: out, op: avg_pool2d, inputs: [x], attrs: {kernel: 3, stride: 2, padding: 1}}\noutputs: [out]\n`,
});
cases.push({
  name: 'avg_pool2d (padding excluded, ceil_mode)',
  yaml: `${img}nodes:\n  - {name: out, op: avg_pool2d, inputs: [x], attrs: {kernel: 3, stride: 2, padding: 1, count_include_pad: false, ceil_mode: true}}\noutputs: [out]\n`,
});
cases.push({
  name: 'avg_pool2d (ceil_mode, padding counted)',
  yaml: `${img}nodes:\n  - {name: out, op: avg_pool2d, inputs: [x], attrs: {kernel: 3, stride: 2, padding: 1, ceil_mode: true}}\noutputs: [out]\n`,
});

for (const [mode, extra] of [
  ['constant', ', value: -0.5'],
  ['reflect', ''],
  ['replicate', ''],
] as const)
  cases.push({
    name: `pad (${mode})`,
    yaml: `${img}nodes:\n  - {name: out, op: pad, inputs: [x], attrs: {pads: [[1, 2], [3, 0]], mode: ${mode}${extra}}}\noutputs: [out]\n`,
  });

describe('each exportable op', () => {
  it('has a case here', () => {
    const covered = new Set(
      [...cases.map((c) => c.yaml), sampleYaml].flatMap((y) => [...y.matchAll(/op: (\w+)/g)].map((m) => m[1]!)),
    );
    expect(exportableOps.filter((op) => !covered.has(op))).toEqual([]);
  });
  for (const c of cases) {
    it(`${c.name}: ONNX Runtime matches graph-run within 1e-5 (f32${c.name.startsWith('matmul') || c.name === 'one_hot' ? ' and f64' : ''})`, async () => {
      const model = parseGraph(c.yaml, join(tmp, 'case.yaml'));
      const hasBatch = model.inputs.some((i) => i.shape.includes('batch'));
      await compare(compile(model), hasBatch ? 3 : 1, 11, c.positive);
      if (c.name.startsWith('matmul') || c.name === 'one_hot')
        await compare(compile(model, { dtype: 'f64' }), hasBatch ? 2 : 1, 12, c.positive);
    });
  }
});

describe('graph-run export', () => {
  it('writes a model whose batch dimension is symbolic, with the weights of --load', async () => {
    const ck = join(tmp, 'gender.safetensors');
    expect((await cli(['graphs/gender.yaml', '--save', ck, '-q'])).code).toBe(0);
    const file = join(tmp, 'gender.onnx');
    const r = await cli(['export', 'graphs/gender.yaml', '--onnx', file, '--load', ck]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('inputs x [batch, 2]');
    const s = await ort.InferenceSession.create(readFileSync(file));
    const meta = s.inputMetadata[0] as unknown as { name: string; shape?: (number | string)[] };
    if (meta.shape) expect(meta.shape).toEqual(['batch', 2]);
    // The tutorial's predictions for Emily and Frank, from the trained weights.
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([-7, -3, 20, 2]), [2, 2]) });
    const trained = JSON.parse((await cli(['graphs/gender.yaml', '--load', ck, '--json'])).out).predictions;
    expect(Number(out.pred!.data[0])).toBeCloseTo(trained.emily.data[0], 6);
    expect(Number(out.pred!.data[1])).toBeCloseTo(trained.frank.data[0], 6);
    expect(trained.emily.data[0]).toBeGreaterThan(0.9);
  });

  it('a training run with --onnx exports the trained model', async () => {
    const file = join(tmp, 'trained.onnx');
    const r = await cli(['graphs/gender.yaml', '--onnx', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const s = await ort.InferenceSession.create(readFileSync(file));
    const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from([-7, -3]), [1, 2]) });
    expect(Number(out.pred!.data[0])).toBeCloseTo(JSON.parse(r.out).predictions.emily.data[0], 6);
  });

  it('an op ONNX export lacks: an error naming the node, exit 1, no file', async () => {
    const f = join(tmp, 'scatter.yaml');
    const yaml =
      'inputs:\n  s: {shape: [2]}\n  k: {shape: [2], dtype: i32}\nnodes:\n  - {name: spread, op: scatter_add, inputs: [s, k], attrs: {shape: [4]}}\noutputs: [spread]\n';
    writeFileSync(f, yaml);
    const out = join(tmp, 'scatter.onnx');
    const r = await cli(['export', f, '--onnx', out]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot export node "spread" (op scatter_add)');
    expect(existsSync(out)).toBe(false);
    expect(() => exportOnnx(compile(parseGraph(yaml, f)))).toThrow(ExportError);
  });

  it('an unwritable path fails first: before export, and before training', async () => {
    const bad = join(tmp, 'nope', 'm.onnx');
    const r = await cli(['export', 'graphs/gender.yaml', '--onnx', bad]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot write ONNX model "${bad}"`);
    const t = await cli(['graphs/gender.yaml', '--onnx', bad]);
    expect(t.code).toBe(1);
    expect(t.out).toBe('');
  });

  it('usage: export needs --onnx; --onnx is not an option of dot', async () => {
    expect((await cli(['export', 'graphs/gender.yaml'])).code).toBe(2);
    expect((await cli(['dot', 'graphs/gender.yaml', '--onnx', join(tmp, 'a.onnx')])).code).toBe(2);
  });
});
