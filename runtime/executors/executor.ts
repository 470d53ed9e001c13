// The executor interface: the small set of operations a plan needs from a backend.
// A plan is built once against an executor and then run many times.

import type { DType, IRNode, TensorType, TypedArray } from '../ir/types.js';

export interface Executor<B = unknown> {
  readonly kind: 'cpu' | 'webgpu';
  /** A device buffer for `length` elements of `dtype`, zero-filled. */
  allocate(dtype: DType, length: number): B;
  /** Host -> device. */
  write(buf: B, data: ArrayLike<number>): void;
  /** Device -> host. */
  read(buf: B, dtype: DType, length: number): Promise<TypedArray>;
  /** Prepare a node's kernel over fixed buffers; the returned closure runs (or encodes) it. */
  prepare(node: IRNode, inputs: B[], output: B, inTypes: TensorType[]): () => void;
  /** A prepared copy of `length` elements (used for parameter write-back). */
  copy(src: B, dst: B, length: number): () => void;
  /**
   * Whether a reshape may share its input's buffer: the plan then gives it no buffer or kernel of
   * its own (its input's buffer lives as long as either is read).
   */
  readonly reshapeShares?: boolean;
  /** Called around each plan run (WebGPU: one command encoder per run). */
  begin(): void;
  end(): void;
  dispose(): void;
}

// Device errors are raised by the scheduler (placement) too: defined stage-neutrally, re-exported here.
export { DeviceError, type DeviceErrorCode } from '../device-error.js';
