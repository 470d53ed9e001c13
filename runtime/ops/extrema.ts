// Extremum reductions: max and min over axes (keepdims as for sum), and argmax / argmin along
// one axis (or over the flattened tensor) with an i32 result and no gradient. NaN propagates
// through max/min as in PyTorch; argmax of a row holding NaN is the first NaN's index.

import { RuleError } from '../errors.js';
import { sizeOf, type SymType, type TypedArray } from '../ir/types.js';
import { sizeOfDims } from '../ir/dim.js';
import { defineOp, type CpuKernel, type GradRule, type WgslGen, type OpDef } from './op.js';
import { reduceAxes, reducedShape, reductionMap } from './reduce.js';
import { FLOAT_TESTS, reductionIndex, u32 } from './wgsl.js';
import { keepdims, reduceAttrs, Type } from './attrs.js';
import { arg, reduce } from './onnx.js';

const argAttrs = Type.Object(
  {
    axis: Type.Optional(
      Type.Integer({
        description: 'The axis to search (negative counts from the end); the flattened tensor when absent.',
        examples: [-1],
      }),
    ),
    keepdims: keepdims('Keep the searched axis with size 1.'),
  },
  { additionalProperties: false },
);

function inferExtremum(name: string) {
  return ([t]: SymType[], attrs: Record<string, unknown>): SymType => {
    if (t!.dtype === 'i32') throw new RuleError(`${name} needs a float tensor, got i32`, 'DTypeError');
    const axes = reduceAxes(t!.shape.length, attrs.axis);
    if (axes.some((a) => t!.shape[a] === 0)) throw new RuleError(`${name} over an empty axis has no value`);
    return { shape: reducedShape(t!.shape, axes, attrs.keepdims === true), dtype: t!.dtype };
  };
}

function extremumKernel(isMax: boolean): CpuKernel {
  return ({ inputs, output, inTypes, attrs }) => {
    const x = inputs[0]!;
    const shape = inTypes[0]!.shape;
    const map = reductionMap(shape, reduceAxes(shape.length, attrs.axis));
    const n = x.length;
    return () => {
      output.fill(isMax ? -Infinity : Infinity);
      for (let i = 0; i < n; i++) {
        const v = x[i]!,
          o = map[i]!,
          cur = output[o]!;
        // NaN wins: once a slot holds NaN it stays NaN (v > NaN is false).
        if (v !== v || (isMax ? v > cur : v < cur)) output[o] = v;
      }
    };
  };
}

/** WGSL: one invocation per output, in the CPU kernel's order; a NaN, once met, stays. */
function extremumWgsl(isMax: boolean): WgslGen {
  return ({ inTypes, outType, attrs }) => {
    const shape = inTypes[0]!.shape;
    const { base, off, count } = reductionIndex(shape, reduceAxes(shape.length, attrs.axis));
    const body = [
      `let b = ${base('i')};`,
      `var acc = in0[b + ${off('0u')}];`,
      `for (var r = 1u; r < ${u32(count)}; r = r + 1u) {`,
      `  let v = in0[b + ${off('r')}];`,
      `  if (!is_nan(acc) && (is_nan(v) || v ${isMax ? '>' : '<'} acc)) { acc = v; }`,
      '}',
      'out[i] = acc;',
    ].join('\n');
    return { kind: 'map', count: sizeOf(outType.shape), body, decls: FLOAT_TESTS };
  };
}

/**
 * Ties share the gradient equally, as PyTorch's amax/amin (and full max/min) do:
 * dx = dy * (x == y) / count(x == y), with y and dy broadcast back over the reduced axes.
 */
const extremumGrad: GradRule = (g, node, dy) => {
  const x = node.inputs[0]!;
  const inShape = g.type(x).shape;
  const axes = reduceAxes(inShape.length, node.attrs.axis);
  const kept = reducedShape(inShape, axes, true);
  const back = (v: string) => {
    const r = node.attrs.keepdims === true ? v : g.op('reshape', [v], { shape: kept });
    return g.op('broadcast_to', [r], { shape: [...inShape] });
  };
  const mask = g.op('equal', [x, back(node.name)]);
  const count = g.op('sum', [mask], { axis: axes, keepdims: true });
  return [g.op('mul', [back(dy), g.op('div', [mask, count])])];
};

function argAxis(t: SymType, attrs: Record<string, unknown>): number | undefined {
  if (attrs.axis === undefined) return undefined;
  return reduceAxes(t.shape.length, attrs.axis)[0]!;
}

function inferArg(name: string) {
  return ([t]: SymType[], attrs: Record<string, unknown>): SymType => {
    if (t!.dtype === 'i32') throw new RuleError(`${name} needs a float tensor, got i32`, 'DTypeError');
    const axis = argAxis(t!, attrs);
    const axes = axis === undefined ? [...t!.shape.keys()] : [axis];
    if (sizeOfDims(t!.shape) === 0 || axes.some((a) => t!.shape[a] === 0))
      throw new RuleError(`${name} of an empty tensor has no value`);
    return { shape: reducedShape(t!.shape, axes, attrs.keepdims === true), dtype: 'i32' };
  };
}

/** WGSL: one invocation per searched row; the first extremum (or NaN) wins, as on the CPU. */
function argWgsl(isMax: boolean): WgslGen {
  return ({ inTypes, outType, attrs }) => {
    const t = inTypes[0]!;
    const axis = argAxis(t, attrs);
    const len = axis === undefined ? sizeOf(t.shape) : t.shape[axis]!;
    const inner = axis === undefined ? 1 : sizeOf(t.shape.slice(axis + 1));
    const body = [
      `let base = (i / ${u32(inner)}) * ${u32(len * inner)} + i % ${u32(inner)};`,
      'var best = in0[base];',
      'var bi = 0u;',
      `for (var k = 1u; k < ${u32(len)} && !is_nan(best); k = k + 1u) {`,
      `  let v = in0[base + k * ${u32(inner)}];`,
      `  if (is_nan(v) || v ${isMax ? '>' : '<'} best) { best = v; bi = k; }`,
      '}',
      'out[i] = i32(bi);',
    ].join('\n');
    return { kind: 'map', count: sizeOf(outType.shape), body, decls: FLOAT_TESTS };
  };
}

function argKernel(isMax: boolean): CpuKernel {
  return ({ inputs, output, inTypes, attrs }) => {
    const x = inputs[0]! as TypedArray;
    const t = inTypes[0]!;
    const axis = argAxis(t, attrs);
    // Elements (outer, k, inner) at outer*len*inner + k*inner + inner: search k.
    const len = axis === undefined ? sizeOf(t.shape) : t.shape[axis]!;
    const inner = axis === undefined ? 1 : sizeOf(t.shape.slice(axis + 1));
    const outer = axis === undefined ? 1 : sizeOf(t.shape.slice(0, axis));
    return () => {
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          const base = o * len * inner + i;
          let best = x[base]!,
            bi = 0;
          // First index wins ties (PyTorch); the first NaN counts as the extremum.
          for (let k = 1; k < len && best === best; k++) {
            const v = x[base + k * inner]!;
            if (v !== v || (isMax ? v > best : v < best)) [best, bi] = [v, k];
          }
          output[o * inner + i] = bi;
        }
      }
    };
  };
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type ExtremaOpName = 'max' | 'min' | 'argmax' | 'argmin';

export const extremaOps: { readonly [K in ExtremaOpName]: OpDef } = {
  max: defineOp({
    name: 'max',
    doc: 'Maximum over axes; ties share the gradient.',
    group: 'reduce',
    arity: 1,
    attrs: reduceAttrs,
    infer: inferExtremum('max'),
    cpu: extremumKernel(true),
    wgsl: extremumWgsl(true),
    grad: extremumGrad,
    onnx: reduce('ReduceMax'),
  }),
  min: defineOp({
    name: 'min',
    doc: 'Minimum over axes; ties share the gradient.',
    group: 'reduce',
    arity: 1,
    attrs: reduceAttrs,
    infer: inferExtremum('min'),
    cpu: extremumKernel(false),
    wgsl: extremumWgsl(false),
    grad: extremumGrad,
    onnx: reduce('ReduceMin'),
  }),
  argmax: defineOp({
    name: 'argmax',
    doc: 'Index (i32) of the largest element along an axis; the first one on ties. No gradient.',
    group: 'reduce',
    arity: 1,
    attrs: argAttrs,
    infer: inferArg('argmax'),
    cpu: argKernel(true),
    wgsl: argWgsl(true),
    grad: 'none',
    onnx: arg('ArgMax'),
  }),
  argmin: defineOp({
    name: 'argmin',
    doc: 'Index (i32) of the smallest element along an axis; the first one on ties. No gradient.',
    group: 'reduce',
    arity: 1,
    attrs: argAttrs,
    infer: inferArg('argmin'),
    cpu: argKernel(false),
    wgsl: argWgsl(false),
    grad: 'none',
    onnx: arg('ArgMin'),
  }),
};
