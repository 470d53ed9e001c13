// The CPU runner: plans over TypedArray buffers, parameters bound in place, everything
// synchronous. Plans are built once per (graph kind, batch size) and kept.

import type { Program } from '../compile/program.js';
import type { CpuExecutor } from '../executors/cpu/cpu.js';
import type { TypedArray } from '../ir/types.js';
import { buildPlan, type Plan } from '../scheduler/plan.js';
import type { Column } from '../data/index.js';
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

export interface CpuRun {
  plan: Plan<TypedArray>;
  /** The inputs data feeds, and the column last written into an input without a batch axis. */
  inputs: { buf: TypedArray; name: string; last: Column | undefined }[];
  /** Buffers of the inputs the runtime feeds (`__step`, `__epoch`). */
  runtime: { buf: TypedArray; kind: 'epoch' | 'step' }[];
  /** The first requested output (a training step's loss) and its buffer, read after every step. */
  first: string | undefined;
  firstBuf: TypedArray | undefined;
}

export class CpuRunner implements Runner<CpuRun> {
  readonly kind = 'cpu' as const;
  private readonly plans: PlanCache<CpuRun>;

  constructor(
    readonly exec: CpuExecutor,
    private readonly program: Program,
    private readonly bound: Map<string, TypedArray>,
  ) {
    this.plans = new PlanCache(program, (spec) => this.compile(spec));
  }

  prepare(kind: PlanKind, batch: number): Prepared<CpuRun> {
    return this.plans.get(kind, batch);
  }

  /** A plan not kept (trace's replay keeps every value: no buffer reuse). */
  compile(spec: PlanSpec): CpuRun {
    const plan = buildPlan(spec.graph, this.exec, {
      outputs: spec.outputs,
      bound: this.bound,
      writebacks: spec.writebacks,
    });
    const inputs: CpuRun['inputs'] = [];
    const runtime: CpuRun['runtime'] = [];
    for (const i of fedInputs(this.program)) {
      const buf = plan.buffers.get(i.name);
      if (!buf) continue; // not needed by this plan
      if (i.provided) {
        runtime.push({ buf, kind: i.provided });
        continue;
      }
      // The training column is looked up when rows are fed: a plan that is only fed values
      // (a prediction, a feed) reads no data.
      inputs.push({ buf, name: i.name, last: undefined });
    }
    const first = spec.outputs[0];
    return { plan, inputs, runtime, first, firstBuf: first === undefined ? undefined : plan.buffers.get(first) };
  }

  feedRows(run: CpuRun, start: number, count: number, src: RowSource, clock: Clock): void {
    const order = src.order;
    for (const input of run.inputs) {
      const col = src.columns?.get(input.name);
      if (!col) continue;
      const v = col.values;
      if (!col.batched) {
        // A value without a batch axis is the same for every batch: written when its data changes.
        if (input.last !== col) input.buf.set(v);
        input.last = col;
        continue;
      }
      const { buf } = input;
      const rowSize = col.rowSize;
      if (order) {
        for (let r = 0; r < count; r++) {
          const off = order[start + r]! * rowSize,
            dst = r * rowSize;
          for (let j = 0; j < rowSize; j++) buf[dst + j] = v[off + j]!;
        }
        continue;
      }
      const off = start * rowSize;
      const n = count * rowSize;
      // Rows in data order are one contiguous run: one copy (converting when the dtypes differ).
      // A short run (the tutorial's one-sample steps) is copied in a loop: a subarray view would
      // be an allocation per step, costing more than the copy.
      if (n > 64) buf.set(v.subarray(off, off + n));
      else for (let j = 0; j < n; j++) buf[j] = v[off + j]!;
    }
    for (const { buf, kind } of run.runtime) buf[0] = kind === 'step' ? clock.step : clock.epoch;
  }

  feed(run: CpuRun, values: Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>, clock?: Clock): void {
    const entries = values instanceof Map ? values.entries() : Object.entries(values);
    for (const [name, v] of entries) run.plan.buffers.get(name)?.set(v);
    if (clock) for (const { buf, kind } of run.runtime) buf[0] = kind === 'step' ? clock.step : clock.epoch;
  }

  execute(run: CpuRun): void {
    run.plan.run();
  }

  read(run: CpuRun, name: string): TypedArray {
    // The loss after every training step: its buffer found once, when the plan was made.
    if (name === run.first && run.firstBuf) return run.firstBuf;
    return run.plan.buffer(name);
  }

  toHost(): void {}

  dispose(): void {
    this.plans.clear();
  }
}
