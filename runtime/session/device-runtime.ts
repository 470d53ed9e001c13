// The part of a Session that runs plans on WebGPU (or places some nodes there): placed plans,
// parameters and optimizer state resident on the device between steps, input feeding by
// queue writes, and asynchronous reads of only what is asked for. A placement manager over
// the executors, so it lives with the session (session/device-runner.ts drives it), not in
// executors/. A CPU-only Session never creates one.

import type { IRGraph } from '../ir/graph.js';
import type { DType, FloatDType, TypedArray } from '../ir/types.js';
import { sizeOf } from '../ir/types.js';
import {
  buildPlacedPlan,
  explainPlacement,
  place,
  type DeviceKind,
  type DeviceRequest,
  type PlacedPlan,
  type Placement,
} from '../scheduler/placement.js';
import type { InputDecl } from '../load/model.js';
import type { Column } from '../data/index.js';
import { CpuExecutor } from '../executors/cpu/cpu.js';
import { DeviceError, type Executor } from '../executors/executor.js';
import type { WebGpuExecutor } from '../executors/webgpu/webgpu.js';
import type { GpuBuffer } from '../executors/webgpu/handles.js';

export interface DeviceRuntimeOptions {
  /** The graph's device. */
  device: DeviceKind;
  float: FloatDType;
  gpu: WebGpuExecutor | null;
  /** Destroy `gpu` on dispose (the session acquired it). */
  ownsGpu: boolean;
  strict: boolean;
  requests: Map<string, DeviceRequest>;
}

/** A compiled run: its placed plan and where its inputs go. */
export interface DeviceRun {
  graph: IRGraph;
  plan: PlacedPlan<unknown>;
  placement: Placement;
  order: string[];
  inputs: { name: string; buf: unknown; staging: Float32Array | Float64Array | Int32Array | null }[];
  /** Inputs the runtime feeds (`__epoch`, `__step`), with a one-element array to write from. */
  runtime: { buf: unknown; kind: 'epoch' | 'step'; dtype: DType; value?: Values }[];
}

type Values = Float32Array | Float64Array | Int32Array;

/** Where fed values go: a buffer of the main device and the values (typed as its buffer is). */
export type FeedSink = (buf: unknown, values: Values) => void;

export class DeviceRuntime {
  readonly cpu = new CpuExecutor();
  /** Where inputs, parameters and state live: WebGPU unless the graph is f64 or asks for the CPU. */
  readonly main: DeviceKind;
  /** Parameters and state on the main device (the host arrays themselves when main is the CPU). */
  private readonly bound = new Map<string, unknown>();
  /** Whether the device holds the parameters, and whether its copies are newer than the host's. */
  private uploaded = false;
  private dirty = false;
  /** Data columns as typed arrays (queue writes take those), converted once. */
  private readonly typed = new WeakMap<Column, Values>();

  constructor(
    private readonly host: Map<string, TypedArray>,
    private readonly opts: DeviceRuntimeOptions,
  ) {
    this.main = opts.device === 'webgpu' && opts.float === 'f32' ? 'webgpu' : 'cpu';
    for (const [name, buf] of host)
      this.bound.set(name, this.main === 'cpu' ? buf : this.gpu.allocate('f32', buf.length));
  }

  private get gpu(): WebGpuExecutor {
    if (!this.opts.gpu) throw new DeviceError('NoAdapter', 'no WebGPU device was acquired');
    return this.opts.gpu;
  }

  /** The adapter in use, or null. */
  get description(): string | null {
    return this.opts.gpu?.description ?? null;
  }

  /** Place `g`'s nodes and build the plan; nothing runs yet, so limit and strictness errors come first. */
  compile(g: IRGraph, outputs: string[], writebacks: { from: string; to: string }[], inputs: InputDecl[]): DeviceRun {
    const order = g.ancestors([...outputs, ...writebacks.map((w) => w.from)]);
    const placement = place(g, order, {
      device: this.opts.device,
      main: this.main,
      requests: this.opts.requests,
      gpu: this.opts.gpu
        ? { maxBindingBytes: this.opts.gpu.limits.maxBindingBytes, maxBuffers: this.opts.gpu.limits.maxBuffers }
        : null,
      strict: this.opts.strict,
    });
    const execs = this.opts.gpu ? { cpu: this.cpu, webgpu: this.opts.gpu } : { cpu: this.cpu };
    const plan = buildPlacedPlan(g, placement, execs, { outputs, bound: this.bound, writebacks });
    const run: DeviceRun = { graph: g, plan, placement, order, inputs: [], runtime: [] };
    for (const i of inputs) {
      const buf = plan.buffers.get(i.name);
      if (buf === undefined) continue; // not needed by this plan
      if (i.provided) run.runtime.push({ buf, kind: i.provided, dtype: g.node(i.name).type.dtype });
      else run.inputs.push({ name: i.name, buf, staging: null });
    }
    return run;
  }

  /** The main device's executor (buffers in plan.buffers and `bound` belong to it). */
  private exec(): Executor<unknown> {
    return (this.main === 'webgpu' ? this.gpu : this.cpu) as Executor<unknown>;
  }

  private values(col: Column): Values {
    let v = this.typed.get(col);
    if (!v) {
      // Columns are typed in the session's dtype already; WebGPU buffers hold f32 (or i32).
      const want = this.main === 'cpu' && this.opts.float === 'f64' ? Float64Array : Float32Array;
      v = col.values instanceof want || col.values instanceof Int32Array ? col.values : want.from(col.values);
      this.typed.set(col, v);
    }
    return v;
  }

  /**
   * Write rows [start, start + count) of `cols` into the run's inputs, in `order` (a shuffled
   * epoch) or in data order, and the clock into the runtime inputs. `sink` takes each input's
   * values (a queue write unless given: a held chunk of steps stages them, step-chunks.ts).
   */
  feedRows(
    run: DeviceRun,
    start: number,
    count: number,
    order: Int32Array | null,
    cols: Map<string, Column> | null,
    clock: { epoch: number; step: number },
    sink: FeedSink = this.write,
  ): void {
    for (const input of run.inputs) {
      const col = cols?.get(input.name);
      if (!col) continue;
      const v = this.values(col);
      if (!col.batched) {
        sink(input.buf, v);
        continue;
      }
      const rs = col.rowSize;
      if (!order) {
        sink(input.buf, v.subarray(start * rs, (start + count) * rs));
        continue;
      }
      // Shuffled rows are gathered on the host into one buffer per input, then written at once.
      if (!input.staging || input.staging.length !== count * rs)
        input.staging = new (v.constructor as new (n: number) => Values)(count * rs);
      const st = input.staging;
      for (let r = 0; r < count; r++) st.set(v.subarray(order[start + r]! * rs, (order[start + r]! + 1) * rs), r * rs);
      sink(input.buf, st);
    }
    this.feedClock(run, clock, sink);
  }

  /** The clock into the runtime's inputs (`__step`, `__epoch`). */
  feedClock(run: DeviceRun, clock: { epoch: number; step: number }, sink: FeedSink = this.write): void {
    for (const r of run.runtime) {
      const v = r.kind === 'step' ? clock.step : clock.epoch;
      r.value ??= new (r.dtype === 'i32' ? Int32Array : r.dtype === 'f64' ? Float64Array : Float32Array)(1);
      r.value[0] = v;
      sink(r.buf, r.value);
    }
  }

  /** A queue write to the main device (the default sink). */
  private readonly write: FeedSink = (buf, v) => this.exec().write(buf, v);

  /** Write given values (flat, row-major) into the run's inputs. */
  feed(run: DeviceRun, values: Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>): void {
    const entries = values instanceof Map ? [...values] : Object.entries(values);
    for (const [name, v] of entries) {
      const buf = run.plan.buffers.get(name);
      if (buf !== undefined) this.exec().write(buf, v);
    }
  }

  /** Parameters to the device (when the host arrays are newer). */
  toDevice(): void {
    if (this.main !== 'webgpu' || this.uploaded) return;
    for (const [name, buf] of this.host) this.gpu.write(this.bound.get(name) as GpuBuffer, buf);
    this.uploaded = true;
  }

  /** The host arrays may have been changed (a checkpoint loaded): upload them before the next run, unless the device's are newer. */
  hostChanged(): void {
    if (!this.dirty) this.uploaded = false;
  }

  /** Parameters back to the host arrays (when the device copies are newer). */
  async toHost(): Promise<void> {
    if (this.main !== 'webgpu' || !this.dirty) return;
    const names = [...this.host.keys()];
    const data = await Promise.all(
      names.map((n) => this.gpu.read(this.bound.get(n) as GpuBuffer, 'f32', this.host.get(n)!.length)),
    );
    names.forEach((n, i) => {
      this.host.get(n)!.set(data[i]!);
    });
    this.dirty = false;
  }

  /** The synchronous methods run CPU plans only: a session with WebGPU nodes is driven by the async ones. */
  requireSync(what: string): never {
    throw new DeviceError(
      'KernelError',
      `${what}() is synchronous, and this session runs nodes on WebGPU: use ${what}Async()`,
    );
  }

  /** The device copies are gone (a lost device): the host arrays, untouched since the last sync, are current. */
  abandonDevice(): void {
    this.dirty = false;
    this.uploaded = false;
  }

  /**
   * Synchronous methods and tools read the host arrays: they must not be behind the device's.
   * `alt` names the asynchronous form to suggest (none for a tool without one).
   */
  requireHost(what: string, alt: string | null = `${what}Async()`): void {
    if (this.dirty) {
      throw new DeviceError(
        'KernelError',
        `${what}() reads parameters on the host, but they were last updated on the GPU: ${alt ? `use ${alt}, or ` : ''}await syncParameters() first`,
      );
    }
  }

  /** Run the plan: encodes and submits (WebGPU) or computes (CPU); mixed plans await their hand-overs. */
  async execute(run: DeviceRun): Promise<void> {
    this.toDevice();
    // Updates on a CPU main device write the host arrays themselves: nothing to bring back.
    if (run.plan.updates && this.main === 'webgpu') this.dirty = true;
    await run.plan.run();
  }

  /** Run a single-device plan now (WebGPU: records it, submitting unless the executor holds). */
  executeNow(run: DeviceRun): void {
    this.toDevice();
    if (run.plan.updates && this.main === 'webgpu') this.dirty = true;
    void run.plan.run();
  }

  /** The WebGPU executor when it is the main device, else null. */
  get mainGpu(): WebGpuExecutor | null {
    return this.main === 'webgpu' ? this.gpu : null;
  }

  /** A value the plan kept readable, as a typed array on the host. */
  async read(run: DeviceRun, name: string): Promise<TypedArray> {
    const t = run.graph.node(name).type;
    const kept = run.plan.kept?.(name);
    if (kept) return (this.cpu as Executor<unknown>).read(kept.buf, t.dtype, sizeOf(t.shape));
    const buf = run.plan.buffer(name);
    return this.exec().read(buf, t.dtype, sizeOf(t.shape));
  }

  /** Waits for the GPU to finish what was submitted (for timing) and surfaces kernel errors. */
  async finish(): Promise<void> {
    if (this.opts.gpu) {
      await this.opts.gpu.ready();
      await this.opts.gpu.finish();
    }
  }

  /** Where each node of the run runs, and why. */
  explain(run: DeviceRun, header?: string): string {
    return explainPlacement(run.graph, run.placement, run.order, run.plan.transfers, header);
  }

  get lost(): boolean {
    return this.opts.gpu?.lost != null;
  }

  dispose(): void {
    if (this.opts.ownsGpu) this.opts.gpu?.dispose();
  }
}
