// Source nodes: values that enter the graph from outside rather than being computed —
// inputs (fed per run), parameters, optimizer state (both owned by the session and kept
// across steps) and literal constants (filled once when a plan is built).

import type { DType, SymType } from '../ir/types.js';
import type { Dim } from '../ir/dim.js';
import { Type } from './attrs.js';
import type { OpDef } from './op.js';

// Set by the loader and the IR builder (shape, dtype, value), never written in a graph's nodes.
const sourceAttrs = Type.Object({});

function source(name: string, doc: string): OpDef {
  return {
    name,
    doc,
    group: 'source',
    arity: 0,
    attrs: sourceAttrs,
    infer: (_in, attrs): SymType => ({ shape: [...(attrs.shape as Dim[])], dtype: attrs.dtype as DType }),
    // Buffers of source nodes are written by the session or the planner, never by a kernel.
    cpu: () => () => {},
    grad: 'none',
    // export/onnx.ts writes sources as graph inputs and initializers itself.
    onnx: 'none',
  };
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type SourceOpName = 'input' | 'param' | 'state' | 'const';

export const sourceOps: { readonly [K in SourceOpName]: OpDef } = {
  input: source('input', 'A value fed from outside on every run (data).'),
  param: source('param', 'A trainable (or frozen) parameter, kept across runs.'),
  state: source('state', 'Optimizer state (moments, step counts), kept across runs.'),
  const: source('const', 'A literal constant: `value` (a number, filling `shape`, or a flat list).'),
};

export const sourceOpNames = new Set<string>(Object.keys(sourceOps));
