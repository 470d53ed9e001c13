// A Session holds one model's parameters and optimizer state for one float dtype and runs its
// Program (compile/program.ts: graphs built once) through plans built once per graph kind and
// batch size: training steps, whole-data loss evaluation, predictions and gradient queries.
// Its state is explicit (session/state.ts): weights, training data, clock. Each job is written
// once (session/jobs.ts); the synchronous methods drive it on the CPU, the *Async ones on any
// device (docs/webgpu.md). Parameters never leave their buffers.

import { Program, type GradientGraph, type TrainGraph } from './compile/program.js';
import { CpuExecutor } from './executors/cpu/cpu.js';
import { DeviceError } from './executors/executor.js';
import { DeviceRuntime } from './session/device-runtime.js';
import type { WebGpuExecutor } from './executors/webgpu/webgpu.js';
import { bindDims, type Built } from './ir/build.js';
import type { FloatDType, Tensor, TypedArray } from './ir/types.js';
import type { Model } from './load/model.js';
import { CpuRunner } from './session/cpu-runner.js';
import { autoPrefersCpu, deviceNote, deviceWish, explainSession } from './session/device.js';
import { DeviceRunner } from './session/device-runner.js';
import * as jobs from './session/jobs.js';
import { runAsync, runSync, type Evaluation, type JobContext, type TrainSettings } from './session/jobs.js';
import type { RowSource } from './session/runner.js';
import { type BatchProgress, predictRows } from './session/predict.js';
import type { Dataset } from './data/dataset.js';
import { cpuHooks, type Traced, tracedStep } from './session/traced.js';
import { TrainingData, Weights, type Clock } from './session/state.js';
import type { Feed, LossRecord, SessionOptions, TrainOptions } from './session/types.js';

export type { Feed, LossRecord, SessionOptions, StepRecord, TrainOptions } from './session/types.js';
export type { Evaluation } from './session/jobs.js';
export type { BatchProgress } from './session/predict.js';
export type { TrainGraph } from './compile/program.js';

/** A compiled model with its parameters, data and device: train it, run it, read it (docs/api.md). */
export class Session {
  readonly float: FloatDType;
  /** The compiled model: its graphs, built once and shared with validation. */
  readonly program: Program;
  /** Parameters and optimizer state (the buffers every plan binds). */
  readonly weights: Weights;
  /** Training and validation data, and the current epoch's row order. */
  readonly data: TrainingData;
  /** What the runtime feeds to `__epoch` and `__step` (the 1-based global step) in training steps. */
  readonly clock: Clock = { epoch: 0, step: 0 };
  private readonly cpu: CpuRunner;
  /** Set when any node runs on WebGPU: then the async methods drive the session. */
  private readonly dev: DeviceRunner | null = null;
  private readonly ctx: JobContext<unknown>;
  /** Where this session runs, and what `auto` chose. */
  deviceNote = 'cpu';

  constructor(
    readonly model: Model,
    opts: SessionOptions = {},
  ) {
    const exec = new CpuExecutor({ fast: opts.fast !== false });
    this.float = opts.dtype ?? 'f32';
    this.program = Program.of(model, this.float);
    this.data = new TrainingData(() => this.program.data());
    this.weights = new Weights(model, this.float, (d, n) => exec.allocate(d, n));
    this.cpu = new CpuRunner(exec, this.program, this.weights.bound);
    const wish = deviceWish(model, opts.device);
    if (opts.gpu || wish.choice === 'webgpu' || wish.nodeGpu) {
      if (!opts.gpu)
        throw new DeviceError(
          'NoAdapter',
          'WebGPU is acquired asynchronously: create this session with `await Session.create(model, opts)` (compileAsync)',
          'or use device cpu',
        );
      const rt = new DeviceRuntime(this.weights.bound, {
        device: wish.choice === 'cpu' ? 'cpu' : 'webgpu',
        float: this.float,
        gpu: opts.gpu,
        ownsGpu: opts.ownGpu === true,
        strict: opts.strictDevice === true,
        requests: wish.requests,
      });
      this.dev = new DeviceRunner(rt, this.program);
      this.deviceNote = deviceNote(wish, opts.gpu, this.float === 'f64');
    } else if (wish.choice === 'auto')
      this.deviceNote = deviceNote(wish, null, false, 'WebGPU is acquired asynchronously: use Session.create');
    this.ctx = {
      program: this.program,
      runner: this.dev ?? this.cpu,
      weights: this.weights,
      data: this.data,
      clock: this.clock,
    } as JobContext<unknown>;
  }

  /**
   * A session on the device the options (or the graph's `device:`) ask for, acquiring WebGPU when needed;
   * under `auto`, a graph too small to gain from a GPU or no adapter means the CPU (`deviceNote`). Throws DeviceError.
   * @example import { loadGraph, Session } from 'graph-run'; const s = await Session.create(loadGraph('graphs/gender.yaml'), { device: 'auto' }); console.log(s.deviceNote, (await s.trainAsync()).at(-1)); s.dispose();
   */
  static async create(model: Model, opts: SessionOptions = {}): Promise<Session> {
    const wish = deviceWish(model, opts.device);
    if (opts.gpu || !wish.wantsGpu) return new Session(model, opts);
    const cpu = (note: string) => Object.assign(new Session(model, { ...opts, device: 'cpu' }), { deviceNote: note });
    const small = autoPrefersCpu(wish, Program.of(model, opts.dtype ?? 'f32'));
    if (small) return cpu(small);
    const { WebGpuExecutor } = await import('./executors/webgpu/webgpu.js');
    let gpu: WebGpuExecutor;
    try {
      gpu = await WebGpuExecutor.create(opts.driverLog ? { driverLog: opts.driverLog } : {});
    } catch (e) {
      if (wish.choice !== 'auto' || wish.nodeGpu || !(e instanceof DeviceError)) throw e;
      return cpu(deviceNote(wish, null, false, e.message));
    }
    try {
      return new Session(model, { ...opts, gpu, ownGpu: true });
    } catch (e) {
      gpu.dispose();
      throw e;
    }
  }

  /** Parameter buffers by name (live: plans read and write them in place). */
  get params(): Map<string, TypedArray> {
    return this.weights.params;
  }

  /** The model's state (running statistics) and optimizer state buffers by name (live). */
  get state(): Map<string, TypedArray> {
    return this.weights.state;
  }

  /** Number of training samples (rows of the training data). */
  get samples(): number {
    return this.data.rows;
  }

  /** Batch size a training step uses (for building the training graph). */
  get batchSize(): number {
    return this.program.batchSize;
  }

  /** The device whose memory holds parameters between steps. */
  get device(): 'cpu' | 'webgpu' {
    return this.dev?.dev.main ?? 'cpu';
  }

  /** Whether any node runs on a GPU: then a read of a result (a step's loss, say) waits for the device. */
  get usesGpu(): boolean {
    return this.dev !== null;
  }

  /**
   * The parameter and optimizer-state buffers, for a tool that reads or writes them directly (checkpoints): a
   * DeviceError where the device holds newer values (`await syncParameters()` first); then call `weightsWritten()`.
   */
  hostWeights(what: string): Weights {
    this.dev?.dev.requireHost(what, null);
    return this.weights;
  }

  /** The host buffers were written (a checkpoint restored): the device takes them before its next run. */
  weightsWritten(): void {
    this.dev?.dev.hostChanged();
  }

  /** The CPU job context; a session with WebGPU nodes must use the async methods. */
  private sync(what: string): JobContext<unknown> {
    if (this.dev) this.dev.dev.requireSync(what);
    return this.ctx;
  }

  /** Forward + loss + reverse graph (+ optimizer updates unless `withOptimizer` is false), for one batch size. */
  trainGraph(batch: number, withOptimizer = true): TrainGraph {
    return withOptimizer ? this.program.train(batch) : this.program.reverse(batch);
  }

  /** @internal The forward graph at `batch` (with the loss nodes: the training graph's typed part), as compiled. */
  build(batch: number, loss: boolean): Built {
    return loss ? this.program.lossGraph(batch) : this.program.forward(batch).built;
  }

  /** The graph of `gradients:` (d of / d wrt at the feed), and its result nodes. */
  gradientGraph(): GradientGraph {
    return this.program.gradient();
  }

  /** One optimizer step on rows [start, start + count) of the training data; returns the batch loss. */
  step(start: number, count: number): number {
    // The job's plain form: the CPU answers at once, and a step allocates nothing.
    return jobs.stepNow(this.sync('step'), start, count, true) as number;
  }

  /**
   * One optimizer step on a batch given directly (flat row-major values per input), not taken
   * from the model's training data: for data loaded elsewhere and for benchmarks. Returns the loss.
   * @example session.stepOn(128, { x: images, y: oneHot })
   */
  stepOn(batch: number, values: Record<string, ArrayLike<number>>): number {
    return runSync(jobs.stepOn(this.sync('stepOn'), batch, values));
  }

  /**
   * One training step on rows [start, start + count) of the training data that keeps every value
   * readable, for `trace`: the step's graph, and each node's value as the step computed it
   * (parameters and optimizer state as the step read them, before the update is written back).
   * Slower than step() (no buffer reuse, a plan built per call); the update is applied all the same.
   */
  tracedStep(start: number, count: number, src: RowSource = this.data): Traced {
    return runSync(tracedStep(this.sync('tracedStep'), start, count, src));
  }

  /** Mean loss over the whole training set, with the current parameters. */
  evaluate(): number {
    return runSync(jobs.evaluate(this.sync('evaluate'), false)).loss;
  }

  /**
   * Loss and metrics over a data set (readDataset, arrayDataset) with the current parameters,
   * `batch` rows at a time (default: training.eval_batch_size, else the training batch size).
   * @example session.evaluateData(readDataset(model, 'test.csv', nodeIO())) // { loss, rows, metrics }
   */
  evaluateData(data: Dataset, batch?: number): Evaluation {
    return runSync(jobs.evaluateOn(this.sync('evaluate'), data, batch));
  }

  /** The forward outputs for every row of a data set, `batch` rows at a time, joined along the batch axis. */
  predictData(data: Dataset, batch?: number, progress?: BatchProgress): Record<string, Tensor> {
    const c = this.sync('run');
    return runSync(predictRows(c, data, batch ?? jobs.evalBatchSize(c), progress));
  }

  /** The metrics logged after an epoch: training loss and accuracy, and on validation data. */
  metrics(epoch: number): LossRecord {
    return runSync(jobs.metrics(this.sync('evaluate'), epoch));
  }

  /** Train as the model's `training` section says (epochs may be overridden). */
  train(opts: TrainOptions = {}): LossRecord[] {
    return this.trainLoop(this.data, jobs.settingsOf(this.sync('train')), opts);
  }

  /** @internal The CPU training loop on `data` with `settings`: train()'s, and trainOn()'s on arrays. */
  trainLoop(data: TrainingData, settings: TrainSettings, opts: TrainOptions): LossRecord[] {
    const ctx = { ...this.sync('train'), data };
    const replay = (start: number, count: number) => this.tracedStep(start, count, data);
    const hooks = cpuHooks(opts.checkFinite === false ? null : this.weights, replay, settings.loc);
    return runSync(jobs.train(ctx, opts, hooks, settings));
  }

  /** Run the forward graph on input values (flat, row-major: typed arrays or numbers) for `batch` rows; returns every declared output. */
  run(values: Feed, batch: number): Record<string, Tensor> {
    return runSync(jobs.forward(this.sync('run'), values, batch));
  }

  /** The model's named predictions (`predict:`), with the current parameters. */
  predictions(): Record<string, Record<string, Tensor>> {
    return runSync(jobs.predictions(this.sync('run')));
  }

  /** d of / d wrt for the model's `gradients:` request, at its `feed`. */
  gradients(): Record<string, Tensor> {
    return runSync(jobs.gradients(this.sync('gradients')));
  }

  /** Current parameter values (copies). */
  parameters(): Record<string, Tensor> {
    this.dev?.dev.requireHost('parameters');
    return this.weights.tensors();
  }

  // ---- Any device (docs/webgpu.md): the same jobs, driven asynchronously because reading a
  // GPU buffer is. Without WebGPU they run on the CPU. ----

  /** tracedStep() on any device. */
  async tracedStepAsync(start: number, count: number): Promise<Traced> {
    return runAsync(tracedStep(this.ctx, start, count, this.data));
  }

  /** step() on any device; resolves to the batch loss. */
  async stepAsync(start: number, count: number): Promise<number> {
    return runAsync(jobs.step(this.ctx, start, count));
  }

  /**
   * stepOn() on any device. With `read: false` the loss is not read back (resolves to NaN), so
   * steps queue on the GPU without a round trip each: what a benchmark or a silent loop wants.
   */
  async stepOnAsync(batch: number, values: Record<string, ArrayLike<number>>, read = true): Promise<number> {
    return runAsync(jobs.stepOn(this.ctx, batch, values, read || !this.dev));
  }

  /** Waits until the device has finished all submitted work (for timing); surfaces kernel errors. */
  async synchronize(): Promise<void> {
    await this.dev?.dev.finish();
  }

  /** evaluate() on any device. */
  async evaluateAsync(): Promise<number> {
    return (await runAsync(jobs.evaluate(this.ctx, false))).loss;
  }

  /** evaluateData() on any device. */
  async evaluateDataAsync(data: Dataset, batch?: number): Promise<Evaluation> {
    return runAsync(jobs.evaluateOn(this.ctx, data, batch));
  }

  /** predictData() on any device. */
  async predictDataAsync(data: Dataset, batch?: number, progress?: BatchProgress): Promise<Record<string, Tensor>> {
    return runAsync(predictRows(this.ctx, data, batch ?? jobs.evalBatchSize(this.ctx), progress));
  }

  /** metrics() on any device. */
  async metricsAsync(epoch: number): Promise<LossRecord> {
    return runAsync(jobs.metrics(this.ctx, epoch));
  }

  /**
   * train() on any device. On WebGPU many steps go in one submission (docs/webgpu.md) and only the
   * logged metrics are read back (and step losses when `onStep` asks: one per step); parameters come
   * back to `params` at the end, and before each `onEpoch` call. The per-step finiteness check
   * (checkFinite) would need a read every step, so on WebGPU only logged losses are checked.
   * A lost device ends training with a DeviceError naming the last completed epoch.
   */
  async trainAsync(opts: TrainOptions = {}): Promise<LossRecord[]> {
    return this.trainLoopAsync(this.data, jobs.settingsOf(this.ctx), opts);
  }

  /** @internal trainLoop() on any device. */
  async trainLoopAsync(data: TrainingData, settings: TrainSettings, opts: TrainOptions): Promise<LossRecord[]> {
    const dev = this.dev;
    if (!dev) return this.trainLoop(data, settings, opts);
    // The last epoch whose steps the GPU is known to have finished: a read after it came back.
    let done: number | null = null;
    const hooks = { readLoss: false, checkLogged: true, where: this.device, done: (e: number) => (done = e) };
    dev.dev.hostChanged();
    try {
      return await runAsync(dev.train({ ...this.ctx, data }, opts, hooks, settings));
    } catch (e) {
      if (!dev.dev.lost) throw e;
      // Nothing from the GPU is written back: the parameters stay as the last sync left them.
      dev.dev.abandonDevice();
      throw new DeviceError(
        'DeviceLost',
        `the GPU device was lost during training; the last completed epoch is ${done ?? 'none'}`,
        'nothing was written; rerun, or resume from a checkpoint',
        undefined,
      );
    }
  }

  /** run() on any device. */
  async runAsync(values: Feed, batch: number): Promise<Record<string, Tensor>> {
    return runAsync(jobs.forward(this.ctx, values, batch));
  }

  /** predictions() on any device. */
  async predictionsAsync(): Promise<Record<string, Record<string, Tensor>>> {
    return runAsync(jobs.predictions(this.ctx));
  }

  /** gradients() on any device. */
  async gradientsAsync(): Promise<Record<string, Tensor>> {
    return runAsync(jobs.gradients(this.ctx));
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
   * Where each node runs and why: the training step's plan (the forward pass without a training
   * section), with the transfers a fallback inserts, and the estimated cost on each device.
   * @example console.log((await Session.create(model, { device: 'webgpu' })).explain());
   */
  explain(): string {
    return explainSession(this.program, this.dev, this.deviceNote);
  }

  /** Input values of the first training batch (what `graph-run grad` feeds its printed graph). */
  firstBatch(): Map<string, number[]> {
    const out = this.data.firstRows(this.batchSize);
    // The runtime's inputs as in the first training step: step 1 (dropout on), epoch 0.
    for (const i of this.model.runtime ?? []) out.set(i.name, [i.provided === 'step' ? 1 : 0]);
    return out;
  }

  /** Shape of an input with the batch bound. */
  inputShape(name: string, batch: number): number[] {
    const i = this.model.inputs.find((x) => x.name === name)!;
    return bindDims(i.shape, batch);
  }

  dispose(): void {
    this.cpu.dispose();
    this.dev?.dispose();
    this.dev?.dev.dispose();
  }
}
