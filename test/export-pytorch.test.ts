// graph-run export --pytorch: every example graph, exported in f64, trains in PyTorch as graph-run
// trains it (the same initial weights, the same seeded order and dropout masks): losses of every
// logged epoch and the final weights within 1e-9 relative; under torchrun with 2 processes (gloo)
// it follows the single-process run up to the order of sums; its checkpoint loads back into
// graph-run and predicts what PyTorch predicts. PyTorch comes from $GRAPH_RUN_PYTHON (else
// python3); with GRAPH_RUN_REQUIRE_TORCH=1 (CI, .ci/run) a missing torch fails instead of skipping.
// GRAPH_RUN_AGREEMENT_OUT=FILE writes the measured differences as JSON.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pytorchOps, userOpNames } from '../runtime/index.js';
import { runCli } from './support/cli.js';
import { exampleGraph } from './support/examples.js';

const python = process.env.GRAPH_RUN_PYTHON ?? 'python3';
const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
const hasTorch = probe.status === 0;
const required = process.env.GRAPH_RUN_REQUIRE_TORCH === '1';
const TOL = 1e-9;

type Tensor = { shape: number[]; data: number[] };
type Run = {
  losses?: Record<string, number>[];
  params?: Record<string, Tensor>;
  predictions?: Record<string, Record<string, Tensor> | Tensor>;
  outputs?: Record<string, Tensor>;
  gradients?: Record<string, Tensor>;
};

/** |a - b| relative to the larger magnitude, or to `floor` where both are smaller. */
const rel = (a: number, b: number, floor = 0) => {
  const d = Math.max(Math.abs(a), Math.abs(b), floor);
  return d === 0 ? 0 : Math.abs(a - b) / d;
};

/** The largest relative difference between two runs' losses (every key of every logged epoch). */
function lossDiff(a: Run, b: Run): number {
  expect(a.losses?.map((r) => r.epoch)).toEqual(b.losses?.map((r) => r.epoch));
  let m = 0;
  b.losses!.forEach((r, i) => {
    for (const k of Object.keys(r)) m = Math.max(m, rel(a.losses![i]![k]!, r[k]!));
  });
  return m;
}

/** The largest relative difference between two maps of tensors. */
function tensorDiff(a: Record<string, Tensor>, b: Record<string, Tensor>, floor = 0): number {
  let m = 0;
  for (const [k, t] of Object.entries(b)) {
    expect(a[k]?.data.length, k).toBe(t.data.length);
    t.data.forEach((x, i) => {
      m = Math.max(m, rel(a[k]!.data[i]!, x, floor));
    });
  }
  return m;
}

async function graphRun(args: string[]): Promise<Run> {
  const r = await runCli([...args, '--json', '--dtype', 'f64']);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as Run;
}

function torch(dir: string, args: string[], procs = 1): Run {
  const out = join(dir, `run-${procs}.json`);
  const script = join(dir, 'train.py');
  const cmd =
    procs === 1
      ? [script, ...args]
      : ['-m', 'torch.distributed.run', '--standalone', `--nproc_per_node=${procs}`, script, ...args];
  const r = spawnSync(
    python,
    [...cmd, '--quiet', '--json-out', out, '--save', join(dir, `ckpt-${procs}.safetensors`)],
    {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      timeout: 300_000,
    },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
  return JSON.parse(readFileSync(out, 'utf8')) as Run;
}

async function exportTo(graph: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'graph-run-pytorch-'));
  const r = await runCli(['export', graph, '--pytorch', dir, '--dtype', 'f64']);
  expect(r.code, r.err).toBe(0);
  return dir;
}

describe('graph-run export --pytorch (no PyTorch needed)', () => {
  it('writes the package: model, training, data, weights, train.py', async () => {
    const dir = await exportTo('graphs/blobs.yaml');
    for (const f of ['model.py', 'training.py', 'support.py', 'data.py', 'train.py', 'config.json', 'names.json'])
      expect(existsSync(join(dir, f)), f).toBe(true);
    const model = readFileSync(join(dir, 'model.py'), 'utf8');
    // One line per node, names kept (a Python keyword gets a suffix, recorded in names.json).
    expect(model).toContain('z1 = gr.matmul(x, self.w1, transpose_b=True)  # matmul');
    expect(model).toContain('class_ = torch.argmax(logits, dim=-1)  # class: argmax');
    expect(JSON.parse(readFileSync(join(dir, 'names.json'), 'utf8')).class).toBe('class_');
    const training = readFileSync(join(dir, 'training.py'), 'utf8');
    expect(training).toContain('F.cross_entropy(');
    expect(training).toContain('torch.optim.SGD(');
    // The weights are graph-run's checkpoint layout: graph-run loads them.
    const r = await runCli([
      'graphs/blobs.yaml',
      '--load',
      join(dir, 'weights.safetensors'),
      '--json',
      '--dtype',
      'f64',
    ]);
    expect(r.code, r.err).toBe(0);
  });

  it('maps names with "/" to identifiers and records the map', async () => {
    const dir = await exportTo('test/fixtures/pytorch/custom.yaml');
    const names = JSON.parse(readFileSync(join(dir, 'names.json'), 'utf8')) as Record<string, string>;
    expect(names['loss/r2']).toBe('loss__r2');
    expect(readFileSync(join(dir, 'training.py'), 'utf8')).toContain('class GraphOptimizer');
  });

  it('refuses an op with no PyTorch equivalent, naming the node and op at its position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-pytorch-'));
    const r = await runCli(['export', 'test/fixtures/pytorch/sampled.yaml', '--pytorch', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/sampled\.yaml:\d+:\d+: ExportError in node "draw": op "sample" has no PyTorch equivalent/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('docs/export-pytorch.md lists the ops it exports and those it refuses', () => {
    const doc = readFileSync('docs/export-pytorch.md', 'utf8').replace(/\s+/g, ' ');
    const list = (label: string) =>
      [...(new RegExp(`${label}: ([^.]*)\\.`).exec(doc)?.[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]);
    expect(list('Exported ops')).toEqual(pytorchOps);
    expect(list('Refused')).toEqual(userOpNames.filter((o) => !pytorchOps.includes(o)).sort());
  });

  it('refuses a folder where the package would overwrite a file the graph reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-pytorch-'));
    const rows = '{"x": [[0, 1], [1, 0], [1, 1]], "y": [1, 1, 0]}\n';
    writeFileSync(join(dir, 'data.json'), rows);
    const graph = readFileSync('graphs/xor.yaml', 'utf8').replace(
      /data:\n {4}x: .*\n {4}y: .*\n/,
      'data: {file: data.json}\n',
    );
    writeFileSync(join(dir, 'net.yaml'), graph);
    const r = await runCli(['export', join(dir, 'net.yaml'), '--pytorch', dir]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain('would overwrite');
    expect(readFileSync(join(dir, 'data.json'), 'utf8')).toBe(rows);
  });

  it('takes --onnx or --pytorch, not both', async () => {
    const r = await runCli(['export', 'graphs/xor.yaml', '--pytorch', tmpdir(), '--onnx', join(tmpdir(), 'x.onnx')]);
    expect(r.code).toBe(2); // a usage error
    expect(r.err).toContain('not both');
  });
});

describe('PyTorch is available where required', () => {
  it.runIf(required)('finds torch and numpy under $GRAPH_RUN_PYTHON', () => {
    expect(hasTorch, `${python}: ${probe.error?.message ?? probe.stderr}`).toBe(true);
  });
});

/** Example graphs and the epochs every run trains (undefined: the graph's own). */
const cases: { graph: string; epochs?: number; trains: boolean; floor?: number }[] = [
  { graph: 'graphs/gender.yaml', epochs: 100, trains: true },
  { graph: 'graphs/xor.yaml', trains: true },
  { graph: 'graphs/linreg.yaml', trains: true },
  { graph: 'graphs/blobs.yaml', trains: true },
  // Dropout masks are graph-run's Threefry streams, recomputed in support.py: dropout stays on.
  { graph: 'graphs/mlp_dropout.yaml', epochs: 20, trains: true },
  // On the slice of MNIST tests write (200 training digits, 50 held out).
  { graph: 'graphs/mnist_mlp.yaml', trains: true },
  { graph: 'graphs/mnist_cnn.yaml', epochs: 1, trains: true },
  // On the slice of Moby-Dick tests write (84 training windows of 64 characters, 9 held out).
  // Its attention's key biases have a gradient of exactly 0 (softmax ignores a shift per query):
  // they stay within ~1e-13 of 0 by rounding, which Adam turns into steps no two programs share,
  // so weights under 1e-3 are compared absolutely (1e-9 of 1e-3).
  { graph: 'graphs/charlm.yaml', epochs: 1, trains: true, floor: 1e-3 },
  { graph: 'test/fixtures/pytorch/custom.yaml', trains: true },
  // A transformer block of the layer library: causal attention (tri, masked_softmax), 3-D products.
  { graph: 'test/fixtures/pytorch/attention.yaml', trains: true },
  // Convolution with one-sided and 'same' padding, max and average pooling, RMSprop with momentum.
  { graph: 'test/fixtures/pytorch/conv.yaml', trains: true },
  { graph: 'graphs/neuron.yaml', trains: false },
  { graph: 'graphs/autograd.yaml', trains: false },
];

const figures: Record<string, Record<string, number>> = {};
afterAll(() => {
  if (process.env.GRAPH_RUN_AGREEMENT_OUT)
    writeFileSync(process.env.GRAPH_RUN_AGREEMENT_OUT, `${JSON.stringify(figures, null, 2)}\n`);
});

describe.skipIf(!hasTorch)('exported PyTorch training agrees with graph-run (f64)', () => {
  for (const c of cases) {
    it(`${c.graph}: one process within ${TOL}, torchrun x2 as one process, checkpoint back into graph-run`, async () => {
      const graph = exampleGraph(c.graph);
      const dir = await exportTo(graph);
      const epochs = c.epochs !== undefined ? ['--epochs', String(c.epochs)] : [];
      const ours = await graphRun([graph, ...epochs]);
      const theirs = torch(dir, epochs);
      const f: Record<string, number> = {};
      if (!c.trains) {
        f.outputs = tensorDiff(theirs.outputs!, ours.outputs!);
        f.gradients = tensorDiff(theirs.gradients!, ours.gradients!);
        for (const v of Object.values(f)) expect(v).toBeLessThan(TOL);
        figures[c.graph] = f;
        return;
      }
      f.losses = lossDiff(theirs, ours);
      f.params = tensorDiff(theirs.params!, ours.params!, c.floor);
      expect(f.losses).toBeLessThan(TOL);
      expect(f.params).toBeLessThan(TOL);

      // The checkpoint PyTorch wrote loads into graph-run: the same weights, the same predictions.
      const back = await graphRun([graph, '--load', join(dir, 'ckpt-1.safetensors')]);
      expect(tensorDiff(back.params!, theirs.params!)).toBe(0);
      for (const [set, outs] of Object.entries(theirs.predictions ?? {})) {
        const got = back.predictions![set]!;
        // graph-run prints a one-output graph's predictions without the output's name.
        const named = 'data' in got ? { [Object.keys(outs)[0]!]: got as Tensor } : (got as Record<string, Tensor>);
        f.predictions = Math.max(f.predictions ?? 0, tensorDiff(named, outs as Record<string, Tensor>));
      }
      expect(f.predictions ?? 0).toBeLessThan(TOL);

      // Two processes (gloo), each half of every global batch, against one process.
      const two = torch(dir, epochs, 2);
      f.ddp_losses = lossDiff(two, theirs);
      f.ddp_params = tensorDiff(two.params!, theirs.params!);
      expect(f.ddp_losses).toBeLessThan(TOL);
      // The order of the gradient sums differs: weights are compared relative to their size, or
      // to 1e-6 for smaller ones (a weight near 0 keeps its absolute rounding, not its relative one).
      expect(tensorDiff(two.params!, theirs.params!, Math.max(1e-6, c.floor ?? 0))).toBeLessThan(TOL);
      figures[c.graph] = f;
    }, 900_000);
  }
});
