// A WebGPU session and the tools that read or write its weights (checkpoints, progress), in the
// library, in this process: one device for the whole file (the probe's), as the other WebGPU
// test files hold, because Dawn on SwiftShader aborted test processes now and then when devices
// were acquired and destroyed one after another in them.
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkpointBytes,
  compile,
  DeviceError,
  loadGraph,
  nodeIO,
  readDataset,
  restoreCheckpoint,
  Session,
  type StepRecord,
  TrainingReporter,
  trainOnAsync,
} from '../../runtime/index.js';
import { expectClose } from '../support/close.js';
import { probeWebGpu, requireWebGpu } from './device.js';

const probe = await probeWebGpu();
const available = probe.gpu !== null;

if (requireWebGpu) {
  it('has a WebGPU adapter (GRAPH_RUN_REQUIRE_WEBGPU=1)', () => {
    expect(probe.reason).toBe('');
  });
}

describe.skipIf(!available)('a WebGPU session and tools that read or write its weights', () => {
  it('onStep without per-step reads; checkpoints need current host values, and a restore reaches the device', {
    timeout: 300_000,
  }, async () => {
    const model = loadGraph('graphs/blobs.yaml');
    const fresh = compile(model);
    expect(fresh.usesGpu).toBe(false);
    const s = await Session.create(model, { device: 'webgpu', gpu: probe.gpu! });
    try {
      expect(s.usesGpu).toBe(true);
      expect(s.device).toBe('webgpu');
      const start = checkpointBytes(s, { epoch: 0, losses: [] });
      const p0 = await s.predictionsAsync();
      // onStep sees every step; with stepLoss false the loss is not read (NaN), and the bar shows logged losses.
      const steps: StepRecord[] = [];
      const drawn: string[] = [];
      const bar = new TrainingReporter({
        mode: 'bar',
        out: () => {},
        term: { isTTY: true, columns: 120, write: (t) => drawn.push(t) },
        epochs: 2,
        from: 0,
        batchSize: 16,
        samples: s.samples,
        interval: 0,
      });
      await s.trainAsync({
        epochs: 2,
        stepLoss: false,
        onStep: (r) => {
          steps.push(r);
          bar.onStep(r);
        },
      });
      expect(steps.map((r) => `${r.epoch}.${r.step}`)).toEqual(
        [0, 1].flatMap((e) => Array.from({ length: 8 }, (_, k) => `${e}.${k}`)),
      );
      expect(steps.every((r) => Number.isNaN(r.loss))).toBe(true);
      expect(drawn[0]).toContain('loss -');
      expect(drawn.join('')).not.toContain('NaN');
      const read: number[] = [];
      await s.trainAsync({ epochs: 3, from: 2, onStep: (r) => read.push(r.loss) });
      expect(read).toHaveLength(8);
      expect(read.every(Number.isFinite)).toBe(true);
      // After trainAsync the host has the values; after a bare step only the GPU does, and reading
      // or partly overwriting the host copies would be wrong.
      expect(checkpointBytes(s).length).toBeGreaterThan(0);
      await s.stepAsync(0, 16);
      expect(() => checkpointBytes(s)).toThrow(DeviceError);
      expect(() => checkpointBytes(s)).toThrow(/await syncParameters\(\) first/);
      expect(() => restoreCheckpoint(s, start)).toThrow(DeviceError);
      await s.syncParameters();
      expect((await s.parametersAsync()).w1!.data).not.toEqual(fresh.parameters().w1!.data);
      // Restored on the host, the weights reach the device before its next run.
      restoreCheckpoint(s, start, { resume: true });
      expectClose(await s.predictionsAsync(), p0, 0);
      expect((await s.parametersAsync()).w1!.data).toEqual(fresh.parameters().w1!.data);
    } finally {
      s.dispose();
    }
  });
});

afterAll(() => probe.gpu?.dispose());

describe.skipIf(!available)('trainOnAsync and batched evaluation on a WebGPU session', () => {
  it('trainOnAsync on the graph own data gives the losses trainAsync gives; evaluateDataAsync the logged loss', {
    timeout: 300_000,
  }, async () => {
    const model = loadGraph('graphs/blobs.yaml');
    const data = readDataset(model, 'graphs/data/blobs.csv', nodeIO());
    const a = await Session.create(model, { device: 'webgpu', gpu: probe.gpu! });
    const b = await Session.create(model, { device: 'webgpu', gpu: probe.gpu! });
    try {
      const want = await a.trainAsync({ epochs: 3 });
      const got = await trainOnAsync(b, data, { epochs: 3, validation: { split: 0.2 } });
      expectClose(got, want, 1e-6);
      // The last 30 rows are the validation rows: their loss is the logged val_loss.
      const val = await b.evaluateDataAsync({
        rows: 30,
        columns: new Map(
          [...data.columns].map(([k, c]) => [k, { ...c, rows: 30, values: c.values.subarray(120 * c.rowSize) }]),
        ),
      });
      expect(Math.abs(val.loss - got.at(-1)!.val_loss!)).toBeLessThan(1e-6);
      const cpu = compile(model);
      await trainOnAsync(cpu, data, { epochs: 3, validation: { split: 0.2 } });
      expectClose((await b.predictDataAsync(data, 32)).probs!, cpu.predictData(data, 32).probs!, 1e-4);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
