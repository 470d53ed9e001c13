// The Session's option and record types (the library's public API, runtime/index.ts).

import type { FloatDType } from '../ir/types.js';
import type { DeviceChoice } from '../scheduler/placement.js';
import type { WebGpuExecutor } from '../executors/webgpu/webgpu.js';

/** Options of `compile` and `Session.create`: float dtype, device, and how the device is used. */
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
  /**
   * Receives the GPU driver's own messages (Dawn, the Vulkan loader) printed while Session.create
   * looks for a WebGPU adapter in Node; without it they are dropped, and `deviceNote` or the
   * DeviceError says in one line what happened (the CLI passes them on under --verbose).
   */
  driverLog?: (text: string) => void;
}

/** The metrics logged after an epoch (what `train` returns one of per logged epoch). */
export interface LossRecord {
  /** The epoch just trained, from 0 (as `for epoch in range(epochs)`); -1: before training (`logEnds`). */
  epoch: number;
  /** Mean loss over the training data after the epoch. */
  loss: number;
  /** With `training.accuracy`: the fraction of training samples classified right. */
  accuracy?: number;
  /** With `training.validation`: loss (and accuracy) on the validation data. */
  val_loss?: number;
  val_accuracy?: number;
  /** Each metric of `training.metrics` by its name, and `val_<name>` on validation data. */
  [metric: string]: number | undefined;
}

/** Options of `train` / `trainAsync`: epochs, resuming, callbacks. */
export interface TrainOptions {
  /** Train until this many epochs are done in all (default: the training section's). */
  epochs?: number;
  /** Epochs already done (a resumed checkpoint's position): training continues with epoch `from`. */
  from?: number;
  /** Called after each logged epoch (every `log_every`-th from 0; see `logEnds`). */
  onLog?: (r: LossRecord) => void;
  /**
   * Also log the metrics before training (as epoch -1, when starting from epoch 0) and after the
   * last epoch whatever `log_every` says, as the CLI does. Default false: the `log_every` grid only.
   */
  logEnds?: boolean;
  /** Stop with a NumericError at the first step that leaves a NaN or infinity (default true). */
  checkFinite?: boolean;
  /** Called after every optimizer step, with the batch's loss (for progress bars). */
  onStep?: (s: StepRecord) => void;
  /**
   * Read each step's loss for `onStep` (default true). On a GPU that read is a round trip per
   * step; with false the steps queue and `onStep` gets NaN there (the CPU has the loss anyway).
   */
  stepLoss?: boolean;
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

/** Input values for one run: flat and row-major, typed arrays or numbers, by input name. */
export type Feed = Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>;
