// Helpers for ops' ONNX mappings (each op module declares its own; export/onnx.ts runs them).

import type { OnnxAttr, OnnxCtx, OnnxRule } from './op.js';
import { reduceAxes } from './axes.js';

export const int = (value: number): OnnxAttr => ({ kind: 'int', value });
export const ints = (value: number[]): OnnxAttr => ({ kind: 'ints', value });
export const float = (value: number): OnnxAttr => ({ kind: 'float', value });

/** One ONNX op of the same inputs. */
export const direct =
  (op: string): OnnxRule =>
  (c) =>
    void c.emit(op, c.x, undefined, c.out);

/** A comparison: graph-run's give 1/0 in the inputs' type; ONNX's give booleans. */
export const cmp =
  (op: string, negate = false): OnnxRule =>
  (c) => {
    let r = c.emit(op, c.x);
    if (negate) r = c.emit('Not', [r]);
    c.emit('Cast', [r], { to: int(c.elemType(c.node.type.dtype)) }, c.out);
  };

/** A reduction over `axis` (all when absent) with `keepdims`. */
export const reduce =
  (op: string): OnnxRule<{ axis?: number | number[]; keepdims?: boolean }> =>
  (c) => {
    const rank = c.types[0]!.shape.length;
    const axes = reduceAxes(rank, c.node.attrs.axis);
    c.emit(op, [c.x[0]!, c.i64(axes, 'axes')], { keepdims: int(c.node.attrs.keepdims === true ? 1 : 0) }, c.out);
  };

/** ArgMax/ArgMin, over the flattened tensor when `axis` is absent, as graph-run does. */
export const arg =
  (op: string): OnnxRule<{ axis?: number; keepdims?: boolean }> =>
  (c) => {
    let x = c.x[0]!;
    let axis = c.node.attrs.axis;
    const keep = c.node.attrs.keepdims === true;
    if (axis === undefined) {
      x = c.emit('Reshape', [x, c.i64([-1], 'flat')]);
      axis = 0;
    }
    let r = c.emit(op, [x], {
      axis: int(axis),
      keepdims: int(keep && c.node.attrs.axis !== undefined ? 1 : 0),
      select_last_index: int(0),
    });
    if (keep && c.node.attrs.axis === undefined)
      r = c.emit('Reshape', [
        r,
        c.i64(
          c.node.type.shape.map((d) => (typeof d === 'number' ? d : -1)),
          'shape',
        ),
      ]);
    c.emit('Cast', [r], { to: int(c.elemType('i32')) }, c.out);
  };

/** Matrix transpose of the last two axes (rank 2 or 3). */
export function lastTwo(c: OnnxCtx<unknown>, x: string, rank: number): string {
  return c.emit('Transpose', [x], { perm: ints(rank === 3 ? [0, 2, 1] : [1, 0]) });
}
