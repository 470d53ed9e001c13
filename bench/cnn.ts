// The CNN training step (graphs/bench/cnn.yaml, batch 64) on graph-run, TF.js and PyTorch.
// PyTorch runs in a Python process (bench/cnn_torch.py) started once and asked for one step per
// sample over a pipe, so its samples interleave with the others' like every reference's; the
// pipe's round trip (~0.1 ms) is inside its time. Python is GRAPH_RUN_PYTHON, else python3;
// without torch there the row has no PyTorch column.

import { pythonChild } from './python.js';
import { loadGraph } from '../runtime/index.js';
import { Session } from '../runtime/session.js';
import type { Engine, RefPrepared } from './refs.js';
import { prng } from './stats.js';
import { graphPath, type Prepared } from './workloads.js';

export const CNN_BATCH = 64;

/** Parameter shapes of graphs/bench/cnn.yaml, with their fan-in (PyTorch's default init bound 1/√fan_in). */
const shapes: [string, number[], number][] = [
  ['k1', [8, 1, 3, 3], 9],
  ['c1', [8], 9],
  ['k2', [16, 8, 3, 3], 72],
  ['c2', [16], 72],
  ['w', [3136, 10], 3136],
  ['b', [10], 3136],
];

/** Seeded parameters, images in [0, 1) and labels. */
export function cnnData(batch = CNN_BATCH): { params: Map<string, Float32Array>; x: Float32Array; y: Int32Array } {
  const rnd = prng(7);
  const params = new Map<string, Float32Array>();
  for (const [name, shape, fan] of shapes) {
    const n = shape.reduce((a, d) => a * d, 1);
    params.set(
      name,
      new Float32Array(n).map(() => (rnd() * 2 - 1) / Math.sqrt(fan)),
    );
  }
  const x = new Float32Array(batch * 784).map(() => rnd());
  const y = Int32Array.from({ length: batch }, () => Math.floor(rnd() * 10));
  return { params, x, y };
}

/** One SGD step of the CNN on graph-run. */
export function cnnStep(batch = CNN_BATCH, fast = true): Prepared {
  const s = new Session(loadGraph(graphPath('graphs/bench/cnn.yaml')), { fast });
  const d = cnnData(batch);
  for (const [name, v] of d.params) s.params.get(name)!.set(v);
  let last = NaN;
  const values = { x: d.x, y: d.y };
  return { run: () => void (last = s.stepOn(batch, values)), check: () => last };
}

type Tf = typeof import('@tensorflow/tfjs');

/** The same step on TF.js (NCHW is not TF.js's layout: the images and kernels are NHWC/HWIO there). */
export function cnnTfjs(tf: Tf): RefPrepared {
  const d = cnnData();
  const p = d.params;
  const hwio = (k: Float32Array, o: number, i: number) =>
    tf.variable(tf.transpose(tf.tensor4d(k, [o, i, 3, 3]), [2, 3, 1, 0]));
  const k1 = hwio(p.get('k1')!, 8, 1),
    k2 = hwio(p.get('k2')!, 16, 8);
  const c1 = tf.variable(tf.tensor1d(p.get('c1')!)),
    c2 = tf.variable(tf.tensor1d(p.get('c2')!));
  const w = tf.variable(tf.tensor2d(p.get('w')!, [3136, 10])),
    b = tf.variable(tf.tensor1d(p.get('b')!));
  const x = tf.tensor4d(d.x, [CNN_BATCH, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(d.y, 'int32'), 10);
  const opt = tf.train.sgd(0.01);
  const f = () => {
    const h1 = tf.relu(tf.add(tf.conv2d(x, k1 as never, 1, 'same'), c1));
    const h2 = tf.relu(tf.add(tf.conv2d(h1 as never, k2 as never, 1, 'same'), c2));
    const flat = tf.reshape(tf.maxPool(h2 as never, 2, 2, 'valid'), [CNN_BATCH, 3136]);
    return tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(flat, w), b)) as import('@tensorflow/tfjs').Scalar;
  };
  return {
    run: () => {
      const cost = opt.minimize(f, true)!;
      cost.dataSync();
      cost.dispose();
    },
    dispose: () => tf.dispose([k1, k2, c1, c2, w, b, x, y]),
  };
}

/** PyTorch (2 threads) through bench/cnn_torch.py, or null where Python has no torch. */
export async function torchEngine(): Promise<Engine | null> {
  const py = await pythonChild(graphPath('bench/cnn_torch.py'));
  if (py?.first !== 'ready') return null;
  return {
    name: 'pytorch',
    workloads: {
      cnn_step_ms: async () => ({
        run: async () => {
          if ((await py.ask('step')) !== 'ok') throw new Error('bench/cnn_torch.py stopped');
        },
      }),
    },
  };
}
