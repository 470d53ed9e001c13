// Non-finite values during training: a cheap guard around every step (the loss and the updated
// parameters and state are scanned; their values before the step are kept), and, when the guard
// trips, the diagnosis: the step is replayed from the saved values with every node kept, and the
// first node in execution order holding a NaN or an infinity is named with its position.

import { NumericError, type SourceLoc } from '../errors.js';
import type { IRGraph } from '../ir/graph.js';
import type { TypedArray } from '../ir/types.js';

function finite(a: TypedArray): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}

/** Saves parameters and optimizer state before a step; says whether the step left them finite. */
export class StepGuard {
  private readonly saved: [TypedArray, TypedArray][];

  constructor(bound: Map<string, TypedArray>) {
    // Copies are allocated once; each step only copies into them.
    this.saved = [...bound.values()].map((b) => [b, b.slice()]);
  }

  save(): void {
    for (const [live, copy] of this.saved) copy.set(live);
  }

  restore(): void {
    for (const [live, copy] of this.saved) live.set(copy);
  }

  /** True when the loss and every parameter and state value are finite. */
  ok(loss: number): boolean {
    if (!Number.isFinite(loss)) return false;
    for (const [live] of this.saved) if (!finite(live)) return false;
    return true;
  }
}

/**
 * The first node, in execution order, whose non-finite value reaches the result: it holds a NaN
 * or an infinity and either nothing reads it or a node reading it is non-finite too. A value
 * the graph absorbs on purpose (a log of 0 that a clamp turns finite, as the library's BCE
 * does) is not blamed.
 */
export function firstNonFinite(g: IRGraph, values: Map<string, TypedArray>): string | null {
  const bad = (name: string) => {
    const v = values.get(name);
    return v !== undefined && g.node(name).type.dtype !== 'i32' && !finite(v);
  };
  for (const name of g.order) {
    if (!bad(name)) continue;
    const readers = g.consumers(name).filter((c) => values.has(c));
    if (readers.length === 0 || readers.some(bad)) return name;
  }
  // Only absorbed values: name the first of them.
  for (const name of g.order) if (bad(name)) return name;
  return null;
}

/**
 * The error for a step that produced a non-finite value: the epoch as the training log numbers
 * it (from 0), the step within it from 1, the node and where it is declared. Reverse-graph nodes are
 * named by the forward node whose gradient rule made them.
 */
export function nonFiniteError(
  g: IRGraph,
  node: string | null,
  values: Map<string, TypedArray>,
  epoch: number,
  step: number,
  steps: number,
  loss: number,
  fallback: SourceLoc,
): NumericError {
  const when = `epoch ${epoch}, step ${step + 1} of ${steps}`;
  if (node === null) {
    return new NumericError(
      `${when}: the loss is ${loss}, but no node's value is non-finite when the step is replayed`,
      fallback,
    );
  }
  const n = g.node(node);
  const v = values.get(node)!;
  let bad = 0;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) bad = v[i]!;
  const from = n.grad?.from ? g.node(n.grad.from) : undefined;
  const what =
    n.op === 'param' || n.op === 'state'
      ? `${n.op === 'param' ? 'parameter' : 'optimizer state'} "${node}" already holds ${bad}`
      : from
        ? `the gradient of "${n.grad!.of}" became ${bad} in node "${node}" (${n.op}, from the gradient rule of ${from.op} "${from.name}")`
        : `node "${node}" (${n.op}) produced ${bad}`;
  const hint =
    n.op === 'log' || from?.op === 'log'
      ? 'a log of 0 or of a negative number; clamp its input (clip) or use a loss on logits'
      : 'lower the learning rate, clip gradients (optimizer: clip_grad_norm), or check the data for extreme values';
  return new NumericError(
    `${when}: loss is ${loss}; the first non-finite value: ${what}`,
    n.loc ?? from?.loc ?? fallback,
    node,
    hint,
  );
}
