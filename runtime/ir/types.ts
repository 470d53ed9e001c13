// Core types of the intermediate representation: dtypes, tensor types, IR nodes.
// A compiled graph's shapes may hold the symbol `batch` (D = Dim, see ./dim.ts); a plan's
// graph has it bound, so kernels see numbers only (D = number, the default).

import type { SourceLoc } from '../errors.js';
import { dimToString, type Dim } from './dim.js';

/** The float dtypes: parameters and float inputs are f32 (default) or f64. */
export type FloatDType = 'f32' | 'f64';
/** A tensor's element type. */
export type DType = FloatDType | 'i32';
/** A tensor's dimensions, outermost first. */
export type Shape = number[];

export interface TensorType<D extends Dim = number> {
  shape: D[];
  dtype: DType;
}

/** A type whose dims may depend on the batch size (a compiled graph's). */
export type SymType = TensorType<Dim>;

/** The arrays a tensor's data is held in, one per dtype. */
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

export interface IRNode<D extends Dim = number> {
  name: string;
  op: string;
  inputs: string[];
  attrs: Record<string, unknown>;
  type: TensorType<D>;
  loc?: SourceLoc;
  grad?: GradInfo;
}

/** A node of a compiled graph, typed with `batch` symbolic. */
export type SymNode = IRNode<Dim>;

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

/** A shape as users write it: [batch, 2]. */
export function shapeStr(shape: readonly Dim[]): string {
  return `[${shape.map(dimToString).join(', ')}]`;
}

/** Same rank and dims (symbolic dims are interned, so === compares them). */
export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function isFloat(d: DType): d is FloatDType {
  return d === 'f32' || d === 'f64';
}
