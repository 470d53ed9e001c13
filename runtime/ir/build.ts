// Model (resolved, possibly with the symbol `batch`) -> typed IRGraph for one float dtype and
// one batch size. Shape and dtype errors are collected per node; nodes downstream of a
// failed node are skipped so one mistake is reported once.

import { DataError, type GraphError } from '../errors.js';
import type { Dim, Model, OpNodeDecl, Ref } from '../load/model.js';
import { IRGraph } from './graph.js';
import type { DType, FloatDType } from './types.js';

export interface BuildOptions {
  float: FloatDType;
  /** The value of `batch` in shapes. */
  batch: number;
  /** Include the loss nodes. */
  loss?: boolean;
}

export interface Built {
  graph: IRGraph;
  errors: GraphError[];
  /** The IR node a model reference names (numbers become shared constants). */
  ref: (r: Ref) => string;
}

export function bindDims(shape: Dim[], batch: number): number[] {
  return shape.map((d) => (d === 'batch' ? batch : (d as number)));
}

export function buildGraph(model: Model, opts: BuildOptions): Built {
  const graph = new IRGraph(opts.float);
  const errors: GraphError[] = [];
  const failed = new Set<string>();
  const ref = (r: Ref) => (typeof r === 'number' ? graph.constant(r) : r);
  for (const i of model.inputs) {
    const dtype: DType = i.dtype === 'float' ? opts.float : i.dtype;
    graph.add({ name: i.name, op: 'input', inputs: [], attrs: { shape: bindDims(i.shape, opts.batch), dtype }, loc: i.loc });
  }
  for (const p of model.params) {
    graph.add({ name: p.name, op: 'param', inputs: [], attrs: { shape: p.shape, dtype: opts.float, init: p.init, trainable: p.trainable }, loc: p.loc });
  }
  addNodes(graph, model.nodes, opts.batch, errors, failed, ref);
  if (opts.loss && model.loss) addNodes(graph, model.loss.nodes, opts.batch, errors, failed, ref);
  return { graph, errors, ref };
}

/** Add op nodes in order; errors are collected, dependents of failed nodes skipped. */
export function addNodes(
  graph: IRGraph, nodes: OpNodeDecl[], batch: number, errors: GraphError[], failed: Set<string>, ref: (r: Ref) => string,
): void {
  for (const n of nodes) {
    const inputs = n.inputs.map(ref);
    if (inputs.some((i) => failed.has(i) || !graph.has(i))) {
      failed.add(n.name);
      continue;
    }
    const attrs = Array.isArray(n.attrs.shape) ? { ...n.attrs, shape: bindDims(n.attrs.shape as Dim[], batch) } : n.attrs;
    try {
      graph.add({ name: n.name, op: n.op, inputs, attrs, loc: n.loc });
    } catch (e) {
      if (!(e instanceof Error) || !('kind' in e)) throw e;
      errors.push(e as GraphError);
      failed.add(n.name);
    }
  }
}

/** The data error for a value that should have a given shape. */
export function shapeMismatch(what: string, got: number[], want: number[], loc: GraphError['loc'], node?: string): GraphError {
  return new DataError(`${what} has shape [${got.join(', ')}], expected [${want.join(', ')}]`, loc, node);
}
