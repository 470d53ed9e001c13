// 2-D pooling on NCHW as PyTorch: max_pool2d (padding counts as -inf; of equal maxima the first
// in the window, row-major, takes the gradient) and avg_pool2d (count_include_pad, default true:
// the divisor counts the padding, not what lies past it in ceil_mode). kernel, stride (default:
// the kernel), padding (at most half the kernel, both sides), ceil_mode. The gradients are the
// internal ops max_pool2d_grad (recomputes each window's first maximum) and avg_pool2d_grad.
// Kernels are direct loops over the windows (each output reads kh·kw inputs: nothing to batch
// into a product); the WGSL kernels (pool.wgsl.ts) are the same loops, one invocation per result element, the
// gradients as gathers over the windows that cover an input element.

import { RuleError } from '../errors.js';
import { shapeStr, type SymType, type TypedArray } from '../ir/types.js';
import { defineOp, type CpuAccel, type OnnxAttr, type OpDef } from './op.js';
import { Type } from './attrs.js';
import { int, ints } from './onnx.js';
import { concrete, expand, outLen, perAxis, perAxisSchema } from './conv-geom.js';
import { forwardWgsl, gradWgsl } from './pool.wgsl.js';

interface PoolAttrs {
  kernel: number | number[];
  stride?: number | number[];
  padding?: number | number[];
  ceil_mode?: boolean;
  count_include_pad?: boolean;
}

export interface PoolGeom {
  n: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  oh: number;
  ow: number;
  include: boolean;
}

function poolAttrs(avg: boolean, helper: boolean) {
  return Type.Object(
    {
      kernel: perAxisSchema('Window size: one integer or [kh, kw].', [2, [3, 2]]),
      stride: perAxis('Step between windows: one integer or [sh, sw]; default the kernel.', [1, [2, 1]]),
      padding: perAxis(
        `Padding on both sides of each axis (${avg ? 'zeros' : '-inf'}), at most half the kernel: one integer or [ph, pw]; default 0.`,
        [1, [1, 0]],
        0,
      ),
      ceil_mode: Type.Optional(
        Type.Boolean({
          description: 'Round the output size up (a last, partial window), as PyTorch.',
          default: false,
          examples: [true],
        }),
      ),
      ...(avg
        ? {
            count_include_pad: Type.Optional(
              Type.Boolean({
                description:
                  'Divide by the window size including padding (default, as PyTorch) or by the inputs it covers.',
                default: true,
                examples: [false],
              }),
            ),
          }
        : {}),
      ...(helper
        ? { size: Type.Array(Type.Integer({ minimum: 1 }), { description: "The input's [h, w].", examples: [[4, 4]] }) }
        : {}),
    },
    { additionalProperties: false },
  );
}

function poolGeom(n: number, h: number, w: number, a: PoolAttrs): PoolGeom {
  const [kh, kw] = expand(a.kernel, 2, 1, 'kernel') as [number, number];
  const [sh, sw] = expand(a.stride ?? a.kernel, 2, 1, 'stride') as [number, number];
  const [ph, pw] = expand(a.padding, 2, 0, 'padding') as [number, number];
  if (2 * ph > kh || 2 * pw > kw)
    throw new RuleError(
      `padding [${ph}, ${pw}] must be at most half the kernel [${kh}, ${kw}] (as PyTorch)`,
      'AttrError',
    );
  const ceil = a.ceil_mode === true;
  const oh = outLen(h, kh, sh, 1, ph, ph, 'H', ceil),
    ow = outLen(w, kw, sw, 1, pw, pw, 'W', ceil);
  return { n, h, w, kh, kw, sh, sw, ph, pw, oh, ow, include: a.count_include_pad !== false };
}

function inferPool(name: string) {
  return ([x]: SymType[], a: PoolAttrs): SymType => {
    if (x!.shape.length !== 4) throw new RuleError(`${name} needs an input [N, C, H, W], got ${shapeStr(x!.shape)}`);
    if (x!.dtype === 'i32') throw new RuleError(`${name} needs a float tensor, got i32`, 'DTypeError');
    const h = concrete(x!.shape[2]!, 'H', x!),
      w = concrete(x!.shape[3]!, 'W', x!);
    concrete(x!.shape[1]!, 'C', x!);
    const g = poolGeom(1, h, w, a);
    return { shape: [x!.shape[0]!, x!.shape[1]!, g.oh, g.ow], dtype: x!.dtype };
  };
}

/** Geometry from a concrete NCHW input shape (n counts images × channels). */
const geomOf = (s: number[], a: PoolAttrs) => poolGeom(s[0]! * s[1]!, s[2]!, s[3]!, a);

/** avg_pool2d's divisor of the window at (oy, ox), PyTorch's rule. */
function divisor(g: PoolGeom, oy: number, ox: number): number {
  const y0 = oy * g.sh - g.ph,
    x0 = ox * g.sw - g.pw;
  const y1 = Math.min(y0 + g.kh, g.h + g.ph),
    x1 = Math.min(x0 + g.kw, g.w + g.pw);
  if (g.include) return (y1 - y0) * (x1 - x0);
  return (Math.min(y1, g.h) - Math.max(y0, 0)) * (Math.min(x1, g.w) - Math.max(x0, 0));
}

/**
 * The common 2×2, stride 2 window without padding, unrolled: the four values compared in window
 * order (a strict > keeps the first of equal maxima, NaN wins), exactly as the general loop.
 */
function max2x2(g: PoolGeom, x: TypedArray, y: TypedArray | null, dy?: TypedArray, dx?: TypedArray): () => void {
  const { w, oh, ow } = g;
  const hw = g.h * w;
  return () => {
    if (dx) dx.fill(0);
    let o = 0;
    for (let i = 0; i < g.n; i++)
      for (let oy = 0; oy < oh; oy++) {
        const r0 = i * hw + 2 * oy * w;
        for (let ox = 0; ox < ow; ox++, o++) {
          let at = r0 + 2 * ox,
            m = x[at]!;
          let v = x[r0 + 2 * ox + 1]!;
          if (v > m || v !== v) {
            m = v;
            at = r0 + 2 * ox + 1;
          }
          v = x[r0 + w + 2 * ox]!;
          if (v > m || v !== v) {
            m = v;
            at = r0 + w + 2 * ox;
          }
          v = x[r0 + w + 2 * ox + 1]!;
          if (v > m || v !== v) {
            m = v;
            at = r0 + w + 2 * ox + 1;
          }
          if (y) y[o] = m;
          else dx![at]! += dy![o]!;
        }
      }
  };
}

/**
 * The fast tier's 2×2, stride-2 max pooling (forward: [x, y]; gradient: [x, dy, dx]) as
 * WebAssembly SIMD (executors/cpu/wasm/pool.ts) where the images' sides are even and at least
 * 8 wide and the arrays are f32 in the kernels' memory; null leaves the loops above.
 */
function simd2x2(accel: CpuAccel, g: PoolGeom, arrays: TypedArray[]): (() => void) | null {
  const fits = g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0;
  if (!fits || g.h !== 2 * g.oh || g.w !== 2 * g.ow || g.ow < 4 || g.n * g.oh === 0) return null;
  if (!arrays.every((a) => a instanceof Float32Array && accel.holds(a))) return null;
  const [x, a, b] = arrays as Float32Array[];
  const rows = g.n * g.oh;
  return b ? () => accel.maxPool2x2(x!, a!, rows, g.ow, b) : () => accel.maxPool2x2(x!, a!, rows, g.ow);
}

/** Window bounds clamped to the input, per output row or column: [start, end) for each index. */
function spans(out: number, s: number, p: number, k: number, len: number): Int32Array {
  const r = new Int32Array(2 * out);
  for (let o = 0; o < out; o++) {
    r[2 * o] = Math.max(0, o * s - p);
    r[2 * o + 1] = Math.min(len, o * s - p + k);
  }
  return r;
}

/**
 * max_pool2d (and, with dx, its gradient): each window's first maximum, the windows' bounds
 * clamped once per row and column, so the inner loops test nothing but the values.
 */
function maxKernel(g: PoolGeom, x: TypedArray, y: TypedArray | null, dy?: TypedArray, dx?: TypedArray): () => void {
  if (
    g.kh === 2 &&
    g.kw === 2 &&
    g.sh === 2 &&
    g.sw === 2 &&
    g.ph === 0 &&
    g.pw === 0 &&
    2 * g.oh <= g.h &&
    2 * g.ow <= g.w
  )
    return max2x2(g, x, y, dy, dx);
  const ys = spans(g.oh, g.sh, g.ph, g.kh, g.h),
    xs = spans(g.ow, g.sw, g.pw, g.kw, g.w);
  const hw = g.h * g.w;
  return () => {
    if (dx) dx.fill(0);
    let o = 0;
    for (let i = 0; i < g.n; i++) {
      const base = i * hw;
      for (let oy = 0; oy < g.oh; oy++) {
        const y0 = ys[2 * oy]!,
          y1 = ys[2 * oy + 1]!;
        for (let ox = 0; ox < g.ow; ox++, o++) {
          const x0 = xs[2 * ox]!,
            x1 = xs[2 * ox + 1]!;
          let at = base + y0 * g.w + x0,
            m = x[at]!;
          for (let iy = y0; iy < y1; iy++) {
            const row = base + iy * g.w;
            for (let ix = iy === y0 ? x0 + 1 : x0; ix < x1; ix++) {
              const v = x[row + ix]!;
              if (v > m || v !== v) {
                m = v;
                at = row + ix;
              }
            }
          }
          if (y) y[o] = m;
          else dx![at]! += dy![o]!;
        }
      }
    }
  };
}

function avgRef(g: PoolGeom, x: TypedArray, y: TypedArray): void {
  let o = 0;
  for (let i = 0; i < g.n; i++)
    for (let oy = 0; oy < g.oh; oy++) {
      const y0 = Math.max(0, oy * g.sh - g.ph),
        y1 = Math.min(g.h, oy * g.sh - g.ph + g.kh);
      for (let ox = 0; ox < g.ow; ox++) {
        const x0 = Math.max(0, ox * g.sw - g.pw),
          x1 = Math.min(g.w, ox * g.sw - g.pw + g.kw);
        let s = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += x[(i * g.h + iy) * g.w + ix]!;
        y[o++] = s / divisor(g, oy, ox);
      }
    }
}

/** avg_pool2d's gradient: each window's dy over its divisor, spread over the inputs it covers. */
function avgGrad(g: PoolGeom, dy: TypedArray, dx: TypedArray): void {
  dx.fill(0);
  let o = 0;
  for (let i = 0; i < g.n; i++) {
    const base = i * g.h * g.w;
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++, o++) {
        const d = dy[o]! / divisor(g, oy, ox);
        const y0 = Math.max(0, oy * g.sh - g.ph),
          y1 = Math.min(g.h, oy * g.sh - g.ph + g.kh);
        const x0 = Math.max(0, ox * g.sw - g.pw),
          x1 = Math.min(g.w, ox * g.sw - g.pw + g.kw);
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) dx[base + iy * g.w + ix]! += d;
      }
  }
}

/** MaxPool's/AveragePool's attributes. */
function onnxAttrs(a: PoolAttrs, avg: boolean): Record<string, OnnxAttr> {
  const p = expand(a.padding, 2, 0, 'padding');
  return {
    kernel_shape: ints(expand(a.kernel, 2, 1, 'kernel')),
    strides: ints(expand(a.stride ?? a.kernel, 2, 1, 'stride')),
    pads: ints([...p, ...p]),
    ceil_mode: int(a.ceil_mode === true ? 1 : 0),
    ...(avg ? { count_include_pad: int(a.count_include_pad === false ? 0 : 1) } : {}),
  };
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type PoolOpName = 'max_pool2d' | 'avg_pool2d' | 'max_pool2d_grad' | 'avg_pool2d_grad';

export const poolOps: { readonly [K in PoolOpName]: OpDef } = {
  max_pool2d: defineOp({
    name: 'max_pool2d',
    doc: 'max_pool2d(x): the maximum of each window of x [N, C, H, W], as torch.nn.functional.max_pool2d.',
    group: 'conv',
    arity: 1,
    attrs: poolAttrs(false, false),
    infer: inferPool('max_pool2d'),
    cpu: ({ inputs, output, inTypes, attrs }) => {
      return maxKernel(geomOf(inTypes[0]!.shape, attrs), inputs[0]!, output);
    },
    fast: (accel, { inputs, output, inTypes, attrs }) =>
      simd2x2(accel, geomOf(inTypes[0]!.shape, attrs), [inputs[0]!, output]),
    wgsl: ({ inTypes, attrs }) => forwardWgsl(geomOf(inTypes[0]!.shape, attrs), true),
    grad: (g, node, dy) => [g.op('max_pool2d_grad', [node.inputs[0]!, dy], node.attrs)],
    onnx: (c) => void c.emit('MaxPool', c.x, onnxAttrs(c.node.attrs, false), c.out),
  }),
  avg_pool2d: defineOp({
    name: 'avg_pool2d',
    doc: 'avg_pool2d(x): the mean of each window of x [N, C, H, W], as torch.nn.functional.avg_pool2d.',
    group: 'conv',
    arity: 1,
    attrs: poolAttrs(true, false),
    infer: inferPool('avg_pool2d'),
    cpu: ({ inputs, output, inTypes, attrs }) => {
      const g = geomOf(inTypes[0]!.shape, attrs);
      return () => avgRef(g, inputs[0]!, output);
    },
    wgsl: ({ inTypes, attrs }) => forwardWgsl(geomOf(inTypes[0]!.shape, attrs), false),
    grad: (g, node, dy) => {
      const s = g.type(node.inputs[0]!).shape;
      return [g.op('avg_pool2d_grad', [dy], { ...node.attrs, size: [s[2]!, s[3]!] })];
    },
    onnx: (c) => void c.emit('AveragePool', c.x, onnxAttrs(c.node.attrs, true), c.out),
  }),
  max_pool2d_grad: defineOp({
    name: 'max_pool2d_grad',
    doc: "max_pool2d_grad(x, dy): max_pool2d's gradient (each window's first maximum takes its dy).",
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: poolAttrs(false, false),
    infer: ([x]) => ({ shape: [...x!.shape], dtype: x!.dtype }),
    cpu: ({ inputs, output, inTypes, attrs }) => {
      return maxKernel(geomOf(inTypes[0]!.shape, attrs), inputs[0]!, null, inputs[1]!, output);
    },
    fast: (accel, { inputs, output, inTypes, attrs }) =>
      simd2x2(accel, geomOf(inTypes[0]!.shape, attrs), [inputs[0]!, inputs[1]!, output]),
    wgsl: ({ inTypes, attrs }) => gradWgsl(geomOf(inTypes[0]!.shape, attrs), true),
    grad: 'none',
    onnx: 'none',
  }),
  avg_pool2d_grad: defineOp({
    name: 'avg_pool2d_grad',
    doc: "avg_pool2d_grad(dy): avg_pool2d's gradient (each window's dy spread over its inputs).",
    group: 'helper',
    internal: true,
    arity: 1,
    attrs: poolAttrs(true, true),
    infer: ([dy], a) => ({
      shape: [dy!.shape[0]!, dy!.shape[1]!, ...(a as { size: number[] }).size],
      dtype: dy!.dtype,
    }),
    cpu: ({ inputs, output, outType, attrs }) => {
      const g = geomOf(outType.shape, attrs);
      return () => avgGrad(g, inputs[0]!, output);
    },
    wgsl: ({ outType, attrs }) => gradWgsl(geomOf(outType.shape, attrs), false),
    grad: 'none',
    onnx: 'none',
  }),
};
