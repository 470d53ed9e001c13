// A session's jobs, each written once: a training step, evaluation, the logged metrics, the
// training loop, a forward run, predictions and gradients. Each job is a generator over a
// Runner: where the runner answers with a promise (a device read), the job yields it and
// resumes with its value. On the CPU nothing is ever yielded, so `runSync` drives a job in one
// call; `runAsync` awaits what a device job yields.

import { DataError, type GraphError, type SourceLoc } from '../errors.js';
import type { Tensor, TypedArray } from '../ir/types.js';
import { sizeOf } from '../ir/types.js';
import { feedValues } from '../data/index.js';
import { checkFedIndices } from '../train/labels.js';
import type { LossRecord, TrainOptions } from './types.js';
import { isPending, type Pending, type Prepared } from './runner.js';
import { trainingClock } from './state.js';
import { fail, type Job, type JobContext, wait } from './job.js';
import { evalBatchSize, metrics } from './evaluate.js';

export { type Job, type JobContext, runAsync, runSync, wait } from './job.js';
export {
  checkRows,
  type EvalData,
  type Evaluation,
  evalBatchSize,
  evaluate,
  evaluateOn,
  metrics,
} from './evaluate.js';

/**
 * One optimizer step on training rows [start, start + count): the batch loss (NaN unless `read`),
 * a promise of it where the runner must be waited for. A plain function, not a job: the
 * training loop's hot path allocates nothing per step on the CPU.
 */
export function stepNow<H>(
  c: JobContext<H>,
  start: number,
  count: number,
  read: boolean,
  prepared: Prepared<H> = c.runner.prepare('train', count),
): Pending<number> {
  const { run, spec } = prepared;
  c.runner.feedRows(run, start, count, c.data, trainingClock(c.clock));
  const x = c.runner.execute(run);
  return isPending(x) ? x.then(() => lossOf(c, run, spec.outputs[0]!, read)) : lossOf(c, run, spec.outputs[0]!, read);
}

function lossOf<H>(c: JobContext<H>, run: H, loss: string, read: boolean): Pending<number> {
  if (!read) return NaN;
  const v = c.runner.read(run, loss);
  return isPending(v) ? v.then((b) => b[0]!) : v[0]!;
}

/** One optimizer step on training rows [start, start + count) as a job. */
export function* step<H>(c: JobContext<H>, start: number, count: number, read = true): Job<number> {
  return yield* wait(stepNow(c, start, count, read));
}

/** One optimizer step on a batch given directly (flat row-major values per input). */
export function* stepOn<H>(
  c: JobContext<H>,
  batch: number,
  values: Record<string, ArrayLike<number>>,
  read = true,
): Job<number> {
  const { run, spec } = c.runner.prepare('train', batch);
  c.runner.feed(run, values, trainingClock(c.clock));
  const x = c.runner.execute(run);
  if (isPending(x)) yield x;
  if (!read) return NaN;
  const v = c.runner.read(run, spec.outputs[0]!);
  return (isPending(v) ? ((yield v) as TypedArray) : v)[0]!;
}

/** Run the forward graph on the given input values; returns every declared output (copies). */
export function* forward<H>(
  c: JobContext<H>,
  values: Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>,
  batch: number,
): Job<Record<string, Tensor>> {
  const { run } = c.runner.prepare('forward', batch);
  const f = c.program.forward(batch);
  checkFedIndices(f.built.graph, values);
  c.runner.feed(run, values);
  yield* wait(c.runner.execute(run));
  const res: Record<string, Tensor> = {};
  for (const o of f.outputs) {
    const t = f.built.graph.node(o.node).type;
    const data = yield* wait(c.runner.read(run, o.node));
    res[o.name] = { shape: [...t.shape], dtype: t.dtype, data: c.runner.kind === 'cpu' ? data.slice() : data };
  }
  return res;
}

/** The model's named predictions (`predict:`), with the current parameters. */
export function* predictions<H>(c: JobContext<H>): Job<Record<string, Record<string, Tensor>>> {
  const out: Record<string, Record<string, Tensor>> = {};
  const m = c.program.model;
  for (const q of m.predict) {
    const errors: GraphError[] = [];
    const f = feedValues(m, q.feed, errors, `prediction "${q.name}"`, c.program.forwardInputs(), q.loc);
    if (!f) fail(errors);
    out[q.name] = yield* forward(c, f.values, f.batch);
  }
  return out;
}

/** d of / d wrt for the model's `gradients:` request, at its `feed`. */
export function* gradients<H>(c: JobContext<H>): Job<Record<string, Tensor>> {
  const req = c.program.model.gradients;
  if (!req) return {};
  const g = c.program.gradient();
  const { run } = c.runner.prepare('gradient', g.batch);
  c.runner.feed(run, g.values);
  yield* wait(c.runner.execute(run));
  const res: Record<string, Tensor> = {};
  for (const w of req.wrt) {
    const d = g.grads.get(w.ref);
    const t = g.built.graph.node(w.ref).type;
    let data: TypedArray;
    if (!d) data = new (c.program.float === 'f64' ? Float64Array : Float32Array)(sizeOf(t.shape));
    else {
      data = yield* wait(c.runner.read(run, d));
      if (c.runner.kind === 'cpu') data = data.slice();
    }
    res[w.name] = { shape: [...t.shape], dtype: t.dtype, data };
  }
  return res;
}

/** The training section, failing without one. */
export function trainingOf(c: JobContext<unknown>) {
  const m = c.program.model;
  const t = m.training;
  if (!t) fail([new DataError('this graph has no training section', { file: m.file, line: 1, col: 1 })]);
  return t;
}

/** Hooks the training loop calls that depend on where it runs. */
export interface LoopHooks {
  /** Before each step (the CPU's finiteness guard saves the values here). */
  beforeStep?: () => void;
  /** After each step with its loss (read only when `readLoss`): false stops training with `badStep`. */
  stepOk?: (loss: number) => boolean;
  /** A step that `stepOk` rejected: throws (the CPU's diagnosis names the first non-finite node). */
  badStep?: (at: { epoch: number; k: number; steps: number; start: number; count: number; loss: number }) => never;
  /** Read every step's loss even without `onStep` (the CPU guard needs it; a device read costs a round trip). */
  readLoss: boolean;
  /** Check the logged loss (where no per-step guard runs). */
  checkLogged: boolean;
  /** Where the steps run, for messages. */
  where: string;
  /** The last epoch known finished (a device's for its lost-device message). */
  done?: (epoch: number) => void;
}

/** One epoch's steps and what they share: the plans of a full and of a last short batch, prepared when first needed. */
interface EpochSteps<H> {
  epoch: number;
  /** Steps per epoch. */
  steps: number;
  rows: number;
  bs: number;
  read: boolean;
  full?: Prepared<H>;
  short?: Prepared<H>;
}

/** A step whose loss must be waited for (a device read): where it was, and the promise. */
interface WaitingStep {
  k: number;
  start: number;
  count: number;
  loss: Promise<number>;
}

/** After a step: the guard's verdict (a rejected step throws) and the onStep callback. */
function finishStep(
  e: EpochSteps<unknown>,
  opts: TrainOptions,
  hooks: LoopHooks,
  k: number,
  start: number,
  count: number,
  loss: number,
): void {
  if (hooks.stepOk && !hooks.stepOk(loss)) hooks.badStep!({ epoch: e.epoch, steps: e.steps, k, start, count, loss });
  opts.onStep?.({ epoch: e.epoch, step: k, steps: e.steps, loss });
}

/**
 * The steps of an epoch from step `k0`, in a plain loop (the training hot path: on the CPU a
 * whole epoch runs here without a generator resuming per step). Returns at the first step whose
 * loss is a promise, for the caller to wait for; null when the epoch is done.
 */
function runSteps<H>(c: JobContext<H>, e: EpochSteps<H>, opts: TrainOptions, hooks: LoopHooks, k0: number) {
  for (let k = k0, start = k0 * e.bs; start < e.rows; start += e.bs, k++) {
    const count = Math.min(e.bs, e.rows - start);
    c.clock.step = e.epoch * e.steps + k + 1;
    hooks.beforeStep?.();
    const prepared =
      count === e.bs ? (e.full ??= c.runner.prepare('train', count)) : (e.short ??= c.runner.prepare('train', count));
    const loss = stepNow(c, start, count, e.read, prepared);
    if (isPending(loss)) return { k, start, count, loss } satisfies WaitingStep;
    finishStep(e, opts, hooks, k, start, count, loss);
  }
  return null;
}

/** How the training loop batches, orders and logs: the training section's values, or trainOn()'s. */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  logEvery: number;
  /** Seed of the shuffled orders. */
  seed: number;
  /** Rows per evaluation batch for the logged metrics. */
  evalBatchSize: number;
  /** Where the settings are written, for errors (the training section). */
  loc: SourceLoc;
}

/** The training section's settings (failing without one). */
export function settingsOf(c: JobContext<unknown>): TrainSettings {
  const t = trainingOf(c);
  const seed = c.program.model.seed ?? 0;
  const { epochs, batchSize, logEvery, loc } = t;
  return { epochs, batchSize, shuffle: t.shuffle === true, logEvery, seed, evalBatchSize: evalBatchSize(c), loc };
}

/**
 * Train on `c.data` as `t` says (the training section's settings unless trainOn() gives others;
 * epochs may be overridden): each epoch in a seeded order (or data order), one step per batch,
 * metrics every `logEvery` epochs.
 */
export function* train<H>(
  c: JobContext<H>,
  opts: TrainOptions,
  hooks: LoopHooks,
  t: TrainSettings = settingsOf(c),
): Job<LossRecord[]> {
  const epochs = opts.epochs ?? t.epochs;
  const rows = c.data.rows;
  const orderBuf = t.shuffle ? new Int32Array(rows) : null;
  const seed = t.seed;
  const log: LossRecord[] = [];
  const e: EpochSteps<H> = {
    epoch: 0,
    // Steps per epoch: the step counter is a function of (epoch, batch), so a resumed run continues it.
    steps: Math.ceil(rows / t.batchSize),
    rows,
    bs: t.batchSize,
    read: hooks.readLoss || (opts.onStep !== undefined && opts.stepLoss !== false),
  };
  const from = opts.from ?? 0;
  // The metrics before any training (the initial parameters), recorded as epoch -1.
  if (opts.logEnds && from === 0 && epochs > 0) yield* logMetrics(c, opts, hooks, log, -1, t);
  for (let epoch = from; epoch < epochs; epoch++) {
    c.clock.epoch = e.epoch = epoch;
    c.data.beginEpoch(seed, epoch, orderBuf);
    for (let w = runSteps(c, e, opts, hooks, 0); w; w = runSteps(c, e, opts, hooks, w.k + 1)) {
      const loss = (yield w.loss) as number;
      finishStep(e, opts, hooks, w.k, w.start, w.count, loss);
    }
    // Every log_every-th epoch from 0; with logEnds the last too, so the final loss is never skipped.
    if (epoch % t.logEvery === 0 || (opts.logEnds && epoch === epochs - 1)) {
      yield* logMetrics(c, opts, hooks, log, epoch, t);
      hooks.done?.(epoch);
    }
    if (opts.onEpoch) {
      yield* wait(c.runner.toHost());
      hooks.done?.(epoch);
      opts.onEpoch(epoch);
    }
  }
  yield* wait(c.runner.toHost());
  return log;
}

/** Evaluate and log the metrics after `epoch` (-1: before training), checking the loss where no step guard ran. */
function* logMetrics<H>(
  c: JobContext<H>,
  opts: TrainOptions,
  hooks: LoopHooks,
  log: LossRecord[],
  epoch: number,
  t: TrainSettings,
): Job<void> {
  logRecord(opts, hooks, log, yield* metrics(c, epoch, t.evalBatchSize), t);
}

/** Log an evaluated record: the loss checked where no step guard ran, then kept and passed to onLog. */
export function logRecord(
  opts: TrainOptions,
  hooks: LoopHooks,
  log: LossRecord[],
  r: LossRecord,
  t: TrainSettings,
): void {
  if (hooks.checkLogged && opts.checkFinite !== false && !Number.isFinite(r.loss)) {
    fail([
      new DataError(
        `the loss is ${r.loss} ${r.epoch < 0 ? 'before training' : `after epoch ${r.epoch}`} (on ${hooks.where})`,
        t.loc,
        undefined,
        'lower the learning rate; --device cpu names the first node that produced a NaN or infinity',
      ),
    ]);
  }
  log.push(r);
  opts.onLog?.(r);
}
