// The CLI on WebGPU. Each graph-run runs as its own process (`node bin/graph-run.js`, on dist/),
// holding one device and exiting, as a user runs it: Dawn on SwiftShader aborted or hung a test
// process now and then when devices were acquired and destroyed in it (one in six to eight runs
// of this file when it ran the CLI in-process). This test process acquires no device at all; the
// library's session-level checks are in session-weights.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, graphRun } from '../cli/graph-run.js';
import { expectBuiltOnce, parseStats } from '../cli/stats.js';
import { expectClose } from '../support/close.js';
import { requireWebGpu } from './device.js';

// The adapter, as the executable itself finds it: `plan --device webgpu --strict-device` fails
// without one. No device is ever acquired in this test process.
ensureBuilt();
const probe = await graphRun(['plan', 'graphs/gender.yaml', '--device', 'webgpu', '--strict-device']);
const available = probe.code === 0;
if (!available && !requireWebGpu) {
  console.warn(
    `WebGPU CLI tests skipped: ${probe.stderr.trim().split('\n')[0]}. Run \`eval "$(bash scripts/setup-webgpu.sh)"\` to enable them; GRAPH_RUN_REQUIRE_WEBGPU=1 makes this a failure.`,
  );
}

if (requireWebGpu) {
  it('has a WebGPU adapter (GRAPH_RUN_REQUIRE_WEBGPU=1)', () => {
    expect(probe.stderr).toBe('');
    expect(probe.code).toBe(0);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'graph-run-webgpu-cli-'));
beforeAll(() => {
  if (available) ensureBuilt();
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const torch = JSON.parse(readFileSync(new URL('../fixtures/seed-torch.json', import.meta.url), 'utf8')) as {
  torch_f32: { loss_log: [number, number][] };
};

describe.skipIf(!available)('graph-run on WebGPU', () => {
  it('graph-run --device webgpu trains the tutorial and exits', { timeout: 300_000 }, async () => {
    const run = await graphRun(['graphs/gender.yaml', '--device', 'webgpu', '--json', '--epochs', '21']);
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as {
      losses: { epoch: number; loss: number }[];
      predictions: Record<string, { data: number[] }>;
    };
    // Before training (-1), then epochs 0, 10 and 20 (the last).
    expect(r.losses.map((l) => l.epoch)).toEqual([-1, 0, 10, 20]);
    r.losses
      .slice(1)
      .forEach((l, i) =>
        expect(
          Math.abs(l.loss - torch.torch_f32.loss_log[i]![1]) / torch.torch_f32.loss_log[i]![1],
        ).toBeLessThanOrEqual(1e-4),
      );
    const plan = await graphRun(['plan', 'graphs/gender.yaml', '--device', 'webgpu']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^ {2}z1 +matmul +webgpu +graph device: webgpu$/m);
  });
});

interface RunJson {
  losses: { epoch: number; loss: number }[];
  predictions: Record<string, unknown>;
  params: Record<string, { shape: number[]; data: number[] }>;
}

/**
 * `node bin/graph-run.js ... --json`: the parsed result (failing on a non-zero exit). A process
 * per run, so each holds one device and exits: Dawn on SwiftShader aborted this process now and
 * then when many devices were acquired and destroyed in it one after another.
 */
async function runJson(args: string[]): Promise<RunJson> {
  const r = await graphRun([...args, '--json'], {}, 120_000);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as RunJson;
}

describe.skipIf(!available)('checkpoints across devices (one run path for every device)', () => {
  // gender: data order, batch 1; blobs: a shuffled epoch order, a last short batch, validation data.
  it.each([
    { graph: 'gender', half: 2, whole: 4 },
    { graph: 'blobs', half: 2, whole: 4 },
  ])(
    '$graph: $half epochs saved on one device, resumed on the other to $whole = $whole straight on the CPU (f32, 1e-5)',
    { timeout: 300_000 },
    async ({ graph, half, whole }) => {
      const file = `graphs/${graph}.yaml`;
      const straight = await runJson([file, '--epochs', String(whole), '--device', 'cpu']);
      for (const [first, second] of [
        ['webgpu', 'cpu'],
        ['cpu', 'webgpu'],
      ] as const) {
        const ck = join(dir, `${graph}-${first}.safetensors`);
        await runJson([file, '--epochs', String(half), '--device', first, '--save', ck]);
        const resumed = await runJson([file, '--epochs', String(whole), '--device', second, '--resume', ck]);
        expectClose(straight.params, resumed.params, 1e-5, `${first} then ${second}: params`);
        expectClose(straight.predictions, resumed.predictions, 1e-5, `${first} then ${second}: predictions`);
      }
    },
  );

  it('builds each graph and data set once and each plan once per batch size on WebGPU too', {
    timeout: 300_000,
  }, async () => {
    const r = await graphRun(['graphs/gender.yaml', '--device', 'webgpu', '--epochs', '2', '--stats', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expectBuiltOnce(parseStats(r.stderr.split('\n')), [
      'plan train batch 1',
      'plan eval batch 1',
      'plan forward batch 1',
    ]);
  });

  it('a CPU graph with one node on WebGPU: its parameters are the host arrays, printed and saved after training', {
    timeout: 300_000,
  }, async () => {
    const mixed = join(dir, 'mixed.yaml');
    const text = readFileSync('graphs/gender.yaml', 'utf8');
    const z1 = '{name: z1, op: matmul, inputs: [x, w1], attrs: {transpose_b: true}}';
    expect(text).toContain(z1);
    writeFileSync(mixed, text.replace(z1, `${z1.slice(0, -1)}, device: webgpu}`));
    const ck = join(dir, 'mixed.safetensors');
    const r = await runJson([mixed, '--epochs', '3', '--save', ck]);
    const cpu = await runJson(['graphs/gender.yaml', '--epochs', '3']);
    expectClose(cpu.params, r.params, 1e-5);
    expectClose(r.params, (await runJson(['graphs/gender.yaml', '--load', ck])).params, 0);
  });

  it('--save-every, --plot and --onnx on WebGPU write what they write on the CPU', { timeout: 300_000 }, async () => {
    const ck = join(dir, 'blobs-every.safetensors'),
      svg = join(dir, 'blobs.svg'),
      onnx = join(dir, 'blobs.onnx');
    const gpu = await runJson([
      'graphs/blobs.yaml',
      '--device',
      'webgpu',
      '--epochs',
      '3',
      '--save',
      ck,
      '--save-every',
      '1',
      '--plot',
      svg,
      '--onnx',
      onnx,
    ]);
    expect(readFileSync(svg, 'utf8')).toMatch(/<polyline class="series" data-name="loss"/);
    expect(existsSync(onnx) && readFileSync(onnx).length).toBeGreaterThan(100);
    // The checkpoint holds the trained weights: loaded on the CPU, it predicts what the GPU run did.
    const loaded = await runJson(['graphs/blobs.yaml', '--device', 'cpu', '--load', ck]);
    expectClose(gpu.params, loaded.params, 0);
    expectClose(gpu.predictions, loaded.predictions, 1e-5);
  });

  it('trace --device webgpu: the steps and the traced step run on the GPU, every value as on the CPU', {
    timeout: 300_000,
  }, async () => {
    // xor: Adam's f64 bias corrections fall back to the CPU and are read from there.
    for (const graph of ['graphs/gender.yaml', 'graphs/xor.yaml']) {
      const args = ['trace', graph, '--step', '3', '--json'];
      const [cpu, gpu] = await Promise.all([
        graphRun([...args, '--device', 'cpu']),
        graphRun([...args, '--device', 'webgpu']),
      ]);
      expect(gpu.code, gpu.stderr).toBe(0);
      expect(cpu.code, cpu.stderr).toBe(0);
      expectClose(JSON.parse(gpu.stdout), JSON.parse(cpu.stdout), 1e-4, graph);
    }
  });
});

describe.skipIf(!available)('graph-run eval and predict on WebGPU', () => {
  const ref = JSON.parse(readFileSync('test/reference/eval_predict.json', 'utf8')) as {
    loss: number;
    accuracy: number;
    probs: number[][];
  };
  const blobs = ['graphs/blobs.yaml', '--data', 'graphs/data/blobs.csv', '--device', 'webgpu'];

  it('eval: the loss and accuracy of every row agree with PyTorch, in batches of 7', { timeout: 300_000 }, async () => {
    const r = await graphRun(['eval', ...blobs, '--batch-size', '7', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { rows: number; loss: number; accuracy: number };
    expect(j.rows).toBe(150);
    expect(Math.abs(j.loss - ref.loss)).toBeLessThan(1e-5);
    expect(j.accuracy).toBe(ref.accuracy);
  });

  it('predict --out .csv: every row agrees with PyTorch, in batches of 16', { timeout: 300_000 }, async () => {
    const out = join(dir, 'gpu-preds.csv');
    const r = await graphRun(['predict', ...blobs, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(150);
    rows.forEach((l, i) =>
      l
        .split(',')
        .slice(0, 3)
        .forEach((v, k) => expect(Math.abs(Number(v) - ref.probs[i]![k]!)).toBeLessThan(1e-5)),
    );
  });
});
