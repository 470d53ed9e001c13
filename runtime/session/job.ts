// What a session's jobs are: generators over a Runner that yield the promises they wait for
// (a device read) and return their result; runSync drives one that never waits (every CPU
// job), runAsync awaits what it yields.

import { GraphErrors, type GraphError } from '../errors.js';
import type { Program } from '../compile/program.js';
import { isPending, type Pending, type Runner } from './runner.js';
import type { Clock, TrainingData, Weights } from './state.js';

/** A job: yields the promises it waits for, returns its result. */
export type Job<T> = Generator<Promise<unknown>, T, unknown>;

export interface JobContext<H> {
  program: Program;
  runner: Runner<H>;
  weights: Weights;
  data: TrainingData;
  clock: Clock;
}

export function fail(errors: GraphError[]): never {
  throw new GraphErrors(errors);
}

/** Drive a job that never waits (every CPU job). */
export function runSync<T>(job: Job<T>): T {
  const r = job.next();
  if (!r.done) throw new Error('a synchronous job waited for a device');
  return r.value;
}

/** Drive a job, awaiting what it yields. */
export async function runAsync<T>(job: Job<T>): Promise<T> {
  let r = job.next();
  while (!r.done) {
    let v: unknown;
    try {
      v = await r.value;
    } catch (e) {
      r = job.throw(e);
      continue;
    }
    r = job.next(v);
  }
  return r.value;
}

/** The value of `v`, waiting (yielding) only when it is a promise. */
export function* wait<T>(v: Pending<T>): Job<T> {
  return isPending(v) ? ((yield v) as T) : v;
}
