// The traced training step (for `trace`): one step with every node's value kept, written once
// over a Runner like the jobs in jobs.ts, so it runs on the CPU and on a device alike. On a
// device each value is read back after the step (a round trip per node: tracing is not fast).

import type { TrainGraph } from '../compile/program.js';
import type { TypedArray } from '../ir/types.js';
import { countBuild } from '../stats.js';
import type { Job, JobContext } from './jobs.js';
import { isPending, type Pending } from './runner.js';

function* wait<T>(v: Pending<T>): Job<T> {
  return isPending(v) ? ((yield v) as T) : v;
}

/** A runner that can build a plan that is not cached (every value kept: no buffer reuse). */
interface Compiles<H> {
  compile(spec: { graph: TrainGraph['built']['graph']; outputs: string[]; writebacks: TrainGraph['writebacks'] }): H;
}

/**
 * One training step on rows [start, start + count) keeping every value: the step's graph and
 * each node's value as the step computed it (parameters and optimizer state as it read them,
 * before the update is written back). The update is applied all the same.
 */
export function* tracedStep<H>(
  c: JobContext<H>,
  start: number,
  count: number,
): Job<{ train: TrainGraph; values: Map<string, TypedArray> }> {
  const train = c.program.train(count);
  const g = train.built.graph;
  countBuild(`plan traced batch ${count}`);
  const runner = c.runner as JobContext<H>['runner'] & Compiles<H>;
  const run = runner.compile({ graph: g, outputs: g.order, writebacks: train.writebacks });
  runner.feedRows(run, start, count, null, c.clock);
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
