// Many training steps per WebGPU submission (runtime/session/train-chunked.ts): the chunked loop
// runs the per-step loop's kernels on the same values, so its logged losses and metrics and its
// parameters are the per-step path's bit for bit, and the tutorial's network still matches
// PyTorch f32 (test/fixtures/seed-torch.json). The submission counter shows the path taken;
// a loop that needs the host between steps falls back to one submission per step.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGraph, parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import type { LossRecord, TrainOptions } from '../../runtime/session/types.js';
import { probeWebGpu } from './device.js';

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

const torch = JSON.parse(readFileSync(new URL('../fixtures/seed-torch.json', import.meta.url), 'utf8')) as {
  torch_f32: { loss_log: [number, number][]; predictions: Record<string, number> };
};

interface Run {
  log: LossRecord[];
  params: Record<string, number[]>;
  submits: number;
}

/** Train `graph` on the shared device with `steps` per submission; the log, the parameters and the submissions it took. */
async function train(graph: () => ReturnType<typeof loadGraph>, steps: number, opts: TrainOptions = {}): Promise<Run> {
  const gpu = probe.gpu!;
  const s = await Session.create(graph(), { device: 'webgpu', gpu, strictDevice: true });
  const before = gpu.stepsPerSubmit;
  gpu.stepsPerSubmit = steps;
  try {
    const from = gpu.submits;
    const log = await s.trainAsync(opts);
    const submits = gpu.submits - from;
    const params = Object.fromEntries(Object.entries(s.parameters()).map(([k, t]) => [k, Array.from(t.data)]));
    return { log, params, submits };
  } finally {
    gpu.stepsPerSubmit = before;
    s.dispose();
  }
}

const gender = () => loadGraph('graphs/gender.yaml');

describe.skipIf(!probe.gpu)('many training steps per WebGPU submission', () => {
  it('trains gender.yaml in chunks: the per-step results bit for bit, and PyTorch f32 within 1e-4', {
    timeout: 600_000,
  }, async () => {
    const epochs = 200; // 800 steps, 20 logged evaluations
    const chunked = await train(gender, 256, { epochs });
    const perStep = await train(gender, 1, { epochs });
    // 800 steps in chunks of 256 (4 submissions) and one read of each chunk's logged losses,
    // plus the parameters read back at the end; the per-step path submits every step and every read.
    expect(chunked.submits).toBeLessThanOrEqual(20);
    expect(perStep.submits).toBeGreaterThanOrEqual(800 + 20 * 4);
    expect(chunked.log).toEqual(perStep.log);
    expect(chunked.params).toEqual(perStep.params);
    expect(chunked.log.length).toBe(20);
    chunked.log.forEach((r, i) => {
      const [epoch, want] = torch.torch_f32.loss_log[i]!;
      expect(r.epoch).toBe(epoch);
      expect(Math.abs(r.loss - want) / want, `epoch ${epoch}`).toBeLessThanOrEqual(1e-4);
    });
  });

  it('keeps shuffled batches, dropout, validation data, accuracy and onEpoch/onStep as the per-step path has them', {
    timeout: 600_000,
  }, async () => {
    // mlp_dropout: 32-row shuffled batches with a short last one, dropout drawn from __step, a
    // cosine schedule over __epoch, gradient clipping, a validation split and accuracy; 7 steps
    // per submission cut chunks mid-epoch and between a step and its epoch's evaluation. SGD
    // with momentum (optimizer state) stands in for AdamW, whose f64 scalars run on the CPU.
    const text = readFileSync('graphs/mlp_dropout.yaml', 'utf8').replace(
      /optimizer:\n {2}graph: std:optimizers\/adamw\.yaml\n.*\n {2}params:\n.*\n/,
      'optimizer:\n  graph: std:optimizers/sgd_momentum.yaml\n  with: {lr: 0.05, momentum: 0.9}\n',
    );
    expect(text).toContain('sgd_momentum');
    const mlp = () => parseGraph(text, 'graphs/mlp_dropout.yaml');
    const seen = (into: { steps: string[]; epochs: number[] }, onEpoch: boolean): TrainOptions => ({
      epochs: 6,
      logEnds: true,
      stepLoss: false,
      onStep: (r) => into.steps.push(`${r.epoch}:${r.step}/${r.steps}`),
      ...(onEpoch ? { onEpoch: (e: number) => into.epochs.push(e) } : {}),
    });
    for (const onEpoch of [false, true]) {
      const a = { steps: [] as string[], epochs: [] as number[] };
      const b = { steps: [] as string[], epochs: [] as number[] };
      const chunked = await train(mlp, 7, seen(a, onEpoch));
      const perStep = await train(mlp, 1, seen(b, onEpoch));
      // onEpoch reads every parameter and state value back after each epoch, in both paths.
      if (!onEpoch) expect(chunked.submits).toBeLessThan(perStep.submits / 4);
      expect(chunked.log).toEqual(perStep.log);
      expect(chunked.log[0]).toHaveProperty('val_accuracy');
      expect(chunked.params).toEqual(perStep.params);
      expect(a).toEqual(b);
      expect(a.epochs).toEqual(onEpoch ? [0, 1, 2, 3, 4, 5] : []);
    }
  });

  it('stops at the first logged loss that is not finite, with the per-step path error', {
    timeout: 600_000,
  }, async () => {
    // Linear regression (an unbounded loss) with SGD at a learning rate that overflows.
    const text = readFileSync('graphs/linreg.yaml', 'utf8').replace(
      /optimizer:\n(.*\n){4}/,
      'optimizer:\n  graph: std:optimizers/sgd.yaml\n  with: {lr: 1.5}\n',
    );
    expect(text).toContain('lr: 1.5');
    const diverging = () => parseGraph(text, 'graphs/linreg.yaml');
    const why = (steps: number) =>
      train(diverging, steps, { epochs: 40 }).then(
        () => 'trained',
        (e: unknown) => (e as Error).message,
      );
    const chunked = await why(256);
    expect(chunked).toMatch(/the loss is (NaN|Infinity) after epoch [1-9]\d* \(on webgpu\)/);
    expect(chunked).toBe(await why(1));
  });

  it('falls back to a submission per step where the host is needed between steps', { timeout: 600_000 }, async () => {
    const epochs = 20; // 80 steps
    // A step loss read for onStep: a round trip per step, so no chunks.
    const losses: number[] = [];
    const read = await train(gender, 256, { epochs, onStep: (r) => losses.push(r.loss) });
    expect(read.submits).toBeGreaterThanOrEqual(80 * 2);
    expect(losses.every(Number.isFinite)).toBe(true);
    // A node on the CPU: every step hands values over through the host.
    const text = readFileSync('graphs/gender.yaml', 'utf8').replace(
      '{name: h, op: sigmoid, inputs: [s1]}',
      '{name: h, op: sigmoid, inputs: [s1], device: cpu}',
    );
    const gpu = probe.gpu!;
    const s = await Session.create(parseGraph(text, 'graphs/gender.yaml'), { device: 'webgpu', gpu });
    const from = gpu.submits;
    const mixed = await s.trainAsync({ epochs });
    expect(gpu.submits - from).toBeGreaterThanOrEqual(80);
    s.dispose();
    // Both give the chunked run's losses (the mixed plan within f32 rounding of the CPU's sigmoid).
    const chunked = await train(gender, 256, { epochs });
    expect(read.log).toEqual(chunked.log);
    mixed.forEach((r, i) => expect(Math.abs(r.loss - chunked.log[i]!.loss) / chunked.log[i]!.loss).toBeLessThan(1e-5));
  });
});
