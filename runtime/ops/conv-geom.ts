// Convolution geometry shared by conv1d/conv2d, their gradient helpers and the kernels: every
// convolution is handled as a 2-D one (conv1d is H = 1), with strides, dilations and explicit
// per-side padding resolved once from the attributes at shape-rule time.

import { RuleError } from '../errors.js';
import { shapeStr, type SymType } from '../ir/types.js';
import { isSymbolic, type Dim } from '../ir/dim.js';
import { Type } from './attrs.js';

/** A positive integer or a list of them (one per spatial axis). */
export const perAxisSchema = (description: string, examples: unknown[], minimum = 1) =>
  Type.Unsafe<number | number[]>({
    description,
    examples,
    // One schema of two types (`minimum` applies to the integer, `items` to the list), not a
    // oneOf: a bad value then gets one error, not one per alternative.
    type: ['integer', 'array'],
    minimum,
    items: { type: 'integer', minimum },
    minItems: 1,
    maxItems: 4,
  });

/** An optional `perAxisSchema`. */
export const perAxis = (description: string, examples: unknown[], minimum = 1) =>
  Type.Optional(perAxisSchema(description, examples, minimum));

export interface ConvAttrs {
  stride?: number | number[];
  padding?: number | number[] | string;
  dilation?: number | number[];
  groups?: number;
}

/** The resolved attributes of the gradient helpers (always 2-D). */
export interface ConvGradAttrs {
  stride: number[];
  pads: number[];
  dilation: number[];
  groups: number;
  /** conv_grad_input: the input's spatial size [h, w]; conv_grad_weight: the kernel's [kh, kw]. */
  size: number[];
}

/** Everything a kernel needs about one convolution, as 2-D. */
export interface ConvGeom {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  /** top, left, bottom, right */
  pt: number;
  pl: number;
  pb: number;
  pr: number;
  groups: number;
}

/** A per-axis attribute as `rank` values (an integer applies to every axis). */
export function expand(v: number | number[] | undefined, rank: number, dflt: number, what: string): number[] {
  if (v === undefined) return Array<number>(rank).fill(dflt);
  if (typeof v === 'number') return Array<number>(rank).fill(v);
  if (v.length !== rank)
    throw new RuleError(`${what} needs ${rank === 1 ? '1 value' : `${rank} values`}, got ${v.length}`, 'AttrError');
  return [...v];
}

/**
 * Explicit padding [begin..., end...] per spatial axis from `padding`: an integer (every side),
 * one value per axis (both sides), one per side (begins then ends: [top, left, bottom, right]
 * in 2-D, [left, right] in 1-D), 'valid' (none) or 'same' (stride 1: the output keeps the
 * input's size; an odd total puts the extra element at the end, as PyTorch).
 */
export function resolvePads(
  padding: number | number[] | string | undefined,
  rank: number,
  kernel: number[],
  dilation: number[],
  stride: number[],
): number[] {
  if (padding === undefined || padding === 'valid') return Array<number>(2 * rank).fill(0);
  if (padding === 'same') {
    if (stride.some((s) => s !== 1))
      throw new RuleError(
        `padding 'same' needs stride 1 (as PyTorch), got stride ${JSON.stringify(stride)}`,
        'AttrError',
      );
    const total = kernel.map((k, i) => dilation[i]! * (k - 1));
    return [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
  }
  if (typeof padding === 'string')
    throw new RuleError(`padding must be a number, a list, 'same' or 'valid'`, 'AttrError');
  if (typeof padding === 'number') return Array<number>(2 * rank).fill(padding);
  if (padding.length === rank) return [...padding, ...padding];
  if (padding.length === 2 * rank) return [...padding];
  throw new RuleError(
    `padding needs ${rank} values (one per axis) or ${2 * rank} (one per side), got ${padding.length}`,
    'AttrError',
  );
}

/** The output length of one axis, or a RuleError when the kernel does not fit. */
export function outLen(
  len: number,
  k: number,
  s: number,
  d: number,
  p0: number,
  p1: number,
  axis: string,
  ceil = false,
): number {
  const span = d * (k - 1) + 1;
  const padded = len + p0 + p1;
  if (span > padded)
    throw new RuleError(
      `the kernel (${k}${d > 1 ? ` dilated by ${d}: ${span}` : ''}) is larger than the padded input along ${axis} (${len} + ${p0 + p1} padding = ${padded})`,
    );
  let out = Math.floor((padded - span + (ceil ? s - 1 : 0)) / s) + 1;
  // PyTorch's ceil_mode rule: the last window must start inside the input or its left padding.
  if (ceil && (out - 1) * s >= len + p0) out--;
  return out;
}

/** A concrete spatial/channel dim (the batch is the only symbolic one). */
export function concrete(d: Dim, what: string, t: SymType): number {
  if (isSymbolic(d)) throw new RuleError(`${what} of ${shapeStr(t.shape)} must be a number, not the batch`);
  return d;
}

/** Spatial rank of a convolution/pool from its input's rank. */
export function spatialRank(op: string): number {
  return op.includes('1d') ? 1 : 2;
}

/** As 2-D: [n, c, h, w] from an NCL or NCHW shape. */
export function as2d<D>(shape: D[]): D[] {
  return shape.length === 3 ? [shape[0]!, shape[1]!, 1 as D, shape[2]!] : shape;
}

/** The resolved gradient-helper attributes of a conv1d/conv2d node (2-D form). */
export function gradAttrs(
  rank: number,
  attrs: ConvAttrs,
  kernel: number[],
): { stride: number[]; pads: number[]; dilation: number[]; groups: number } {
  const stride = expand(attrs.stride, rank, 1, 'stride');
  const dilation = expand(attrs.dilation, rank, 1, 'dilation');
  const pads = resolvePads(attrs.padding, rank, kernel, dilation, stride);
  if (rank === 1)
    return {
      stride: [1, stride[0]!],
      pads: [0, pads[0]!, 0, pads[1]!],
      dilation: [1, dilation[0]!],
      groups: attrs.groups ?? 1,
    };
  return { stride, pads, dilation, groups: attrs.groups ?? 1 };
}

/** The geometry from concrete 2-D shapes of x [n, c, h, w] and w [o, c/g, kh, kw] and resolved attributes. */
export function geom(
  x: number[],
  wt: number[],
  a: { stride: number[]; pads: number[]; dilation: number[]; groups: number },
  ceil = false,
): ConvGeom {
  const [n, c, h, w] = x as [number, number, number, number];
  const [o, , kh, kw] = wt as [number, number, number, number];
  const [sh, sw] = a.stride as [number, number];
  const [dh, dw] = a.dilation as [number, number];
  const [pt, pl, pb, pr] = a.pads as [number, number, number, number];
  const oh = outLen(h, kh, sh, dh, pt, pb, 'H', ceil);
  const ow = outLen(w, kw, sw, dw, pl, pr, 'W', ceil);
  return { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, pb, pr, groups: a.groups };
}
