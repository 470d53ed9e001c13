// The shape of an op definition: one op keeps its attribute schema, shape/dtype rule,
// CPU kernel and gradient rule together (see ../../docs/architecture.md). The registry in
// ./registry.ts maps every op name to one of these.

import type { FloatDType, IRNode, TensorType, TypedArray } from '../ir/types.js';

export interface InferCtx {
  /** The float dtype the graph is compiled for (inputs and params declared `float`). */
  float: FloatDType;
}

/** What a CPU kernel factory receives once, at plan time. It returns the closure run per step. */
export interface KernelArgs {
  inputs: TypedArray[];
  output: TypedArray;
  inTypes: TensorType[];
  outType: TensorType;
  attrs: Record<string, unknown>;
}

export type CpuKernel = (a: KernelArgs) => () => void;

/** What a WGSL kernel generator receives once, at plan time; shapes are baked into the source. */
export interface WgslArgs {
  inTypes: TensorType[];
  outType: TensorType;
  attrs: Record<string, unknown>;
}

/**
 * A WGSL kernel as text inside the WebGPU executor's fixed frame (executors/webgpu/wgsl.ts).
 * Inputs are bound as `in0`, `in1`, ... and the output as `out`: arrays of `T0`, `T1`, ...,
 * `TO` (aliases of f32 or i32), and `f32_bits(u32) -> f32` makes infinities and NaN (no WGSL
 * constant may be one). `decls` holds module-scope helpers and workgroup arrays.
 * - map: `body` runs once per work item `i: u32` in [0, count); the frame derives `i`, splits
 *   the dispatch past 65,535 workgroups per dimension and returns when i >= count (the guard).
 * - tiled: `body` runs in every invocation of a `workgroupSize` workgroup; `wid: vec3<u32>` is
 *   the workgroup's cell of `grid` (the frame flattens and guards the grid), `lid: vec3<u32>`
 *   and `lidx: u32` the invocation within it. The body guards its own loads and stores.
 */
export type WgslKernel =
  | { kind: 'map'; count: number; body: string; decls?: string }
  | {
      kind: 'tiled';
      grid: [number, number, number];
      workgroupSize: [number, number, number];
      body: string;
      decls?: string;
    };

export type WgslGen = (a: WgslArgs) => WgslKernel;

/** Emits reverse-graph nodes; numbers become scalar constants of the graph's float dtype. */
export interface GradBuilder {
  op(op: string, inputs: (string | number)[], attrs?: Record<string, unknown>): string;
  type(name: string): TensorType;
}

/**
 * A gradient rule: given the forward node and the gradient `dy` of its output, return one
 * gradient per input (null where `needs[i]` is false or the input has no gradient).
 * Rules never sum over fan-out and never un-broadcast: the builder does both.
 */
export type GradRule = (g: GradBuilder, node: IRNode, dy: string, needs: boolean[]) => (string | null)[];

export interface OpDef {
  name: string;
  /** One line for `--help`, docs and schema descriptions. */
  doc: string;
  /** Number of inputs, or [min, max]. */
  arity: number | [number, number];
  /** JSON Schema of the `attrs` object (validated at load time, positioned). */
  attrs: Record<string, unknown>;
  /** Shape and dtype rule; throws RuleError. Run once per node at build time. */
  infer(inTypes: TensorType[], attrs: Record<string, unknown>, ctx: InferCtx): TensorType;
  /** CPU kernel factory: the plain reference implementation. */
  cpu: CpuKernel;
  /** WGSL kernel generator (f32 and i32 tensors); absent: the node falls back to the CPU. */
  wgsl?: WgslGen;
  /** Gradient rule, or 'none' for ops that are not differentiable (the builder then stops there). */
  grad: GradRule | 'none';
}

export const noAttrs = { type: 'object', additionalProperties: false, properties: {} } as const;
