// trainOn(): training on arrays in memory with the training section's options. On a graph's own
// data and options it reproduces session.train() bit for bit (the tutorial's network, and blobs
// with shuffling, a validation split and accuracy); its options override the section's; typed
// arrays are accepted by trainOn, predict and run, and results come back as typed arrays.
import { describe, expect, it } from 'vitest';
import {
  arrayDataset,
  compile,
  trainOn,
  trainOnAsync,
  GraphErrors,
  loadGraph,
  nodeIO,
  parseGraph,
  predict,
  readDataset,
  type StepRecord,
} from '../../runtime/index.js';

const tutorial = { x: Float32Array.of(-2, -1, 25, 6, 17, 4, -15, -6), y: [1, 0, 0, 1] };

const params = (s: ReturnType<typeof compile>) =>
  Object.fromEntries(Object.entries(s.parameters()).map(([k, t]) => [k, Array.from(t.data)]));

describe('trainOn() reproduces the YAML run', () => {
  it.each(['f32', 'f64'] as const)(
    'the tutorial network (graphs/gender.yaml), %s: every logged loss and parameter',
    (dtype) => {
      const model = loadGraph('graphs/gender.yaml');
      const yaml = compile(model, { dtype });
      const want = yaml.train();
      const s = compile(model, { dtype });
      const got = trainOn(s, tutorial);
      expect(got).toHaveLength(100);
      expect(got).toEqual(want);
      expect(params(s)).toEqual(params(yaml));
      // The same predictions, from nested lists or a typed array.
      const a = predict(s, { x: [[-7, -3]] }).pred!;
      const b = predict(yaml, { x: Float64Array.of(-7, -3) }).pred!;
      expect(a.data).toBeInstanceOf(dtype === 'f32' ? Float32Array : Float64Array);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    },
  );

  it('blobs: seeded shuffles, a validation split and accuracy, from a file read with readDataset', () => {
    const model = loadGraph('graphs/blobs.yaml');
    const want = compile(model).train({ epochs: 6 });
    const data = readDataset(model, 'graphs/data/blobs.csv', nodeIO());
    expect(data.rows).toBe(150);
    const s = compile(model);
    const got = trainOn(s, data, { epochs: 6, validation: { split: 0.2 } });
    expect(got).toEqual(want);
    expect(Object.keys(got[0]!).sort()).toEqual(['accuracy', 'epoch', 'loss', 'val_accuracy', 'val_loss']);
  });

  it('trainOnAsync gives what trainOn gives', async () => {
    const model = loadGraph('graphs/gender.yaml');
    const a = trainOn(compile(model), tutorial, { epochs: 30 });
    const b = await trainOnAsync(compile(model), tutorial, { epochs: 30 });
    expect(b).toEqual(a);
  });
});

const linear = `graph-run: 1
name: lin
seed: 3
inputs: {x: {shape: [batch, 2]}, y: {shape: [batch, 1]}}
params:
  w: {shape: [1, 2], init: 0}
  b: {shape: [1], init: 0}
nodes:
  - {name: xw, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
  - {name: pred, op: add, inputs: [xw, b]}
outputs: [pred]
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
`;

/** y = 2 x0 - x1 + 0.5 on a grid. */
function line(n: number) {
  const x = new Float32Array(2 * n),
    y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = (i % 7) / 7 - 0.5;
    x[2 * i + 1] = (i % 5) / 5 - 0.5;
    y[i] = 2 * x[2 * i]! - x[2 * i + 1]! + 0.5;
  }
  return { x, y };
}

describe('trainOn() options', () => {
  it('trains a graph without a training section: batches, callbacks per step and per epoch, logging', () => {
    const s = compile(parseGraph(linear, 'lin.yaml'));
    const steps: StepRecord[] = [];
    const epochs: number[] = [];
    const log = trainOn(s, line(50), {
      epochs: 40,
      batchSize: 8,
      shuffle: true,
      logEvery: 10,
      onStep: (r) => steps.push(r),
      onEpoch: (e) => epochs.push(e),
    });
    expect(log.map((r) => r.epoch)).toEqual([0, 10, 20, 30]);
    expect(steps).toHaveLength(40 * 7);
    expect(steps[6]).toMatchObject({ epoch: 0, step: 6, steps: 7 });
    expect(epochs).toEqual([...Array(40).keys()]);
    expect(log.at(-1)!.loss).toBeLessThan(log[0]!.loss / 20);
    const w = s.parameters().w!.data;
    expect(w[0]).toBeCloseTo(2, 1);
    expect(w[1]).toBeCloseTo(-1, 1);
  });

  it('the seed decides the shuffles: the same seed the same run, another seed another', () => {
    const run = (seed: number) =>
      trainOn(compile(parseGraph(linear, 'lin.yaml')), line(30), { epochs: 3, batchSize: 4, shuffle: true, seed });
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it('validation data of its own: val_loss is its loss, as evaluateData computes it', () => {
    const s = compile(parseGraph(linear, 'lin.yaml'), { dtype: 'f64' });
    const val = line(9);
    const log = trainOn(s, line(40), { epochs: 1, batchSize: 5, validation: val, evalBatchSize: 4 });
    // After the epoch the parameters are those the record was logged with (one epoch, logged at 0).
    expect(log[0]!.val_loss).toBe(s.evaluateData(arrayDataset(s.model, val), 4).loss);
    expect(s.evaluateData(arrayDataset(s.model, val), 9).loss).toBeCloseTo(log[0]!.val_loss!, 14);
  });

  it.each([
    [{ x: [1, 2, 3], y: [1] }, {}, /trainOn\(\) data: "x" holds 3 values, not a whole number of rows of 2/],
    [{ x: [1, 2], y: [1, 2] }, {}, /trainOn\(\) data: "y" has 2 rows, "x" has 1/],
    [{ x: [1, 2], z: [1] }, {}, /trainOn\(\) data for unknown input "z"/],
    [{ x: [1, 2] }, {}, /trainOn\(\) data has no values for input "y"/],
    [{ x: [[1, 2], [3]], y: [1, 2] }, {}, /row 1 holds 1 values, a sample 2/],
    [{ x: [1, Number.NaN], y: [1] }, {}, /trainOn\(\) data: "x": row 0 holds NaN; data values must be finite numbers/],
    [line(4), { batchSize: 5 }, /batchSize 5 is larger than the training data \(4 rows\)/],
    [line(4), { validation: { split: 0.9 } }, /a validation split of 0.9 leaves 0 of 4 rows/],
    [line(4), { batchSize: 1.5 }, /batchSize must be a whole number >= 1, got 1.5/],
  ])('%j %j: a GraphErrors naming the problem', (data, opts, msg) => {
    const s = compile(parseGraph(linear, 'lin.yaml'));
    let err: unknown;
    try {
      trainOn(s, data as never, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphErrors);
    expect((err as GraphErrors).errors.map((e) => e.message).join('\n')).toMatch(msg);
  });
});

describe('typed arrays in and out', () => {
  it('Session.run takes typed arrays (Map or object) and returns typed arrays', () => {
    const s = compile(parseGraph(linear, 'lin.yaml'));
    trainOn(s, line(20), { epochs: 5, batchSize: 4 });
    const x = Float32Array.of(0.1, 0.2, -0.3, 0.4);
    const a = s.run({ x }, 2).pred!;
    const b = s.run(new Map([['x', Array.from(x)]]), 2).pred!;
    expect(a.shape).toEqual([2, 1]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('predict: typed arrays row after row, in batches or all at once, the same values', () => {
    const s = compile(parseGraph(linear, 'lin.yaml'));
    trainOn(s, line(20), { epochs: 5, batchSize: 4 });
    const { x } = line(23);
    const all = predict(s, { x }).pred!;
    const batched = predict(s, { x }, { batchSize: 5 }).pred!;
    expect(all.shape).toEqual([23, 1]);
    expect(Array.from(batched.data)).toEqual(Array.from(all.data));
    const nested = predict(s, { x: Array.from({ length: 23 }, (_, i) => [x[2 * i]!, x[2 * i + 1]!]) }).pred!;
    expect(Array.from(nested.data)).toEqual(Array.from(all.data));
    expect(() => predict(s, { x: Float32Array.of(1, 2, 3) })).toThrow(/"x" holds 3 values/);
  });
});
