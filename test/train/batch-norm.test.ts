// Batch normalisation with running statistics (std:layers/batch_norm.yaml, batch_norm1d.yaml) and
// the model state it rests on, against PyTorch (test/reference/batch_norm.py): a conv net with
// BatchNorm2d and BatchNorm1d trained with SGD for 6 steps — each step's training-mode loss, the
// eval-mode losses, every parameter, the running means and variances, and the eval-mode outputs —
// within 1e-9 in f64 and 1e-5 in f32; on WebGPU within 1e-5 of the CPU. Evaluation and predictions
// leave the state as it is; checkpoints carry it; ONNX export runs it in ONNX Runtime.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  checkpointBytes,
  parseGraph,
  restoreCheckpoint,
  reverseGraphYaml,
} from '../../runtime/index.js';
import { exportOnnx } from '../../runtime/export/onnx.js';
import { Session } from '../../runtime/session.js';
import { maxRelErr } from '../ops/helpers.js';
import { probeWebGpu } from '../webgpu/device.js';
import { batchNormNetYaml, type BatchNormRef, layerParams } from './batch-norm-net.js';

const ref = JSON.parse(readFileSync(new URL('../reference/batch_norm.json', import.meta.url), 'utf8')) as BatchNormRef;
const file = new URL('../../graphs/batch_norm_net.yaml', import.meta.url).pathname;
const model = () => parseGraph(batchNormNetYaml(ref), file);
const xFeed = () => new Map([['x', ref.x]]);
const stateNames = Object.keys(ref.state);

/** A session with PyTorch's initial values in the layers' parameters too. */
function session(dtype: 'f32' | 'f64'): Session {
  const s = new Session(model(), { dtype });
  for (const k of layerParams) s.params.get(k)!.set(ref.initial[k]!);
  return s;
}

function trained(dtype: 'f32' | 'f64') {
  const s = session(dtype);
  const before = s.evaluate();
  const steps: number[] = [];
  const logged = s.train({ onStep: (r) => steps.push(r.loss) });
  return { s, before, steps, logged };
}

describe('batch normalisation against PyTorch', () => {
  for (const [dtype, tol] of [
    ['f64', 1e-9],
    ['f32', 1e-5],
  ] as const) {
    it(`trains as PyTorch: losses, parameters, running statistics, eval outputs (${dtype})`, () => {
      const { s, before, steps, logged } = trained(dtype);
      expect(maxRelErr(steps, ref.step_losses), 'training-mode step losses').toBeLessThanOrEqual(tol);
      expect(
        maxRelErr([before, ...logged.map((l) => l.loss)], ref.logged_losses),
        'eval-mode losses',
      ).toBeLessThanOrEqual(tol);
      for (const [k, want] of Object.entries(ref.params))
        expect(maxRelErr(s.params.get(k)!, want), k).toBeLessThanOrEqual(tol);
      for (const [k, want] of Object.entries(ref.state))
        expect(maxRelErr(s.state.get(k)!, want), k).toBeLessThanOrEqual(tol);
      const y = s.run(xFeed(), ref.shapes.N).logits!;
      expect(maxRelErr(y.data, ref.eval_logits), 'eval-mode logits').toBeLessThanOrEqual(tol);
    });
  }

  it("the first step's gradients flow through the batch statistics as in PyTorch (f64, 1e-9)", () => {
    const s = session('f64');
    const { train, values } = s.tracedStep(0, ref.batch);
    // The biases before a batch norm (c1, b1) have gradient 0 in exact arithmetic (the norm
    // removes a constant per channel): both sides are rounding noise there, held to the largest
    // gradient of the step.
    const maxAbs = (xs: ArrayLike<number>) => Array.from(xs).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const floor = Math.max(...Object.values(ref.first_grads).map(maxAbs));
    for (const [k, want] of Object.entries(ref.first_grads)) {
      const node = train.grads.get(k);
      expect(node, k).toBeTruthy();
      const scale = k === 'c1' || k === 'b1' ? floor : maxAbs(want);
      expect(maxRelErr(values.get(node!)!, want) * maxAbs(want), `d loss / d ${k}`).toBeLessThanOrEqual(1e-9 * scale);
    }
    expect(maxAbs(values.get(train.grads.get('c1')!)!)).toBeLessThanOrEqual(1e-12 * floor);
  });

  it('evaluation, predictions and feeds read the running statistics and never change them', () => {
    const { s } = trained('f64');
    const saved = stateNames.map((k) => Array.from(s.state.get(k)!));
    s.evaluate();
    s.run(xFeed(), ref.shapes.N);
    s.run(new Map([['x', ref.x.slice(0, ref.x.length / ref.shapes.N)]]), 1); // one sample: batch statistics would be degenerate
    stateNames.forEach((k, i) => expect(Array.from(s.state.get(k)!), k).toEqual(saved[i]));
  });

  it('a step taken directly (stepOn) is a training step: batch statistics, then the update', () => {
    const s = session('f64');
    const rows = ref.batch;
    const per = ref.x.length / ref.shapes.N;
    const loss = s.stepOn(rows, { x: ref.x.slice(0, rows * per), label: ref.label.slice(0, rows) });
    expect(maxRelErr([loss], [ref.step_losses[0]!])).toBeLessThanOrEqual(1e-9);
    expect(Array.from(s.state.get('bn1/running_mean')!).some((v) => v !== 0)).toBe(true);
  });

  it('the state starts at its declared values: running mean 0, running variance 1', () => {
    const s = session('f64');
    expect(Array.from(s.state.get('bn1/running_mean')!)).toEqual([0, 0, 0]);
    expect(Array.from(s.state.get('bn2/running_var')!)).toEqual([1, 1, 1, 1]);
  });
});

describe('model state in checkpoints', () => {
  it('saves and loads the running statistics with the parameters', () => {
    const { s } = trained('f64');
    const bytes = checkpointBytes(s, { epoch: ref.epochs, losses: [] });
    const fresh = session('f64');
    restoreCheckpoint(fresh, bytes);
    for (const k of stateNames) expect(Array.from(fresh.state.get(k)!), k).toEqual(Array.from(s.state.get(k)!));
    expect(maxRelErr(fresh.run(xFeed(), ref.shapes.N).logits!.data, ref.eval_logits)).toBeLessThanOrEqual(1e-9);
  });

  it('a checkpoint without the state is refused, naming the tensor, and changes nothing', () => {
    const plain = parseGraph(
      batchNormNetYaml(ref)
        .replace(/graph: std:layers\/batch_norm\.yaml, inputs: \{x: conv\}.*\}/, 'op: relu, inputs: [conv]}')
        .replace(/graph: std:layers\/batch_norm1d\.yaml, inputs: \{x: s1\}.*\}/, 'op: relu, inputs: [s1]}'),
      file,
    );
    const old = new Session(plain, { dtype: 'f64' });
    expect(old.model.state).toBeUndefined();
    // A graph without state loads it, as before.
    restoreCheckpoint(new Session(plain, { dtype: 'f64' }), checkpointBytes(old));
    const s = session('f64');
    expect(() => restoreCheckpoint(s, checkpointBytes(old))).toThrow(CheckpointError);
    expect(() => restoreCheckpoint(s, checkpointBytes(old))).toThrow(/has tensor "|has no tensor "bn1\//);
    expect(Array.from(s.state.get('bn1/running_var')!)).toEqual([1, 1, 1]);
  });
});

describe('model state in ONNX export and printed reverse graphs', () => {
  it('exports the running statistics as initializers and the eval branch only; ONNX Runtime agrees', async () => {
    const { s } = trained('f32');
    const bytes = exportOnnx(s);
    const ortSession = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor('float32', Float32Array.from(ref.x), [ref.shapes.N, 2, 5, 5]);
    const out = (await ortSession.run({ x }, ['logits'])).logits!.data as Float32Array;
    expect(maxRelErr(out, Array.from(s.run(xFeed(), ref.shapes.N).logits!.data))).toBeLessThanOrEqual(1e-5);
    expect(maxRelErr(out, ref.eval_logits)).toBeLessThanOrEqual(1e-5);
  });

  it('graph-run grad prints the state as frozen parameters holding its current values', () => {
    const { s } = trained('f64');
    const text = reverseGraphYaml(s);
    const line = text.split('\n').find((l) => l.trim().startsWith('bn1/running_var:'));
    expect(line).toMatch(/trainable: false/);
    const values = JSON.parse(line!.replace(/^.*values: (\[[^\]]*\]).*$/, '$1')) as number[];
    expect(maxRelErr(values, ref.state['bn1/running_var']!)).toBeLessThanOrEqual(1e-9);
  });
});

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

describe.skipIf(!probe.gpu)('batch normalisation on WebGPU', () => {
  it('trains as the CPU within 1e-5: parameters, running statistics, eval outputs', async () => {
    const gpu = await Session.create(model(), { dtype: 'f32', device: 'webgpu', gpu: probe.gpu!, strictDevice: true });
    for (const k of layerParams) gpu.params.get(k)!.set(ref.initial[k]!);
    await gpu.syncParameters();
    await gpu.trainAsync();
    const params = await gpu.parametersAsync();
    const y = (await gpu.runAsync(xFeed(), ref.shapes.N)).logits!;
    const { s: cpu } = trained('f32');
    for (const k of Object.keys(ref.params))
      expect(maxRelErr(params[k]!.data, Array.from(cpu.params.get(k)!)), k).toBeLessThanOrEqual(1e-5);
    const host = gpu.hostWeights('test');
    for (const k of stateNames)
      expect(maxRelErr(host.buffer(k), Array.from(cpu.state.get(k)!)), k).toBeLessThanOrEqual(1e-5);
    expect(maxRelErr(y.data, Array.from(cpu.run(xFeed(), ref.shapes.N).logits!.data))).toBeLessThanOrEqual(1e-5);
    expect(maxRelErr(y.data, ref.eval_logits)).toBeLessThanOrEqual(1e-5);
  });
});
