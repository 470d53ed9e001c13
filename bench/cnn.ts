// The MNIST CNN's training step (graphs/mnist_cnn.yaml: conv 3x3 1->8 + ReLU, 2x2 max pool,
// conv 3x3 8->16 + ReLU, 2x2 max pool, dense 784->10, softmax cross-entropy, Adam; batch 64)
// on graph-run, TF.js (cpu and wasm) and PyTorch. PyTorch runs in a Python process
// (bench/py/cnn_torch.py, 2 threads) started once and asked for one step per sample over a pipe,
// so its samples interleave with the others' like every reference's; the pipe's round trip
// (~0.1 ms) is inside its time. Python is GRAPH_RUN_PYTHON, else python3; without torch there
// the row has no PyTorch column. Every engine starts from the same seeded parameters and images.

import { pythonChild } from './python.js';
import type { Engine, RefPrepared } from './refs.js';
import { prng } from './stats.js';
import { graphPath, type Prepared, sessionWithoutData } from './workloads.js';

export const CNN_BATCH = 64;

/** Parameter shapes of graphs/mnist_cnn.yaml, with their fan-in (PyTorch's default init bound 1/√fan_in). */
const shapes: [string, number[], number][] = [
  ['k1', [8, 1, 3, 3], 9],
  ['c1', [8], 9],
  ['k2', [16, 8, 3, 3], 72],
  ['c2', [16], 72],
  ['w', [10, 784], 784],
  ['b', [10], 784],
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

/** One Adam step of the MNIST CNN on graph-run. */
export function cnnStep(batch = CNN_BATCH, fast = true): Prepared {
  const s = sessionWithoutData('graphs/mnist_cnn.yaml', fast);
  const d = cnnData(batch);
  for (const [name, v] of d.params) s.params.get(name)!.set(v);
  let last = NaN;
  const values = { image: d.x, label: d.y };
  return { run: () => void (last = s.stepOn(batch, values)), check: () => last };
}

type Tf = typeof import('@tensorflow/tfjs');

/**
 * The same step on TF.js, NHWC/HWIO (its layout). TF.js's wasm backend has no
 * Conv2DBackpropFilter kernel but has the 3-D ones: with `as3d` each convolution is a conv3d
 * over a depth of 1 (the same arithmetic), so that backend can train the model too.
 */
export function cnnTfjs(tf: Tf, as3d: boolean): RefPrepared {
  const d = cnnData();
  const p = d.params;
  const kernel = (k: Float32Array, o: number, i: number) => {
    const hwio = tf.transpose(tf.tensor4d(k, [o, i, 3, 3]), [2, 3, 1, 0]);
    return tf.variable(as3d ? tf.reshape(hwio, [1, 3, 3, i, o]) : hwio);
  };
  const k1 = kernel(p.get('k1')!, 8, 1),
    k2 = kernel(p.get('k2')!, 16, 8);
  const c1 = tf.variable(tf.tensor1d(p.get('c1')!)),
    c2 = tf.variable(tf.tensor1d(p.get('c2')!));
  // graph-run's dense weight is [10, 784] over NCHW's flattening; here [784, 10] over NHWC's.
  const w = tf.variable(tf.reshape(tf.transpose(tf.tensor4d(p.get('w')!, [10, 16, 7, 7]), [2, 3, 1, 0]), [784, 10]));
  const b = tf.variable(tf.tensor1d(p.get('b')!));
  const x = tf.tensor4d(d.x, [CNN_BATCH, 28, 28, 1]);
  const y = tf.oneHot(tf.tensor1d(d.y, 'int32'), 10);
  const opt = tf.train.adam(0.001);
  type T4 = import('@tensorflow/tfjs').Tensor4D;
  const conv = (h: T4, k: import('@tensorflow/tfjs').Variable, c: import('@tensorflow/tfjs').Variable): T4 => {
    const z = as3d
      ? tf.reshape(
          tf.conv3d(tf.expandDims(h, 1) as never, k as never, 1, 'same'),
          h.shape.slice(0, 3).concat([k.shape[k.shape.length - 1]!]),
        )
      : tf.conv2d(h, k as never, 1, 'same');
    return tf.maxPool(tf.relu(tf.add(z, c)) as T4, 2, 2, 'valid');
  };
  const f = () => {
    const h = conv(conv(x, k1, c1), k2, c2);
    const logits = tf.add(tf.matMul(tf.reshape(h, [CNN_BATCH, 784]), w), b);
    return tf.losses.softmaxCrossEntropy(y, logits) as import('@tensorflow/tfjs').Scalar;
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

/** PyTorch (2 threads) through bench/py/cnn_torch.py, or null where Python has no torch. */
export async function torchEngine(): Promise<Engine | null> {
  const py = await pythonChild(graphPath('bench/py/cnn_torch.py'));
  if (py?.first !== 'ready') return null;
  return {
    name: 'pytorch',
    workloads: {
      cnn_step_ms: async () => ({
        run: async () => {
          if ((await py.ask('step')) !== 'ok') throw new Error('bench/py/cnn_torch.py stopped');
        },
      }),
    },
  };
}
