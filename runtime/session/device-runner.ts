// The device runner: placed plans on WebGPU (or split between WebGPU and the CPU) through a
// DeviceRuntime; executing and reading return promises. Plans are built once per (graph kind,
// batch size) and kept, as on the CPU.

import type { Program } from '../compile/program.js';
import type { DeviceRun, DeviceRuntime } from './device-runtime.js';
import type { TypedArray } from '../ir/types.js';
import { countBuild } from '../stats.js';
import type { Column } from '../data/index.js';
import { fedInputs, planSpec, type PlanKind, type PlanSpec, type Prepared, type Runner } from './runner.js';
import type { Clock, TrainingData } from './state.js';

export class DeviceRunner implements Runner<DeviceRun> {
  readonly kind = 'device' as const;
  /** Plans by graph kind, then batch size. */
  private readonly runs: Record<PlanKind, Map<number, Prepared<DeviceRun>>> = {
    train: new Map(),
    eval: new Map(),
    forward: new Map(),
    gradient: new Map(),
  };

  constructor(
    readonly dev: DeviceRuntime,
    private readonly program: Program,
    private readonly data: TrainingData,
  ) {}

  prepare(kind: PlanKind, batch: number): Prepared<DeviceRun> {
    const byBatch = this.runs[kind];
    let r = byBatch.get(batch);
    if (!r) {
      const spec = planSpec(this.program, kind, batch);
      countBuild(`plan ${kind} batch ${batch}`);
      r = { run: this.compile(spec), spec };
      byBatch.set(batch, r);
    }
    return r;
  }

  compile(spec: PlanSpec): DeviceRun {
    return this.dev.compile(spec.graph, spec.outputs, spec.writebacks, fedInputs(this.program));
  }

  feedRows(run: DeviceRun, start: number, count: number, cols: Map<string, Column> | null, clock: Clock): void {
    this.dev.feedRows(run, start, count, cols ? null : this.data.order, cols ?? this.data.columns, clock);
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

  toHost(): Promise<void> {
    return this.dev.toHost();
  }

  dispose(): void {
    for (const m of Object.values(this.runs)) m.clear();
  }
}
