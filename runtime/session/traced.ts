// The traced training step (for `trace`, and the diagnosis of a step that left a NaN or an
// infinity): one step with every node's value kept, through a plan built for the one call
// (no buffer reuse), written once over a Runner like the jobs in jobs.ts, so it runs on the CPU
// and on a device alike. On a device each value is read back after the step (a round trip per
// node: tracing is not fast).

import type { TrainGraph } from '../compile/program.js';
import { GraphErrors, type SourceLoc } from '../errors.js';
import type { TypedArray } from '../ir/types.js';
import { countBuild } from '../stats.js';
import { firstNonFinite, nonFiniteError, StepGuard } from '../train/numeric.js';
import type { Job, JobContext, LoopHooks } from './jobs.js';
import { isPending, type Pending, type RowSource } from './runner.js';
import { trainingClock, type Weights } from './state.js';

/** A training step with every node's value kept. */
export type Traced = { train: TrainGraph; values: Map<string, TypedArray> };
type Replay = (start: number, count: number) => Traced;

function* wait<T>(v: Pending<T>): Job<T> {
  return isPending(v) ? ((yield v) as T) : v;
}

/** A runner that can build a plan that is not cached (every value kept: no buffer reuse). */
interface Compiles<H> {
  compile(spec: { graph: TrainGraph['built']['graph']; outputs: string[]; writebacks: TrainGraph['writebacks'] }): H;
}

/**
 * One training step on rows [start, start + count) of `src` keeping every value: the step's
 * graph and each node's value as the step computed it (parameters and optimizer state as it
 * read them, before the update is written back). The update is applied all the same.
 */
export function* tracedStep<H>(
  c: JobContext<H>,
  start: number,
  count: number,
  src: RowSource,
): Job<{ train: TrainGraph; values: Map<string, TypedArray> }> {
  const train = c.program.train(count);
  const g = train.built.graph;
  countBuild(`plan traced batch ${count}`);
  const runner = c.runner as JobContext<H>['runner'] & Compiles<H>;
  const run = runner.compile({ graph: g, outputs: g.order, writebacks: train.writebacks });
  runner.feedRows(run, start, count, src, trainingClock(c.clock));
  // The values the step reads, from the host (a device brings its own back first).
  yield* wait(runner.toHost());
  const before = new Map<string, TypedArray>();
  for (const [name, buf] of c.weights.bound) before.set(name, buf.slice());
  yield* wait(runner.execute(run));
  const values = new Map<string, TypedArray>();
  for (const name of g.order) {
    const v = before.get(name) ?? (yield* wait(runner.read(run, name))).slice();
    values.set(name, v);
  }
  return { train, values };
}

/** Where a rejected step was: its epoch, its batch (k of steps), its rows and its loss. */
export interface BadStep {
  epoch: number;
  k: number;
  steps: number;
  start: number;
  count: number;
  loss: number;
}

/**
 * A step left a NaN or an infinity: put back the values from before it, replay it with every
 * node kept, and fail naming the first node that produced a non-finite value.
 */
export function diagnose(guard: StepGuard, at: BadStep, replay: Replay, fallback: SourceLoc): never {
  guard.restore();
  const { train, values } = replay(at.start, at.count);
  // The replay applied the update again; training stops with the values from before the step.
  guard.restore();
  const g = train.built.graph;
  throw new GraphErrors([
    nonFiniteError(g, firstNonFinite(g, values), values, at.epoch, at.k, at.steps, at.loss, fallback),
  ]);
}

/**
 * The CPU training loop's hooks: every step's loss read, and with `weights` (checkFinite) the
 * values saved before each step and a step that leaves a NaN or an infinity diagnosed.
 */
export function cpuHooks(weights: Weights | null, replay: Replay, loc: SourceLoc): LoopHooks {
  const hooks: LoopHooks = { readLoss: true, checkLogged: false, where: 'cpu' };
  if (!weights) return hooks;
  const guard = new StepGuard(weights.bound);
  hooks.beforeStep = () => guard.save();
  hooks.stepOk = (loss) => guard.ok(loss);
  hooks.badStep = (at) => diagnose(guard, at, replay, loc);
  return hooks;
}
