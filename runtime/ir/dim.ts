// Symbolic dimensions: a graph is typed once with `batch` left open, and bound to a batch size
// only when a plan is made. A dimension is a number or a BatchDim, a linear form a*batch + b
// (a ≠ 0), which covers the bare `batch`, reshapes that fold it (batch*2) and concatenations
// along it (batch + 3). BatchDims are interned, so `===` compares dims exactly as numbers do:
// a shape rule that tests `d === 1` or `a === b` is right for symbolic dims too, and one that
// does arithmetic on a dim does not compile until it uses the helpers below.

import { RuleError } from '../errors.js';

export class BatchDim {
  private static readonly forms = new Map<string, BatchDim>();
  private constructor(
    readonly a: number,
    readonly b: number,
  ) {}

  /** a*batch + b: a number when a is 0, else the one BatchDim of that form. */
  static of(a: number, b: number): Dim {
    if (a === 0) return b;
    const key = `${a},${b}`;
    let d = BatchDim.forms.get(key);
    if (!d) {
      d = new BatchDim(a, b);
      BatchDim.forms.set(key, d);
    }
    return d;
  }

  toString(): string {
    return dimToString(this);
  }
}

export type Dim = number | BatchDim;

/** The batch size itself. */
export const BATCH = BatchDim.of(1, 0) as BatchDim;

export function isSymbolic(d: Dim): d is BatchDim {
  return typeof d !== 'number';
}

/** Whether no dimension of `shape` depends on the batch size. */
export function isConcrete(shape: readonly Dim[]): shape is number[] {
  return shape.every((d) => typeof d === 'number');
}

const parts = (d: Dim): [number, number] => (typeof d === 'number' ? [0, d] : [d.a, d.b]);

export function dimAdd(x: Dim, y: Dim): Dim {
  if (typeof x === 'number' && typeof y === 'number') return x + y;
  const [a, b] = parts(x),
    [c, e] = parts(y);
  return BatchDim.of(a + c, b + e);
}

export function dimSub(x: Dim, y: Dim): Dim {
  if (typeof y === 'number') return dimAdd(x, -y);
  return dimAdd(x, BatchDim.of(-y.a, -y.b));
}

/** x * y; a product of two batch-dependent dims (batch²) is not a linear form: a RuleError. */
export function dimMul(x: Dim, y: Dim): Dim {
  if (typeof x === 'number' && typeof y === 'number') return x * y;
  if (typeof x !== 'number' && typeof y !== 'number')
    throw new RuleError(`the size ${dimToString(x)} * ${dimToString(y)} is not supported (it squares the batch)`);
  const [k, s] = typeof x === 'number' ? [x, y as BatchDim] : [y as number, x];
  return BatchDim.of(k * s.a, k * s.b);
}

/** x / y when it divides exactly (for every batch size), else undefined. */
export function dimDiv(x: Dim, y: Dim): Dim | undefined {
  const [a, b] = parts(x),
    [c, e] = parts(y);
  if (c === 0) {
    if (e === 0) return undefined;
    const qa = a / e,
      qb = b / e;
    return Number.isInteger(qa) && Number.isInteger(qb) ? BatchDim.of(qa, qb) : undefined;
  }
  // (a*batch + b) / (c*batch + e) is a constant q only when a = q*c and b = q*e.
  const q = a / c;
  return Number.isInteger(q) && b === q * e ? q : undefined;
}

/** The element count of a shape: a number, or a linear form when one dimension follows the batch. */
export function sizeOfDims(shape: readonly Dim[]): Dim {
  let n: Dim = 1;
  for (const d of shape) n = dimMul(n, d);
  return n;
}

/** The dimension as users write it: 3, batch, 2*batch, batch+1. */
export function dimToString(d: Dim): string {
  if (typeof d === 'number') return `${d}`;
  const term = d.a === 1 ? 'batch' : d.a === -1 ? '-batch' : `${d.a}*batch`;
  return d.b === 0 ? term : `${term}${d.b > 0 ? '+' : '-'}${Math.abs(d.b)}`;
}

export function bindDim(d: Dim, batch: number): number {
  return typeof d === 'number' ? d : d.a * batch + d.b;
}

export function bindShape(shape: readonly Dim[], batch: number): number[] {
  return shape.map((d) => (typeof d === 'number' ? d : d.a * batch + d.b));
}

/**
 * Attributes with every batch-dependent dimension bound (a shape attribute such as reshape's
 * `shape`, or a constant's): the same object when none depends on the batch.
 */
export function bindAttrs(attrs: Record<string, unknown>, batch: number): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(attrs)) {
    if (Array.isArray(v) && v.some((d) => d instanceof BatchDim)) {
      out ??= { ...attrs };
      out[k] = v.map((d) => (d instanceof BatchDim ? bindDim(d, batch) : d));
    } else if (v instanceof BatchDim) {
      out ??= { ...attrs };
      out[k] = bindDim(v, batch);
    }
  }
  return out ?? attrs;
}
