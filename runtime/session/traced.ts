// A training step that keeps every value readable (trace, and the CPU's diagnosis of a step
// that left a NaN or an infinity): a plan built for the one call, without buffer reuse.

import type { Program, TrainGraph } from '../compile/program.js';
import { GraphErrors, type SourceLoc } from '../errors.js';
import type { TypedArray } from '../ir/types.js';
import { countBuild } from '../stats.js';
import { firstNonFinite, nonFiniteError, StepGuard } from '../train/numeric.js';
import type { LoopHooks } from './jobs.js';
import type { CpuRunner } from './cpu-runner.js';
import type { RowSource } from './runner.js';
import type { Clock, Weights } from './state.js';

type Replay = (start: number, count: number) => { train: TrainGraph; values: Map<string, TypedArray> };

/** One training step on rows [start, start + count) of `src`, every node's value kept; the update is applied. */
export function tracedStep(
  cpu: CpuRunner,
  program: Program,
  weights: Weights,
  clock: Clock,
  start: number,
  count: number,
  src: RowSource,
): { train: TrainGraph; values: Map<string, TypedArray> } {
  const train = program.train(count);
  const g = train.built.graph;
  countBuild(`plan traced batch ${count}`);
  const run = cpu.compile({ graph: g, outputs: g.order, writebacks: train.writebacks });
  cpu.feedRows(run, start, count, src, clock);
  const read = new Map<string, TypedArray>();
  for (const [name, buf] of weights.bound) read.set(name, buf.slice());
  run.plan.run();
  const values = new Map<string, TypedArray>();
  for (const name of g.order) values.set(name, read.get(name) ?? run.plan.buffer(name).slice());
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
