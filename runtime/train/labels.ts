// Integer labels out of range: an i32 input that reaches one_hot (or gather's index operand),
// directly or through reshapes and slices, must hold values in [0, classes). Checked on the data
// before training, so the error names the data row (file:line:col) instead of failing mid-run.

import { DataError, type GraphError, GraphErrors } from '../errors.js';
import type { IRGraph } from '../ir/graph.js';
import type { Column } from '../data/index.js';

/** Ops that pass an integer tensor on without changing its values. */
const carriers = new Set(['reshape', 'transpose', 'broadcast_to', 'slice', 'concat', 'stop_gradient']);

/** For each i32 input, the strictest class bound its values must respect, and the node setting it. */
export function labelBounds(g: IRGraph): Map<string, { bound: number; node: string }> {
  const out = new Map<string, { bound: number; node: string }>();
  for (const name of g.order) {
    const n = g.node(name);
    if (n.op !== 'input' || n.type.dtype !== 'i32') continue;
    const stack = [name];
    const seen = new Set<string>();
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      for (const c of g.consumers(v)) {
        const cn = g.node(c);
        let bound: number | undefined;
        if (cn.op === 'one_hot') bound = cn.attrs.classes as number;
        else if (cn.op === 'gather' && cn.inputs[1] === v) {
          const x = g.node(cn.inputs[0]!).type.shape;
          const axis = (cn.attrs.axis as number | undefined) ?? -1;
          bound = x[axis < 0 ? axis + x.length : axis]!;
        } else if (cn.op === 'embedding' && cn.inputs[1] === v) bound = g.node(cn.inputs[0]!).type.shape[0]!;
        else if (carriers.has(cn.op)) stack.push(c);
        if (bound !== undefined) {
          const cur = out.get(name);
          if (!cur || bound < cur.bound) out.set(name, { bound, node: c });
        }
      }
    }
  }
  return out;
}

/** Report every data row whose label lies outside its bound. */
export function checkLabels(g: IRGraph, columns: Map<string, Column> | null, what: string, errors: GraphError[]): void {
  if (!columns) return;
  for (const [input, { bound, node }] of labelBounds(g)) {
    const col = columns.get(input);
    if (!col) continue;
    const per = col.rowSize || 1;
    let reported = 0;
    for (let i = 0; i < col.values.length && reported < 10; i++) {
      const v = col.values[i]!;
      if (v < 0 || v >= bound) {
        const row = Math.floor(i / per);
        const loc = col.batched ? col.loc(row) : col.loc(0);
        const emb = g.node(node).op === 'embedding';
        const what2 = emb ? `id ${v}` : `label ${v}`;
        const range = emb ? `rows [0, ${bound}) of the table` : `classes [0, ${bound})`;
        errors.push(
          new DataError(
            `${what}: ${what2} in row ${row} of "${input}" is outside the ${bound} ${range} of node "${node}" (${g.node(node).op})`,
            loc,
            undefined,
            emb
              ? `ids count from 0; node "${node}" looks up a table of ${bound} rows`
              : `labels count from 0; node "${node}" has ${bound} classes`,
          ),
        );
        reported++;
      }
    }
  }
}

const boundsCache = new WeakMap<IRGraph, Map<string, { bound: number; node: string }>>();

/**
 * Fed i32 values (a feed, a prediction, a generation step) checked on the host before a run, as the
 * CPU kernels check them while running: the WebGPU kernels cannot stop a run, and would read a
 * zero row for an id outside its table.
 */
export function checkFedIndices(
  g: IRGraph,
  values: Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>,
): void {
  let bounds = boundsCache.get(g);
  if (!bounds) boundsCache.set(g, (bounds = labelBounds(g)));
  for (const [input, { bound, node }] of bounds) {
    const v = values instanceof Map ? values.get(input) : values[input];
    if (!v) continue;
    for (let i = 0; i < v.length; i++) {
      if (v[i]! >= 0 && v[i]! < bound) continue;
      const n = g.node(node);
      throw new GraphErrors([
        new DataError(
          `node "${node}" (${n.op}) got index ${v[i]}, outside [0, ${bound})`,
          n.loc,
          node,
          `the indices reaching "${node}" must lie in [0, ${bound})`,
        ),
      ]);
    }
  }
}
