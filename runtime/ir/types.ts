// Core types of the intermediate representation: dtypes, tensor types, IR nodes.
// Shapes here are always concrete numbers; symbolic dims (`batch`) are bound before a
// graph becomes IR (see ir/build.ts).

import type { SourceLoc } from '../errors.js';

export type FloatDType = 'f32' | 'f64';
export type DType = FloatDType | 'i32';
export type Shape = number[];

export interface TensorType {
  shape: Shape;
  dtype: DType;
}

export type TypedArray = Float32Array | Float64Array | Int32Array;

/** A tensor as the library API hands it out: shape plus a flat row-major array. */
export interface Tensor {
  shape: Shape;
  dtype: DType;
  data: TypedArray;
}

/** What a reverse-graph node is the gradient of, and which rule made it (for `trace` and `dot`). */
export interface GradInfo {
  /** The forward value whose gradient this node is (or contributes to). */
  of: string;
  /** The forward node whose gradient rule emitted this node, and the rule's op. */
  from?: string;
  rule?: string;
  /** True for the node holding the complete (summed, unbroadcast) gradient of `of`. */
  total?: boolean;
}

/** Source nodes have no inputs: data fed per run, parameters, optimizer state, literal constants. */
export type SourceKind = 'input' | 'param' | 'state' | 'const';

export interface IRNode {
  name: string;
  op: string;
  inputs: string[];
  attrs: Record<string, unknown>;
  type: TensorType;
  loc?: SourceLoc;
  grad?: GradInfo;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function allocate(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'f32':
      return new Float32Array(n);
    case 'f64':
      return new Float64Array(n);
    case 'i32':
      return new Int32Array(n);
    default:
      return dtype satisfies never;
  }
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function isFloat(d: DType): d is FloatDType {
  return d === 'f32' || d === 'f64';
}
