// The training loop on WebGPU with many steps per submission (step-chunks.ts): the same epochs,
// seeded orders, steps, clock and logged evaluations as jobs.ts's train(), in the same order
// on the device, but recorded into chunks of `stepsPerSubmit` steps. Logged losses and metrics
// are kept on the device and read back once per chunk; the next chunk is recorded while the
// last one runs. Where a step needs the host (a loss read per step for onStep, a plan split
// between devices) the loop is jobs.ts's train() itself.

import { DeviceError } from '../executors/executor.js';
import type { LossRecord, TrainOptions } from './types.js';
import type { DeviceRun, DeviceRuntime } from './device-runtime.js';
import { type Job, type JobContext, wait } from './job.js';
import { EvalSums, type EvalReads, type Evaluation, lossRecord, metrics } from './evaluate.js';
import { type LoopHooks, logRecord, settingsOf, train, type TrainSettings } from './jobs.js';
import type { Prepared } from './runner.js';
import { trainingClock } from './state.js';
import { type Kept, StepChunks } from './step-chunks.js';

/** A plan the chunks can record: every node on the main device, no hand-over through the host. */
const recordable = (p: Prepared<DeviceRun>): boolean => !p.run.plan.kept && p.run.plan.transfers.length === 0;

/** One logged evaluation recorded into the chunks: its batches' kept values, added up once read. */
interface PendingLog {
  epoch: number;
  parts: { sums: EvalSums; batches: { count: number; reads: EvalReads; kept: Kept[] }[] }[];
}

const ready = (p: PendingLog): boolean => p.parts.every((x) => x.batches.every((b) => b.kept.every((k) => k.value)));

/**
 * train() on a WebGPU session: chunked when nothing asks for the host between steps (see
 * above), else jobs.ts's loop. `hooks` are the device's (no per-step guard).
 */
export function* trainOnDevice(
  c: JobContext<unknown>,
  rt: DeviceRuntime,
  opts: TrainOptions,
  hooks: LoopHooks,
  t: TrainSettings = settingsOf(c),
): Job<LossRecord[]> {
  const gpu = rt.mainGpu;
  const epochs = opts.epochs ?? t.epochs;
  const eligible =
    gpu !== null &&
    gpu.stepsPerSubmit > 1 &&
    !hooks.readLoss &&
    !hooks.beforeStep &&
    !hooks.stepOk &&
    !(opts.onStep && opts.stepLoss !== false) &&
    (opts.from ?? 0) < epochs &&
    c.data.rows > 0;
  const dc = c as JobContext<DeviceRun>;
  // A plan that cannot be built (a strict-device fallback, a tensor past the device's limit)
  // is left to train(), which fails at the point and with the message it always has.
  const first = (): Prepared<DeviceRun> | null => {
    try {
      return dc.runner.prepare('train', Math.min(t.batchSize, c.data.rows));
    } catch {
      return null;
    }
  };
  const plan = eligible ? first() : null;
  if (!plan || !recordable(plan)) return yield* train(c, opts, hooks, t);
  const chunks = new StepChunks(gpu!);
  try {
    return yield* chunked(dc, rt, chunks, opts, hooks, t, epochs);
  } finally {
    chunks.dispose();
  }
}

function* chunked(
  c: JobContext<DeviceRun>,
  rt: DeviceRuntime,
  chunks: StepChunks,
  opts: TrainOptions,
  hooks: LoopHooks,
  t: TrainSettings,
  epochs: number,
): Job<LossRecord[]> {
  const per = rt.mainGpu!.stepsPerSubmit;
  const rows = c.data.rows;
  const bs = t.batchSize;
  const orderBuf = t.shuffle ? new Int32Array(rows) : null;
  const steps = Math.ceil(rows / bs);
  const log: LossRecord[] = [];
  const pending: PendingLog[] = [];
  let full: Prepared<DeviceRun> | undefined, short: Prepared<DeviceRun> | undefined;

  /** Wait until at most `depth` chunks are in flight, then log every evaluation read back, in order. */
  function* drain(depth: number): Job<void> {
    yield chunks.settle(depth);
    while (pending.length && ready(pending[0]!)) {
      const p = pending.shift()!;
      const [e, v] = p.parts.map((part) => {
        for (const b of part.batches)
          part.sums.add(
            b.count,
            b.reads,
            b.kept.map((k) => k.value!),
          );
        return part.sums.result();
      }) as [Evaluation, Evaluation | undefined];
      logRecord(opts, hooks, log, lossRecord(p.epoch, e, v ?? null), t);
      if (p.epoch >= 0) hooks.done?.(p.epoch);
      // A device lost meanwhile (a reset, or onLog's doing; the binding reports it a microtask
      // later) ends training at the epoch it last confirmed, as a read in train() would.
      if (opts.onLog) yield Promise.resolve();
      if (rt.lost) throw new DeviceError('DeviceLost', 'the GPU device was lost');
    }
  }

  /** Record the evaluation logged after `epoch`; an eval plan split between devices is run the plain way. */
  function* logAt(epoch: number): Job<void> {
    const sets = c.data.valColumns ? [c.data, { columns: c.data.valColumns, rows: c.data.valRows }] : [c.data];
    const parts = sets.map((data) => ({ data, sums: new EvalSums(c as JobContext<unknown>, data, t.evalBatchSize) }));
    const plans = parts.map((p) => p.sums.batches.map((b) => c.runner.prepare('eval', b.count)));
    if (!plans.every((ps) => ps.every(recordable))) {
      chunks.submit();
      yield* drain(0);
      logRecord(opts, hooks, log, yield* metrics(c, epoch, t.evalBatchSize), t);
      hooks.done?.(epoch);
      return;
    }
    const clock = { epoch: c.clock.epoch, step: 0 };
    pending.push({
      epoch,
      parts: parts.map(({ data, sums }, i) => ({
        sums,
        batches: sums.batches.map(({ start, count }, j) => {
          const { run, spec } = plans[i]![j]!;
          chunks.begin();
          // Step 0: not a training step, so dropout is the identity.
          rt.feedRows(run, start, count, null, data.columns, clock, chunks.feed);
          rt.executeNow(run);
          const reads = sums.reads(spec, count);
          return { count, reads, kept: reads.names.map((n) => chunks.keep(run, n)) };
        }),
      })),
    });
  }

  const from = opts.from ?? 0;
  if (opts.logEnds && from === 0 && epochs > 0) yield* logAt(-1);
  for (let epoch = from; epoch < epochs; epoch++) {
    c.clock.epoch = epoch;
    c.data.beginEpoch(t.seed, epoch, orderBuf);
    for (let k = 0, start = 0; start < rows; start += bs, k++) {
      const count = Math.min(bs, rows - start);
      c.clock.step = epoch * steps + k + 1;
      const p =
        count === bs ? (full ??= c.runner.prepare('train', count)) : (short ??= c.runner.prepare('train', count));
      if (!recordable(p)) {
        // A last short batch whose plan needs the host: submit what was recorded, then step the plain way.
        chunks.submit();
        c.runner.feedRows(p.run, start, count, c.data, trainingClock(c.clock));
        yield* wait(c.runner.execute(p.run));
      } else {
        chunks.begin();
        rt.feedRows(p.run, start, count, c.data.order, c.data.columns, trainingClock(c.clock), chunks.feed);
        rt.executeNow(p.run);
        if (++chunks.steps >= per) {
          chunks.submit();
          yield* drain(1);
        }
      }
      opts.onStep?.({ epoch, step: k, steps, loss: NaN });
    }
    // Every log_every-th epoch from 0; with logEnds the last too, as train() does.
    if (epoch % t.logEvery === 0 || (opts.logEnds && epoch === epochs - 1)) yield* logAt(epoch);
    if (opts.onEpoch) {
      chunks.submit();
      yield* drain(0);
      yield* wait(rt.toHost());
      hooks.done?.(epoch);
      opts.onEpoch(epoch);
    }
  }
  chunks.submit();
  yield* drain(0);
  yield* wait(rt.toHost());
  return log;
}
