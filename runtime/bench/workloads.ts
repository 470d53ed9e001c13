// The benchmark workloads on graph-run itself. Each returns a prepared closure (startup,
// loading and plan building done outside it) so the runner times only the work.

import { fileURLToPath } from 'node:url';
import { loadGraph } from '../index.js';
import { Session } from '../session.js';
import type { FloatDType } from '../ir/types.js';
import { prng } from './stats.js';
import { initialValues } from '../train/init.js';

/** graph-run's own graphs/, found from this module (src: runtime/bench, built: dist/runtime/bench). */
function graphPath(rel: string): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = here.includes('/dist/') ? new URL('../../../', import.meta.url) : new URL('../../', import.meta.url);
  return fileURLToPath(new URL(rel, root));
}

/**
 * Training graphs/gender.yaml as `graph-run` does it: 1000 epochs x 4 per-sample steps plus
 * the whole-data loss every 10 epochs. Parameters are reset before each run, so every run
 * trains from the same start; plans are built by the first (warm-up) run.
 */
export function genderTraining(dtype: FloatDType = 'f32'): { run: () => void; check: () => number } {
  const model = loadGraph(graphPath('graphs/gender.yaml'));
  const s = new Session(model, { dtype });
  const initial = model.params.map((p) => ({ buf: s.params.get(p.name)!, param: p }));
  let last = NaN;
  const run = () => {
    for (const { buf, param } of initial) buf.set(initialValues(param, model.seed ?? 0));
    const log = s.train();
    last = log[log.length - 1]!.loss;
  };
  return { run, check: () => last };
}

/**
 * One SGD step of the 784-256-256-10 ReLU MLP (graphs/bench/mlp.yaml) at batch 128 on seeded
 * random data, parameters initialised like PyTorch's nn.Linear (uniform ±1/sqrt(fan_in)).
 */
export function mlpStep(batch = 128, dtype: FloatDType = 'f32'): { run: () => void; check: () => number } {
  const model = loadGraph(graphPath('graphs/bench/mlp.yaml'));
  const s = new Session(model, { dtype });
  const rnd = prng(42);
  for (const p of model.params) {
    const fanIn = p.shape[0]!;
    const bound = 1 / Math.sqrt(fanIn);
    const buf = s.params.get(p.name)!;
    for (let i = 0; i < buf.length; i++) buf[i] = (rnd() * 2 - 1) * bound;
  }
  const x = new Float32Array(batch * 784);
  for (let i = 0; i < x.length; i++) x[i] = rnd();
  const y = new Float32Array(batch * 10);
  for (let r = 0; r < batch; r++) y[r * 10 + Math.floor(rnd() * 10)] = 1;
  let last = NaN;
  const values = { x, y };
  return { run: () => { last = s.stepOn(batch, values); }, check: () => last };
}
