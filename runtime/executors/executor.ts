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
  /** Called around each plan run (WebGPU: one command encoder per run). */
  begin(): void;
  end(): void;
  dispose(): void;
}

export type DeviceErrorCode =
  | 'NoWebGpuPackage'
  | 'NoAdapter'
  | 'NoDevice'
  | 'KernelError'
  | 'BufferLimit'
  | 'Fallback'
  | 'DeviceLost';

/**
 * A problem with the compute device rather than with the graph: no WebGPU, a tensor past the
 * device's limits, a fallback under --strict-device, a lost device. `hint` says how to fix it;
 * the CLI prints message and hint and exits 1.
 */
export class DeviceError extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    readonly hint?: string,
    readonly nodeName?: string,
  ) {
    super(message);
    this.name = code;
  }
}
