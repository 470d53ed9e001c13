// The device runner: placed plans on WebGPU (or split between WebGPU and the CPU) through a
// DeviceRuntime; executing and reading return promises. Plans are built once per (graph kind,
// batch size) and kept, as on the CPU.

import type { Program } from '../compile/program.js';
import type { DeviceRun, DeviceRuntime } from './device-runtime.js';
import type { TypedArray } from '../ir/types.js';
import { countBuild } from '../stats.js';
import type { Column } from '../train/data.js';
import { fedInputs, planSpec, type PlanKind, type PlanSpec, type Prepared, type Runner } from './runner.js';
import type { Clock, TrainingData } from './state.js';

export class DeviceRunner implements Runner<DeviceRun> {
  readonly kind = 'device' as const;
  private readonly runs = new Map<string, Prepared<DeviceRun>>();

  constructor(
    readonly dev: DeviceRuntime,
    private readonly program: Program,
    private readonly data: TrainingData,
  ) {}

  prepare(kind: PlanKind, batch: number): Prepared<DeviceRun> {
    const key = `${kind} batch ${batch}`;
    let r = this.runs.get(key);
    if (!r) {
      const spec = planSpec(this.program, kind, batch);
      countBuild(`plan ${key}`);
      r = { run: this.compile(spec), spec };
      this.runs.set(key, r);
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
    this.runs.clear();
  }
}
