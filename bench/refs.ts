// The same workloads on the JavaScript references, for `npm run bench`'s comparison:
// TensorFlow.js with its cpu (plain JS) and wasm (SIMD; one thread in Node) backends, and
// ONNX Runtime for Node (native, 2 threads; inference only). They are dev dependencies,
// loaded dynamically: where they are not installed the benchmark runs graph-run alone. PyTorch
// (bench/cnn.ts, bench/charlm.ts) times the CNN and character-model steps where Python has torch.

import { chainYaml, mlpData } from './workloads.js';
import { onnxModel, type OnnxNode } from './onnx.js';
import { prng } from './stats.js';
import { numpyEngine } from './numpy.js';
import { cnnTfjs, torchEngine } from './cnn.js';
import { charlmTorch } from './charlm.js';

/** A reference workload: `run` may be async (ONNX Runtime's run is). */
export interface RefPrepared {
  run: () => void | Promise<void>;
  /** Called before each timed sample (TF.js: switch to this engine's backend). */
  enter?: () => Promise<void>;
  dispose?: () => void;
  /** n runs timed by the engine itself (ms per run), for engines in another process. */
  runN?: (n: number) => Promise<number>;
}

export interface Engine {
  name: string;
  version?: string;
  /** Factories by workload key; a missing key is a workload the engine does not run. */
  workloads: Partial<Record<string, () => Promise<RefPrepared>>>;
}

type Tf = typeof import('@tensorflow/tfjs');

async function tfjsEngine(backend: 'cpu' | 'wasm'): Promise<Engine | null> {
  let tf: Tf;
  try {
    tf = await import('@tensorflow/tfjs');
    if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend(backend))) return null;
    await tf.ready();
  } catch {
    return null;
  }
  const enter = async () => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
  };
  const withBackend = (make: () => RefPrepared) => async () => {
    await enter();
    return { enter, ...make() };
  };
  const uniform = (shape: number[], seed: number, lo = -1, hi = 1) => {
    const r = prng(seed);
    const n = shape.reduce((a, d) => a * d, 1);
    return tf.tensor(
      new Float32Array(n).map(() => lo + (hi - lo) * r()),
      shape,
    );
  };

  const workloads: Engine['workloads'] = {
    gender_train_ms: withBackend(() => {
      const rows = [
          [-2, -1],
          [25, 6],
          [17, 4],
          [-15, -6],
        ],
        ys = [1, 0, 0, 1];
      const xs = rows.map((r) => tf.tensor2d([r], [1, 2])),
        ts = ys.map((y) => tf.tensor1d([y]));
      const X = tf.tensor2d(rows),
        Y = tf.tensor1d(ys);
      const w1 = tf.variable(tf.fill([2, 2], 0.1)),
        b1 = tf.variable(tf.fill([2], 0.1));
      const w2 = tf.variable(tf.fill([1, 2], 0.1)),
        b2 = tf.variable(tf.fill([1], 0.1));
      const opt = tf.train.sgd(0.1);
      const forward = (x: import('@tensorflow/tfjs').Tensor) => {
        const h = tf.sigmoid(tf.add(tf.matMul(x, w1, false, true), b1));
        return tf.reshape(tf.sigmoid(tf.add(tf.matMul(h, w2, false, true), b2)), [-1]);
      };
      const loss = (x: import('@tensorflow/tfjs').Tensor, y: import('@tensorflow/tfjs').Tensor) =>
        tf.mean(tf.square(tf.sub(forward(x), y))) as import('@tensorflow/tfjs').Scalar;
      return {
        run: () => {
          for (const v of [w1, b1, w2, b2]) v.assign(tf.fill(v.shape, 0.1));
          for (let epoch = 0; epoch < 1000; epoch++) {
            for (let i = 0; i < 4; i++) opt.minimize(() => loss(xs[i]!, ts[i]!));
            if (epoch % 10 === 0) tf.tidy(() => loss(X, Y).dataSync());
          }
        },
        dispose: () => tf.dispose([...xs, ...ts, X, Y, w1, b1, w2, b2]),
      };
    }),
    // The wasm backend has no Conv2DBackpropFilter kernel: its convolutions run as conv3d.
    cnn_step_ms: withBackend(() => cnnTfjs(tf, backend === 'wasm')),
    mlp_step_ms: withBackend(() => {
      const d = mlpData(128);
      const p = new Map(
        [...d.params].map(([k, v]) => [
          k,
          tf.variable(
            tf.tensor(v, k === 'w1' ? [784, 256] : k === 'w2' ? [256, 256] : k === 'w3' ? [256, 10] : [v.length]),
          ),
        ]),
      );
      const x = tf.tensor2d(d.x, [128, 784]),
        y = tf.tensor2d(d.y, [128, 10]);
      const opt = tf.train.sgd(0.01);
      const f = () => {
        const h1 = tf.relu(tf.add(tf.matMul(x, p.get('w1')!), p.get('b1')!));
        const h2 = tf.relu(tf.add(tf.matMul(h1, p.get('w2')!), p.get('b2')!));
        const out = tf.add(tf.matMul(h2, p.get('w3')!), p.get('b3')!);
        return tf.mean(tf.square(tf.sub(out, y))) as import('@tensorflow/tfjs').Scalar;
      };
      return {
        run: () => {
          const cost = opt.minimize(f, true)!;
          cost.dataSync();
          cost.dispose();
        },
        dispose: () => tf.dispose([x, y, ...p.values()]),
      };
    }),
    mlp_infer_ms: withBackend(() => {
      const d = mlpData(128);
      const t = (k: string, shape: number[]) => tf.tensor(d.params.get(k)!, shape);
      const w1 = t('w1', [784, 256]),
        b1 = t('b1', [256]),
        w2 = t('w2', [256, 256]),
        b2 = t('b2', [256]),
        w3 = t('w3', [256, 10]),
        b3 = t('b3', [10]);
      const x = tf.tensor2d(d.x, [128, 784]);
      return {
        run: () => {
          tf.tidy(() => {
            const h1 = tf.relu(tf.add(tf.matMul(x, w1), b1));
            const h2 = tf.relu(tf.add(tf.matMul(h1, w2), b2));
            tf.add(tf.matMul(h2, w3), b3).dataSync();
          });
        },
        dispose: () => tf.dispose([w1, b1, w2, b2, w3, b3, x]),
      };
    }),
    ...Object.fromEntries(
      [128, 512, 1024].map((n) => [
        `matmul_${n}_gflops`,
        withBackend(() => {
          const a = uniform([n, n], 1),
            b = uniform([n, n], 2);
          return { run: () => tf.matMul(a, b).dispose(), dispose: () => tf.dispose([a, b]) };
        }),
      ]),
    ),
    ...Object.fromEntries(
      [
        ['1m', 1 << 20],
        ['16m', 1 << 24],
      ].map(([k, n]) => [
        `elementwise_${k}_gbs`,
        withBackend(() => {
          const a = uniform([n as number], 3, -2, 2),
            b = uniform([n as number], 4, -2, 2),
            c = uniform([n as number], 5, -2, 2);
          return {
            run: () => tf.tidy(() => tf.sigmoid(tf.add(tf.mul(a, b), c))).dispose(),
            dispose: () => tf.dispose([a, b, c]),
          };
        }),
      ]),
    ),
    node_overhead_us: withBackend(() => {
      const x = tf.ones([16]),
        one = tf.scalar(1),
        half = tf.scalar(0.5);
      return {
        run: () => {
          tf.tidy(() => {
            let v = x;
            for (let i = 0; i < 1000; i++) v = i % 2 === 0 ? tf.add(v, one) : tf.mul(v, half);
            return v;
          }).dispose();
        },
        dispose: () => tf.dispose([x, one, half]),
      };
    }),
  };
  return { name: `tfjs-${backend}`, workloads };
}

export async function onnxEngine(threads = 2): Promise<Engine | null> {
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return null;
  }
  // Two intra-op threads by default: the machine's two cores, as graph-run uses them.
  const session = (bytes: Uint8Array) =>
    ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  const tensor = (data: Float32Array, shape: number[]) => new ort.Tensor('float32', data, shape);
  const uniform = (n: number, seed: number, lo = -1, hi = 1) => {
    const r = prng(seed);
    return new Float32Array(n).map(() => lo + (hi - lo) * r());
  };
  const workloads: Engine['workloads'] = {
    mlp_infer_ms: async () => {
      const d = mlpData(128);
      const shapes: Record<string, number[]> = {
        w1: [784, 256],
        b1: [256],
        w2: [256, 256],
        b2: [256],
        w3: [256, 10],
        b3: [10],
      };
      const nodes: OnnxNode[] = [
        { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['z1'] },
        { op: 'Add', inputs: ['z1', 'b1'], outputs: ['s1'] },
        { op: 'Relu', inputs: ['s1'], outputs: ['h1'] },
        { op: 'MatMul', inputs: ['h1', 'w2'], outputs: ['z2'] },
        { op: 'Add', inputs: ['z2', 'b2'], outputs: ['s2'] },
        { op: 'Relu', inputs: ['s2'], outputs: ['h2'] },
        { op: 'MatMul', inputs: ['h2', 'w3'], outputs: ['z3'] },
        { op: 'Add', inputs: ['z3', 'b3'], outputs: ['out'] },
      ];
      const s = await session(
        onnxModel({
          inputs: [{ name: 'x', shape: [128, 784] }],
          outputs: [{ name: 'out', shape: [128, 10] }],
          nodes,
          initializers: [...d.params].map(([name, data]) => ({ name, shape: shapes[name]!, data })),
        }),
      );
      const feeds = { x: tensor(d.x, [128, 784]) };
      return {
        run: async () => {
          await s.run(feeds);
        },
      };
    },
    ...Object.fromEntries(
      [128, 512, 1024].map((n) => [
        `matmul_${n}_gflops`,
        async () => {
          const s = await session(
            onnxModel({
              inputs: [
                { name: 'a', shape: [n, n] },
                { name: 'b', shape: [n, n] },
              ],
              outputs: [{ name: 'c', shape: [n, n] }],
              initializers: [],
              nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
            }),
          );
          const feeds = { a: tensor(uniform(n * n, 1), [n, n]), b: tensor(uniform(n * n, 2), [n, n]) };
          return {
            run: async () => {
              await s.run(feeds);
            },
          };
        },
      ]),
    ),
    ...Object.fromEntries(
      [
        ['1m', 1 << 20],
        ['16m', 1 << 24],
      ].map(([k, n]) => [
        `elementwise_${k}_gbs`,
        async () => {
          const len = n as number;
          const s = await session(
            onnxModel({
              inputs: ['a', 'b', 'c'].map((name) => ({ name, shape: [len] })),
              outputs: [{ name: 'y', shape: [len] }],
              initializers: [],
              nodes: [
                { op: 'Mul', inputs: ['a', 'b'], outputs: ['p'] },
                { op: 'Add', inputs: ['p', 'c'], outputs: ['q'] },
                { op: 'Sigmoid', inputs: ['q'], outputs: ['y'] },
              ],
            }),
          );
          const feeds = {
            a: tensor(uniform(len, 3, -2, 2), [len]),
            b: tensor(uniform(len, 4, -2, 2), [len]),
            c: tensor(uniform(len, 5, -2, 2), [len]),
          };
          return {
            run: async () => {
              await s.run(feeds);
            },
          };
        },
      ]),
    ),
    node_overhead_us: async () => {
      void chainYaml;
      const nodes: OnnxNode[] = [];
      for (let i = 0; i < 1000; i++)
        nodes.push({
          op: i % 2 === 0 ? 'Add' : 'Mul',
          inputs: [i === 0 ? 'x' : `v${i - 1}`, i % 2 === 0 ? 'one' : 'half'],
          outputs: [`v${i}`],
        });
      const s = await session(
        onnxModel({
          inputs: [{ name: 'x', shape: [16] }],
          outputs: [{ name: 'v999', shape: [16] }],
          nodes,
          initializers: [
            { name: 'one', shape: [], data: new Float32Array([1]) },
            { name: 'half', shape: [], data: new Float32Array([0.5]) },
          ],
        }),
      );
      const feeds = { x: tensor(new Float32Array(16).fill(1), [16]) };
      return {
        run: async () => {
          await s.run(feeds);
        },
      };
    },
  };
  return { name: 'onnxruntime', workloads };
}

/** The references that are installed. */
export async function referenceEngines(): Promise<Engine[]> {
  const out: Engine[] = [];
  // One at a time: the two TF.js engines share one tf object.
  for (const make of [() => tfjsEngine('cpu'), () => tfjsEngine('wasm'), onnxEngine, numpyEngine, torchEngine]) {
    const e = await make();
    if (e) out.push(e);
  }
  // The character model's step on PyTorch: a column of the PyTorch engine (its own process).
  const charlm = await charlmTorch();
  if (charlm) {
    const torch = out.find((e) => e.name === 'pytorch');
    if (torch) torch.workloads.charlm_step_ms = charlm;
    else out.push({ name: 'pytorch', workloads: { charlm_step_ms: charlm } });
  }
  return out;
}
