// What a fused elementwise group is, and what an executor offers to run one: shared by the
// planner (scheduler/fusion.ts groups nodes) and the executors (which generate a group's code),
// so executors import the IR, not the scheduler.

import type { IRNode, TensorType } from './types.js';
import { elementwiseExpr } from '../ops/elementwise.js';

export interface FusedGroup {
  /** The node whose value the group computes: the only member read outside the group. */
  output: string;
  /** Members in topological order; the last is `output`. */
  nodes: IRNode[];
  /** Values read from outside the group, without repeats, in order of first use. */
  inputs: string[];
}

/** What an executor offers the planner to run fused groups (optional: without it nothing fuses). */
export interface FusingExecutor<B> {
  /** Prepare one group over fixed buffers: `inputs` match `group.inputs`. */
  prepareFused(group: FusedGroup, inputs: B[], inTypes: TensorType[], output: B): () => void;
  /** Which nodes it can generate code for inside a group (default: isElementwise). */
  fusible?(node: IRNode): boolean;
  /** Whether matmul node `mm` (its inputs' types) can run with a bias + activation epilogue. */
  epilogue?(mm: IRNode, inTypes: TensorType[]): boolean;
  /** Prepare `mm` with its epilogue: output = act(op(A)·op(B) + bias), bias one value per column. */
  prepareEpilogue?(mm: IRNode, inputs: B[], inTypes: TensorType[], bias: B, relu: boolean, output: B): () => void;
}

/**
 * A matrix product finished in its gemm (scheduler/fusion.ts finds them): the `add` of a bias
 * row, then optionally a `relu`. Only `output` (the last node) is read outside.
 */
export interface GemmEpilogueGroup {
  matmul: IRNode;
  /** The bias value's name (a row: shape [n] or [1, n]). */
  bias: string;
  /** The nodes after the matmul: its add, then the relu if any; the last is `output`. */
  rest: IRNode[];
  output: string;
}

const elementwiseOps = new Set([...Object.keys(elementwiseExpr.unary), ...Object.keys(elementwiseExpr.binary)]);

/** Elementwise ops of the rows in ops/elementwise.ts over float tensors. */
export function isElementwise(node: IRNode): boolean {
  return elementwiseOps.has(node.op) && (node.type.dtype === 'f32' || node.type.dtype === 'f64');
}
