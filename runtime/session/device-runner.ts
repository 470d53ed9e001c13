// The device runner: placed plans on WebGPU (or split between WebGPU and the CPU) through a
// DeviceRuntime; executing and reading return promises. Plans are built once per (graph kind,
// batch size) and kept, as on the CPU.

import type { Program } from '../compile/program.js';
import type { DeviceRun, DeviceRuntime } from './device-runtime.js';
import type { TypedArray } from '../ir/types.js';
import {
  fedInputs,
  PlanCache,
  type PlanKind,
  type PlanSpec,
  type Prepared,
  type RowSource,
  type Runner,
} from './runner.js';
import type { Clock } from './state.js';
import type { Job, JobContext } from './job.js';
import type { LoopHooks, TrainSettings } from './jobs.js';
import type { LossRecord, TrainOptions } from './types.js';
import { trainOnDevice } from './train-chunked.js';

export class DeviceRunner implements Runner<DeviceRun> {
  readonly kind = 'device' as const;
  private readonly plans: PlanCache<DeviceRun>;

  constructor(
    readonly dev: DeviceRuntime,
    private readonly program: Program,
  ) {
    this.plans = new PlanCache(program, (spec) => this.compile(spec));
  }

  prepare(kind: PlanKind, batch: number): Prepared<DeviceRun> {
    return this.plans.get(kind, batch);
  }

  compile(spec: PlanSpec): DeviceRun {
    return this.dev.compile(spec.graph, spec.outputs, spec.writebacks, fedInputs(this.program));
  }

  feedRows(run: DeviceRun, start: number, count: number, src: RowSource, clock: Clock): void {
    this.dev.feedRows(run, start, count, src.order, src.columns, clock);
  }

  feed(
    run: DeviceRun,
    values: Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>,
    clock?: Clock,
  ): void {
    this.dev.feed(run, values);
    if (clock) this.dev.feedClock(run, clock);
  }

  execute(run: DeviceRun): Promise<void> {
    return this.dev.execute(run);
  }

  read(run: DeviceRun, name: string): Promise<TypedArray> {
    return this.dev.read(run, name);
  }

  /** The training loop here: many steps per WebGPU submission where nothing needs the host between them (train-chunked.ts). */
  train(c: JobContext<unknown>, opts: TrainOptions, hooks: LoopHooks, t: TrainSettings): Job<LossRecord[]> {
    return trainOnDevice(c, this.dev, opts, hooks, t);
  }

  toHost(): Promise<void> {
    return this.dev.toHost();
  }

  dispose(): void {
    this.plans.clear();
  }
}
