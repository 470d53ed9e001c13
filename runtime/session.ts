// A Session holds one model's parameters and optimizer state for one float dtype and runs
// compiled plans over them: training steps (forward + loss + reverse graph + optimizer),
// whole-data loss evaluation, predictions and gradient queries. Plans are built once per
// batch size and cached; parameters never leave their buffers.

import { buildReverse } from './autodiff/reverse.js';
import { bindDims, buildGraph, type Built } from './ir/build.js';
import type { IRGraph } from './ir/graph.js';
import { DataError, GraphErrors, ShapeError, type GraphError } from './errors.js';
import { CpuExecutor } from './executors/cpu/cpu.js';
import { DeviceError } from './executors/executor.js';
import { DeviceRuntime, type DeviceRun } from './executors/webgpu/runtime.js';
import type { WebGpuExecutor } from './executors/webgpu/webgpu.js';
import { deviceRequests, explainPlacement, place, type DeviceChoice } from './scheduler/placement.js';
import { sizeOf, type FloatDType, type Tensor, type TypedArray } from './ir/types.js';
import type { InputDecl, Model } from './load/model.js';
import { buildPlan, type Plan } from './scheduler/plan.js';
import { feedValues, rowCount, trainingSets, type Column } from './train/data.js';
import { addUpdates } from './train/updates.js';
import { accuracy } from './train/metrics.js';
import { firstNonFinite, nonFiniteError, StepGuard } from './train/numeric.js';
import { shuffledOrder } from './ops/random.js';
import { initialValues } from './train/init.js';

export interface SessionOptions {
  /** Float dtype for inputs and parameters declared `float`: f32 (default) or f64. */
  dtype?: FloatDType;
  /** Where nodes run: cpu, webgpu or auto (docs/webgpu.md); default the graph's `device:`, else cpu. */
  device?: DeviceChoice;
  /** Make any fallback from WebGPU to the CPU an error. */
  strictDevice?: boolean;
  /** A WebGPU executor to run on (Session.create acquires one); disposed with the session only if `ownGpu`. */
  gpu?: WebGpuExecutor;
  ownGpu?: boolean;
  /** CPU: use the fast kernels (WebAssembly SIMD matmul, fused elementwise loops); default true. */
  fast?: boolean;
}

export interface LossRecord {
  epoch: number;
  /** Mean loss over the training data after the epoch. */
  loss: number;
  /** With `training.accuracy`: the fraction of training samples classified right. */
  accuracy?: number;
  /** With `training.validation`: loss (and accuracy) on the validation data. */
  val_loss?: number;
  val_accuracy?: number;
}

export interface TrainOptions {
  /** Train until this many epochs are done in all (default: the training section's). */
  epochs?: number;
  /** Epochs already done (a resumed checkpoint's position): training continues with epoch `from`. */
  from?: number;
  /** Called after each logged epoch. */
  onLog?: (r: LossRecord) => void;
  /** Stop with a NumericError at the first step that leaves a NaN or infinity (default true). */
  checkFinite?: boolean;
  /** Called after every optimizer step, with the batch's loss (for progress bars). */
  onStep?: (s: StepRecord) => void;
  /** Called at the end of every epoch, after logging (for periodic checkpoints). */
  onEpoch?: (epoch: number) => void;
}

/** One optimizer step: its epoch, its batch within the epoch (of `steps`), the batch loss. */
export interface StepRecord {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
}

/** The training-step graph for one batch size, as built (also what `graph-run grad` prints). */
export interface TrainGraph {
  built: Built;
  loss: string;
  grads: Map<string, string | null>;
  /** Forward value -> the reverse-graph node holding d loss / d value (see ReverseResult.totals). */
  totals: Map<string, string>;
  writebacks: { from: string; to: string }[];
}

interface CompiledRun {
  plan: Plan<TypedArray>;
  inputs: { buf: TypedArray; col: Column | undefined; rowSize: number }[];
  result: TypedArray | undefined;
  /** Buffers of the inputs the runtime feeds (`__step`, `__epoch`). */
  runtime: { buf: TypedArray; kind: 'epoch' | 'step' }[];
  /** The accuracy output's buffer (evaluation runs of a model with `training.accuracy`). */
  pred?: TypedArray;
}

function fail(errors: GraphError[]): never {
  throw new GraphErrors(errors);
}

export class Session {
  readonly float: FloatDType;
  readonly params = new Map<string, TypedArray>();
  readonly state = new Map<string, TypedArray>();
  private readonly exec: CpuExecutor;
  private readonly columns: Map<string, Column> | null;
  private readonly rows: number;
  /** Validation columns (a split of the training data, or their own data) and their rows. */
  private readonly valColumns: Map<string, Column> | null;
  private readonly valRows: number;
  /** Row order of the current epoch when shuffling (null: data order). */
  private order: Int32Array | null = null;
  /** What the runtime feeds to `__epoch` and `__step` (the 1-based global step) in training steps. */
  private readonly clock = { epoch: 0, step: 0 };
  private readonly trainRuns = new Map<number, CompiledRun>();
  private readonly evalRuns = new Map<number, CompiledRun>();
  private readonly bound = new Map<string, TypedArray>();
  /** Set when any node runs on WebGPU: then the async methods drive the session. */
  private readonly dev: DeviceRuntime | null = null;
  private readonly devRuns = new Map<string, { run: DeviceRun; result: string; pred?: string }>();
  /** Where this session runs, and what `auto` chose. */
  deviceNote = 'cpu';

  constructor(
    readonly model: Model,
    opts: SessionOptions = {},
  ) {
    this.exec = new CpuExecutor({ fast: opts.fast !== false });
    this.float = opts.dtype ?? 'f32';
    const errors: GraphError[] = [];
    const sets = trainingSets(model, errors);
    if (errors.length) fail(errors);
    this.columns = sets.train;
    this.rows = rowCount(this.columns);
    this.valColumns = sets.val;
    this.valRows = rowCount(this.valColumns);
    for (const p of model.params) {
      const buf = this.exec.allocate(this.float, sizeOf(p.shape));
      buf.set(initialValues(p, model.seed ?? 0));
      this.params.set(p.name, buf);
      this.bound.set(p.name, buf);
    }
    for (const u of model.updates) {
      for (const s of u.state) {
        const buf = this.exec.allocate(this.float, sizeOf(s.shape));
        buf.fill(s.init);
        this.state.set(s.name, buf);
        this.bound.set(s.name, buf);
      }
    }
    const choice = opts.device ?? model.device?.choice ?? 'cpu';
    const requests = deviceRequests(model);
    if (opts.gpu || choice === 'webgpu' || [...requests.values()].some((r) => r.device === 'webgpu')) {
      if (!opts.gpu)
        throw new DeviceError(
          'NoAdapter',
          'WebGPU is acquired asynchronously: create this session with `await Session.create(model, opts)` (compileAsync)',
          'or use device cpu',
        );
      const device = choice === 'cpu' ? 'cpu' : 'webgpu';
      this.dev = new DeviceRuntime(this.bound, {
        device,
        float: this.float,
        gpu: opts.gpu,
        ownsGpu: opts.ownGpu === true,
        strict: opts.strictDevice === true,
        requests,
      });
      const f64 = device === 'webgpu' && this.float === 'f64' ? '; f64 tensors stay on the CPU (WGSL has no f64)' : '';
      this.deviceNote = `${choice === 'auto' ? 'auto: ' : ''}${device} (${opts.gpu.description})${f64}`;
    } else if (choice === 'auto') this.deviceNote = 'auto: cpu (WebGPU is acquired asynchronously: use Session.create)';
  }

  /** Number of training samples (rows of the training data). */
  get samples(): number {
    return this.rows;
  }

  private build(batch: number, loss: boolean): Built {
    const built = buildGraph(this.model, { float: this.float, batch, loss });
    if (built.errors.length) fail(built.errors);
    return built;
  }

  private lossName(built: Built): string {
    const m = this.model;
    if (!m.loss)
      fail([
        new DataError(
          'this graph declares no loss',
          { file: m.file, line: 1, col: 1 },
          undefined,
          'add a `loss:` section to train',
        ),
      ]);
    const name = built.ref(m.loss.ref);
    const t = built.graph.node(name).type;
    if (t.shape.length !== 0) {
      fail([
        new ShapeError(
          `the loss must be a scalar, but has shape [${t.shape.join(', ')}]`,
          m.loss.loc,
          name,
          'reduce it, e.g. with op mean',
        ),
      ]);
    }
    return name;
  }

  /** Forward + loss + reverse graph + optimizer updates, for one batch size. */
  trainGraph(batch: number, withOptimizer = true): TrainGraph {
    const built = this.build(batch, true);
    const g = built.graph;
    const loss = this.lossName(built);
    const trainable = this.model.params.filter((p) => p.trainable).map((p) => p.name);
    const { grads, totals } = buildReverse(g, loss, trainable);
    let writebacks: TrainGraph['writebacks'] = [];
    if (withOptimizer) {
      const errors: GraphError[] = [];
      writebacks = addUpdates(built, this.model, grads, this.float, batch, errors);
      if (errors.length) fail(errors);
    }
    return { built, loss, grads, totals, writebacks };
  }

  private compile(
    g: IRGraph,
    outputs: string[],
    writebacks: { from: string; to: string }[],
    result?: string,
  ): CompiledRun {
    const plan = buildPlan(g, this.exec, { outputs, bound: this.bound, writebacks });
    const inputs: CompiledRun['inputs'] = [];
    const runtime: CompiledRun['runtime'] = [];
    for (const i of this.fedInputs) {
      const buf = plan.buffers.get(i.name);
      if (!buf) continue; // not needed by this plan
      if (i.provided) {
        runtime.push({ buf, kind: i.provided });
        continue;
      }
      const col = this.columns?.get(i.name);
      inputs.push({ buf, col, rowSize: col?.rowSize ?? 0 });
      if (col && !col.batched) buf.set(col.values);
    }
    return { plan, inputs, result: result === undefined ? undefined : plan.buffer(result), runtime };
  }

  private trainRun(batch: number): CompiledRun {
    let r = this.trainRuns.get(batch);
    if (!r) {
      const t = this.trainGraph(batch);
      r = this.compile(t.built.graph, [t.loss], t.writebacks, t.loss);
      this.trainRuns.set(batch, r);
    }
    return r;
  }

  private evalRun(batch: number): CompiledRun {
    let r = this.evalRuns.get(batch);
    if (!r) {
      const built = this.build(batch, true);
      const loss = this.lossName(built);
      const acc = this.model.training?.accuracy;
      const pred = acc ? built.ref(acc.pred) : undefined;
      r = this.compile(built.graph, pred === undefined ? [loss] : [loss, pred], [], loss);
      if (pred !== undefined) r.pred = r.plan.buffer(pred);
      this.evalRuns.set(batch, r);
    }
    return r;
  }

  /**
   * Write rows [start, start + count) into the run's input buffers: of the training data in the
   * current epoch's order by default, or of `cols` (validation data) in data order.
   */
  private feedRows(run: CompiledRun, start: number, count: number, cols?: Map<string, Column> | null): void {
    const order = cols ? null : this.order;
    for (const { buf, col: trainCol, rowSize } of run.inputs) {
      const col = cols ? cols.get(trainCol?.input.name ?? '') : trainCol;
      if (!col) continue;
      const v = col.values;
      if (!col.batched) {
        if (cols) buf.set(v);
        continue;
      }
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
      for (let j = 0; j < n; j++) buf[j] = v[off + j]!;
    }
    for (const { buf, kind } of run.runtime) buf[0] = kind === 'step' ? this.clock.step : this.clock.epoch;
  }

  /** One optimizer step on rows [start, start + count) of the training data; returns the batch loss. */
  step(start: number, count: number): number {
    this.dev?.requireSync('step');
    const run = this.trainRun(count);
    this.feedRows(run, start, count);
    run.plan.run();
    return run.result![0]!;
  }

  /**
   * One optimizer step on a batch given directly (flat row-major values per input), not taken
   * from the model's training data: for data loaded elsewhere and for benchmarks. Returns the loss.
   * @example session.stepOn(128, { x: images, y: oneHot })
   */
  stepOn(batch: number, values: Record<string, ArrayLike<number>>): number {
    this.dev?.requireSync('stepOn');
    const run = this.trainRun(batch);
    for (const name in values) run.plan.buffer(name).set(values[name]!);
    for (const { buf, kind } of run.runtime) buf[0] = kind === 'step' ? this.clock.step : this.clock.epoch;
    run.plan.run();
    return run.result![0]!;
  }

  /**
   * One training step on rows [start, start + count) of the training data that keeps every value
   * readable, for `trace`: the step's graph, and each node's value as the step computed it
   * (parameters and optimizer state as the step read them, before the update is written back).
   * Slower than step() (no buffer reuse, a plan built per call); the update is applied all the same.
   */
  tracedStep(start: number, count: number): { train: TrainGraph; values: Map<string, TypedArray> } {
    this.dev?.requireSync('tracedStep');
    const train = this.trainGraph(count);
    const g = train.built.graph;
    const run = this.compile(g, g.order, train.writebacks);
    this.feedRows(run, start, count);
    const read = new Map<string, TypedArray>();
    for (const [name, buf] of this.bound) read.set(name, buf.slice());
    run.plan.run();
    const values = new Map<string, TypedArray>();
    for (const name of g.order) values.set(name, read.get(name) ?? run.plan.buffer(name).slice());
    return { train, values };
  }

  /** Mean loss over the whole training set, with the current parameters. */
  evaluate(): number {
    return this.evaluateOn(null).loss;
  }

  /** Loss (and accuracy) over the training data (null) or the validation data, with dropout off. */
  private evaluateOn(cols: Map<string, Column> | null): { loss: number; accuracy?: number } {
    this.dev?.requireSync('evaluate');
    const rows = cols ? this.valRows : this.rows;
    const run = this.evalRun(rows);
    const saved = this.clock.step;
    // Step 0: not a training step, so dropout is the identity.
    this.clock.step = 0;
    this.feedRows(run, 0, rows, cols ?? this.columns);
    this.clock.step = saved;
    run.plan.run();
    const out: { loss: number; accuracy?: number } = { loss: run.result![0]! };
    const acc = this.model.training?.accuracy;
    const target = acc ? (cols ?? this.columns)?.get(acc.target) : undefined;
    if (acc && run.pred && target)
      out.accuracy = accuracy(run.pred, rows, run.pred.length / rows, target.values, acc.threshold);
    return out;
  }

  /** The metrics logged after an epoch: training loss and accuracy, and on validation data. */
  metrics(epoch: number): LossRecord {
    const r: LossRecord = { epoch, ...this.evaluateOn(null) };
    if (this.valColumns) {
      const v = this.evaluateOn(this.valColumns);
      r.val_loss = v.loss;
      if (v.accuracy !== undefined) r.val_accuracy = v.accuracy;
    }
    return r;
  }

  /** The training loop's fixed quantities, shared by train() and trainAsync(). */
  private schedule(opts: TrainOptions) {
    const t = this.model.training;
    if (!t) fail([new DataError('this graph has no training section', { file: this.model.file, line: 1, col: 1 })]);
    const bs = t.batchSize;
    return {
      t,
      epochs: opts.epochs ?? t.epochs,
      bs,
      // Steps per epoch: the step counter is a function of (epoch, batch), so a resumed run continues it.
      steps: Math.ceil(this.rows / bs),
      orderBuf: t.shuffle ? new Int32Array(this.rows) : null,
    };
  }

  /** Set the clock's epoch and this epoch's row order (seeded shuffle, or data order). */
  private beginEpoch(epoch: number, orderBuf: Int32Array<ArrayBuffer> | null): void {
    this.clock.epoch = epoch;
    this.order = orderBuf ? shuffledOrder(this.model.seed ?? 0, this.rows, epoch, orderBuf) : null;
  }

  /** Train as the model's `training` section says (epochs may be overridden). */
  train(opts: TrainOptions = {}): LossRecord[] {
    this.dev?.requireSync('train');
    const { t, epochs, bs, steps, orderBuf } = this.schedule(opts);
    const log: LossRecord[] = [];
    const guard = opts.checkFinite === false ? null : new StepGuard(this.bound);
    for (let epoch = opts.from ?? 0; epoch < epochs; epoch++) {
      this.beginEpoch(epoch, orderBuf);
      for (let s = 0, k = 0; s < this.rows; s += bs, k++) {
        const count = Math.min(bs, this.rows - s);
        this.clock.step = epoch * steps + k + 1;
        guard?.save();
        const loss = this.step(s, count);
        if (guard && !guard.ok(loss)) this.diagnose(guard, { epoch, k, steps, start: s, count, loss });
        opts.onStep?.({ epoch, step: k, steps, loss });
      }
      if (epoch % t.logEvery === 0) {
        const r = this.metrics(epoch);
        log.push(r);
        opts.onLog?.(r);
      }
      opts.onEpoch?.(epoch);
    }
    return log;
  }

  /**
   * A step left a NaN or an infinity: put back the values from before it, replay it with every
   * node kept, and fail naming the first node that produced a non-finite value.
   */
  private diagnose(
    guard: StepGuard,
    at: { epoch: number; k: number; steps: number; start: number; count: number; loss: number },
  ): never {
    guard.restore();
    const { train, values } = this.tracedStep(at.start, at.count);
    // The replay applied the update again; training stops with the values from before the step.
    guard.restore();
    const g = train.built.graph;
    fail([
      nonFiniteError(g, firstNonFinite(g, values), values, at.epoch, at.k, at.steps, at.loss, this.model.training!.loc),
    ]);
  }

  /** Run the forward graph on the given input values; returns every declared output. */
  run(values: Map<string, number[]>, batch: number): Record<string, Tensor> {
    this.dev?.requireSync('run');
    const built = this.build(batch, false);
    const outs = this.model.outputs.map((o) => ({ name: o.name, node: built.ref(o.ref) }));
    const plan = buildPlan(built.graph, this.exec, { outputs: outs.map((o) => o.node), bound: this.bound });
    for (const [name, v] of values) plan.buffers.get(name)?.set(v);
    plan.run();
    const res: Record<string, Tensor> = {};
    for (const o of outs) {
      const t = built.graph.node(o.node).type;
      res[o.name] = { shape: [...t.shape], dtype: t.dtype, data: plan.buffer(o.node).slice() };
    }
    return res;
  }

  /** The model's named predictions (`predict:`), with the current parameters. */
  predictions(): Record<string, Record<string, Tensor>> {
    const out: Record<string, Record<string, Tensor>> = {};
    for (const q of this.model.predict) {
      const errors: GraphError[] = [];
      const f = feedValues(this.model, q.feed, errors, `prediction "${q.name}"`, this.forwardInputs(), q.loc);
      if (!f) fail(errors);
      out[q.name] = this.run(f.values, f.batch);
    }
    return out;
  }

  /** Inputs the forward graph (the outputs) reads. */
  private forwardInputs(): Set<string> {
    const built = this.build(1, false);
    const needed = built.graph.ancestors(this.model.outputs.map((o) => built.ref(o.ref)));
    return new Set(needed.filter((n) => built.graph.node(n).op === 'input'));
  }

  /** The graph of `gradients:` (d of / d wrt at the feed), and its result nodes. */
  gradientGraph(): { built: Built; grads: Map<string, string | null>; batch: number; values: Map<string, number[]> } {
    const m = this.model;
    const req = m.gradients!;
    const errors: GraphError[] = [];
    if (!m.feed) fail([new DataError('gradients need input values: add a `feed:` section', req.loc)]);
    const f = feedValues(m, m.feed, errors, 'feed', undefined, req.loc);
    if (!f) fail(errors);
    const built = this.build(f.batch, true);
    const of = built.ref(req.of);
    const { grads } = buildReverse(
      built.graph,
      of,
      req.wrt.map((w) => w.ref),
    );
    return { built, grads, batch: f.batch, values: f.values };
  }

  /** d of / d wrt for the model's `gradients:` request, at its `feed`. */
  gradients(): Record<string, Tensor> {
    this.dev?.requireSync('gradients');
    const req = this.model.gradients;
    if (!req) return {};
    const { built, grads, values } = this.gradientGraph();
    const outputs = [...grads.values()].filter((g): g is string => g !== null);
    const plan = buildPlan(built.graph, this.exec, { outputs, bound: this.bound });
    for (const [name, v] of values) plan.buffers.get(name)?.set(v);
    plan.run();
    const res: Record<string, Tensor> = {};
    for (const w of req.wrt) {
      const g = grads.get(w.ref);
      const t = built.graph.node(w.ref).type;
      const data = g
        ? plan.buffer(g).slice()
        : new (this.float === 'f64' ? Float64Array : Float32Array)(sizeOf(t.shape));
      res[w.name] = { shape: [...t.shape], dtype: t.dtype, data };
    }
    return res;
  }

  /** Current parameter values (copies). */
  parameters(): Record<string, Tensor> {
    this.dev?.requireHost('parameters');
    const out: Record<string, Tensor> = {};
    for (const p of this.model.params)
      out[p.name] = { shape: [...p.shape], dtype: this.float, data: this.params.get(p.name)!.slice() };
    return out;
  }

  // ---- Any device (docs/webgpu.md): the jobs above, driven asynchronously because reading a
  // GPU buffer is. Without WebGPU they call the synchronous methods. ----

  /**
   * A session on the device the options (or the graph's `device:`) ask for, acquiring WebGPU
   * when needed; under `auto` a missing adapter means the CPU, said in `deviceNote`. Throws DeviceError.
   * @example const s = await Session.create(loadGraph('graphs/gender.yaml'), { device: 'webgpu' }); await s.trainAsync(); s.dispose();
   */
  static async create(model: Model, opts: SessionOptions = {}): Promise<Session> {
    const choice = opts.device ?? model.device?.choice ?? 'cpu';
    const nodeGpu = [...deviceRequests(model).values()].some((r) => r.device === 'webgpu');
    if (opts.gpu || (choice === 'cpu' && !nodeGpu)) return new Session(model, opts);
    const { WebGpuExecutor } = await import('./executors/webgpu/webgpu.js');
    let gpu: WebGpuExecutor;
    try {
      gpu = await WebGpuExecutor.create();
    } catch (e) {
      if (choice !== 'auto' || nodeGpu || !(e instanceof DeviceError)) throw e;
      const s = new Session(model, { ...opts, device: 'cpu' });
      s.deviceNote = `auto: cpu (${e.message})`;
      return s;
    }
    try {
      return new Session(model, { ...opts, gpu, ownGpu: true });
    } catch (e) {
      gpu.dispose();
      throw e;
    }
  }

  /** Every input a plan may read: the model's, then those the runtime feeds (`__step`, `__epoch`). */
  private get fedInputs(): InputDecl[] {
    return [...this.model.inputs, ...(this.model.runtime ?? [])];
  }

  /** The device whose memory holds parameters between steps. */
  get device(): 'cpu' | 'webgpu' {
    return this.dev?.main ?? 'cpu';
  }

  private devRun(
    key: string,
    make: () => { g: IRGraph; outputs: string[]; writebacks?: TrainGraph['writebacks']; result: string; pred?: string },
  ) {
    let r = this.devRuns.get(key);
    if (!r) {
      const m = make();
      const run = this.dev!.compile(m.g, m.outputs, m.writebacks ?? [], this.fedInputs);
      r = { run, result: m.result, ...(m.pred !== undefined ? { pred: m.pred } : {}) };
      this.devRuns.set(key, r);
    }
    return r;
  }

  private devTrainRun(batch: number) {
    return this.devRun(`train:${batch}`, () => {
      const t = this.trainGraph(batch);
      return { g: t.built.graph, outputs: [t.loss], writebacks: t.writebacks, result: t.loss };
    });
  }

  private devEvalRun(batch: number) {
    return this.devRun(`eval:${batch}`, () => {
      const built = this.build(batch, true);
      const loss = this.lossName(built);
      const acc = this.model.training?.accuracy;
      const pred = acc ? built.ref(acc.pred) : undefined;
      return {
        g: built.graph,
        outputs: pred === undefined ? [loss] : [loss, pred],
        result: loss,
        ...(pred !== undefined ? { pred } : {}),
      };
    });
  }

  /** step() on any device; resolves to the batch loss. */
  async stepAsync(start: number, count: number): Promise<number> {
    const dev = this.dev;
    if (!dev) return this.step(start, count);
    const r = this.devTrainRun(count);
    dev.feedRows(r.run, start, count, this.order, this.columns, this.clock);
    await dev.execute(r.run);
    return (await dev.read(r.run, r.result))[0]!;
  }

  /**
   * stepOn() on any device. With `read: false` the loss is not read back (resolves to NaN), so
   * steps queue on the GPU without a round trip each: what a benchmark or a silent loop wants.
   */
  async stepOnAsync(batch: number, values: Record<string, ArrayLike<number>>, read = true): Promise<number> {
    const dev = this.dev;
    if (!dev) return this.stepOn(batch, values);
    const r = this.devTrainRun(batch);
    dev.feed(r.run, values);
    await dev.execute(r.run);
    return read ? (await dev.read(r.run, r.result))[0]! : NaN;
  }

  /** Waits until the device has finished all submitted work (for timing); surfaces kernel errors. */
  async synchronize(): Promise<void> {
    await this.dev?.finish();
  }

  private async evaluateOnAsync(cols: Map<string, Column> | null): Promise<{ loss: number; accuracy?: number }> {
    const dev = this.dev!;
    const rows = cols ? this.valRows : this.rows;
    const r = this.devEvalRun(rows);
    // Step 0: not a training step, so dropout is the identity.
    dev.feedRows(r.run, 0, rows, null, cols ?? this.columns, { epoch: this.clock.epoch, step: 0 });
    await dev.execute(r.run);
    const out: { loss: number; accuracy?: number } = { loss: (await dev.read(r.run, r.result))[0]! };
    const acc = this.model.training?.accuracy;
    const target = acc ? (cols ?? this.columns)?.get(acc.target) : undefined;
    if (acc && r.pred !== undefined && target) {
      const pred = await dev.read(r.run, r.pred);
      out.accuracy = accuracy(pred, rows, pred.length / rows, target.values, acc.threshold);
    }
    return out;
  }

  /** evaluate() on any device. */
  async evaluateAsync(): Promise<number> {
    return this.dev ? (await this.evaluateOnAsync(null)).loss : this.evaluate();
  }

  /** metrics() on any device. */
  async metricsAsync(epoch: number): Promise<LossRecord> {
    if (!this.dev) return this.metrics(epoch);
    const r: LossRecord = { epoch, ...(await this.evaluateOnAsync(null)) };
    if (this.valColumns) {
      const v = await this.evaluateOnAsync(this.valColumns);
      r.val_loss = v.loss;
      if (v.accuracy !== undefined) r.val_accuracy = v.accuracy;
    }
    return r;
  }

  /**
   * train() on any device. On WebGPU every step is one submitted command buffer and nothing is
   * read back but the logged metrics (and step losses when `onStep` listens); parameters come
   * back to `params` at the end, and before each `onEpoch` call. The per-step finiteness check
   * (checkFinite) would need a read every step, so on WebGPU only logged losses are checked.
   * A lost device ends training with a DeviceError naming the last completed epoch.
   */
  async trainAsync(opts: TrainOptions = {}): Promise<LossRecord[]> {
    const dev = this.dev;
    if (!dev) return this.train(opts);
    const { t, epochs, bs, steps, orderBuf } = this.schedule(opts);
    const log: LossRecord[] = [];
    // The last epoch whose steps the GPU is known to have finished: a read after it came back.
    let done: number | null = null;
    dev.hostChanged();
    try {
      for (let epoch = opts.from ?? 0; epoch < epochs; epoch++) {
        this.beginEpoch(epoch, orderBuf);
        for (let s = 0, k = 0; s < this.rows; s += bs, k++) {
          const count = Math.min(bs, this.rows - s);
          this.clock.step = epoch * steps + k + 1;
          const r = this.devTrainRun(count);
          dev.feedRows(r.run, s, count, this.order, this.columns, this.clock);
          await dev.execute(r.run);
          if (opts.onStep) opts.onStep({ epoch, step: k, steps, loss: (await dev.read(r.run, r.result))[0]! });
        }
        if (epoch % t.logEvery === 0) {
          const r = await this.metricsAsync(epoch);
          done = epoch;
          if (opts.checkFinite !== false && !Number.isFinite(r.loss)) {
            fail([
              new DataError(
                `the loss is ${r.loss} after epoch ${epoch} (on ${this.device})`,
                t.loc,
                undefined,
                'lower the learning rate; --device cpu names the first node that produced a NaN or infinity',
              ),
            ]);
          }
          log.push(r);
          opts.onLog?.(r);
        }
        if (opts.onEpoch) {
          await dev.toHost();
          done = epoch;
          opts.onEpoch(epoch);
        }
      }
      await dev.toHost();
    } catch (e) {
      if (!dev.lost) throw e;
      // Nothing from the GPU is written back: the parameters stay as the last sync left them.
      dev.abandonDevice();
      throw new DeviceError(
        'DeviceLost',
        `the GPU device was lost during training; the last completed epoch is ${done ?? 'none'}`,
        'nothing was written; rerun, or resume from a checkpoint',
        undefined,
      );
    }
    return log;
  }

  /** run() on any device. */
  async runAsync(values: Map<string, number[]>, batch: number): Promise<Record<string, Tensor>> {
    const dev = this.dev;
    if (!dev) return this.run(values, batch);
    const built = this.build(batch, false);
    const outs = this.model.outputs.map((o) => ({ name: o.name, node: built.ref(o.ref) }));
    const run = dev.compile(
      built.graph,
      outs.map((o) => o.node),
      [],
      this.fedInputs,
    );
    dev.feed(run, values);
    await dev.execute(run);
    const res: Record<string, Tensor> = {};
    for (const o of outs) {
      const t = built.graph.node(o.node).type;
      res[o.name] = { shape: [...t.shape], dtype: t.dtype, data: await dev.read(run, o.node) };
    }
    return res;
  }

  /** predictions() on any device. */
  async predictionsAsync(): Promise<Record<string, Record<string, Tensor>>> {
    if (!this.dev) return this.predictions();
    const out: Record<string, Record<string, Tensor>> = {};
    for (const q of this.model.predict) {
      const errors: GraphError[] = [];
      const f = feedValues(this.model, q.feed, errors, `prediction "${q.name}"`, this.forwardInputs(), q.loc);
      if (!f) fail(errors);
      out[q.name] = await this.runAsync(f.values, f.batch);
    }
    return out;
  }

  /** gradients() on any device. */
  async gradientsAsync(): Promise<Record<string, Tensor>> {
    const dev = this.dev;
    const req = this.model.gradients;
    if (!dev || !req) return this.gradients();
    const { built, grads, values } = this.gradientGraph();
    const outputs = [...grads.values()].filter((g): g is string => g !== null);
    const run = dev.compile(built.graph, outputs, [], this.fedInputs);
    dev.feed(run, values);
    await dev.execute(run);
    const res: Record<string, Tensor> = {};
    for (const w of req.wrt) {
      const g = grads.get(w.ref);
      const t = built.graph.node(w.ref).type;
      const data = g
        ? await dev.read(run, g)
        : new (this.float === 'f64' ? Float64Array : Float32Array)(sizeOf(t.shape));
      res[w.name] = { shape: [...t.shape], dtype: t.dtype, data };
    }
    return res;
  }

  /** Bring parameters and optimizer state back from the device into `params` and `state`. */
  async syncParameters(): Promise<void> {
    await this.dev?.toHost();
  }

  /** parameters() on any device. */
  async parametersAsync(): Promise<Record<string, Tensor>> {
    await this.syncParameters();
    return this.parameters();
  }

  /**
   * Where each node runs and why: the training step's plan (the forward pass without a
   * training section), with the transfers a fallback inserts.
   * @example console.log((await Session.create(model, { device: 'webgpu' })).explain());
   */
  explain(): string {
    const train = this.model.loss && this.model.updates.length ? this.trainGraph(this.batchSize) : null;
    const built = train?.built ?? this.build(1, false);
    const outputs = train ? [train.loss] : this.model.outputs.map((o) => built.ref(o.ref));
    const header = `${train ? `training step (batch ${this.batchSize})` : 'forward pass'} on ${this.deviceNote}`;
    if (this.dev) {
      const r = train
        ? this.devTrainRun(this.batchSize).run
        : this.dev.compile(built.graph, outputs, [], this.fedInputs);
      return this.dev.explain(r, header);
    }
    const order = built.graph.ancestors([...outputs, ...(train?.writebacks ?? []).map((w) => w.from)]);
    return explainPlacement(
      built.graph,
      place(built.graph, order, { device: 'cpu', main: 'cpu', gpu: null }),
      order,
      [],
      header,
    );
  }

  /** Input values of the first training batch (what `graph-run grad` feeds its printed graph). */
  firstBatch(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const bs = Math.min(this.batchSize, this.rows);
    for (const [name, col] of this.columns ?? [])
      out.set(name, col.batched ? col.values.slice(0, bs * col.rowSize) : col.values);
    // The runtime's inputs as in the first training step: step 1 (dropout on), epoch 0.
    for (const i of this.model.runtime ?? []) out.set(i.name, [i.provided === 'step' ? 1 : 0]);
    return out;
  }

  /** Batch size a training step uses (for building the training graph). */
  get batchSize(): number {
    return this.model.training?.batchSize ?? 1;
  }

  /** Shape of an input with the batch bound. */
  inputShape(name: string, batch: number): number[] {
    const i = this.model.inputs.find((x) => x.name === name)!;
    return bindDims(i.shape, batch);
  }

  dispose(): void {
    this.trainRuns.clear();
    this.evalRuns.clear();
    this.devRuns.clear();
    this.dev?.dispose();
  }
}
