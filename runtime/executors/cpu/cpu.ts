// The CPU executor: TypedArray buffers and the ops' reference kernels, called as
// closures prepared once per plan. Synchronous; `read` resolves immediately.

import { getOp } from '../../ops/registry.js';
import { allocate, type DType, type IRNode, type TensorType, type TypedArray } from '../../ir/types.js';
import type { Executor } from '../executor.js';

export class CpuExecutor implements Executor<TypedArray> {
  readonly kind = 'cpu' as const;

  allocate(dtype: DType, length: number): TypedArray {
    return allocate(dtype, length);
  }

  write(buf: TypedArray, data: ArrayLike<number>): void {
    buf.set(data);
  }

  read(buf: TypedArray): Promise<TypedArray> {
    return Promise.resolve(buf.slice());
  }

  prepare(node: IRNode, inputs: TypedArray[], output: TypedArray, inTypes: TensorType[]): () => void {
    const def = getOp(node.op);
    if (!def) throw new Error(`no kernel for op ${node.op}`);
    return def.cpu({ inputs, output, inTypes, outType: node.type, attrs: node.attrs });
  }

  copy(src: TypedArray, dst: TypedArray, length: number): () => void {
    if (length === 1) return () => { dst[0] = src[0]!; };
    return () => dst.set(src);
  }

  begin(): void {}
  end(): void {}
  dispose(): void {}
}
