// Ops that cut tensors apart and join them: concat along an axis, slice (start/end/step per
// axis, negative positions counting from the end, clamped as in Python), and slice_grad, which
// places a slice's gradient back into zeros of the input's shape.

import { RuleError } from '../errors.js';
import { sameShape, shapeStr, sizeOf, type SymType } from '../ir/types.js';
import { dimAdd, dimSub, isConcrete, isSymbolic, type Dim } from '../ir/dim.js';
import { contiguousStrides } from './broadcast.js';
import { defineOp, type OpDef } from './op.js';
import { reduceAxes } from './reduce.js';
import { gatherIndex, u32 } from './wgsl.js';
import { Type } from './attrs.js';
import { int } from './onnx.js';

const ints = (description: string, examples: number[][], minimum?: number) =>
  Type.Optional(Type.Array(Type.Integer(minimum === undefined ? {} : { minimum }), { description, examples }));

const sliceProps = {
  axes: ints('The axes sliced (default 0, 1, ... for as many as `starts` has).', [[1]]),
  starts: ints('First position per axis (negative counts from the end).', [[0], [2, 0]]),
  ends: ints('Position after the last per axis (negative counts from the end; clamped to the size).', [[2], [-1]]),
  steps: ints('Stride per axis (default 1).', [[2]], 1),
};

interface SliceSpec {
  /** Per axis of the input: first position, count and step. */
  start: number[];
  count: number[];
  step: number[];
}

/** The attribute lists of a slice, checked (one entry per sliced axis). */
function sliceLists<D extends Dim>(rank: number, attrs: Record<string, unknown>) {
  const starts = (attrs.starts as D[] | undefined) ?? [];
  const ends = (attrs.ends as D[] | undefined) ?? [];
  const steps = (attrs.steps as number[] | undefined) ?? [];
  const k = Math.max(starts.length, ends.length, steps.length);
  const axes = (attrs.axes as number[] | undefined) ?? [...Array(k).keys()];
  if (
    axes.length !== k ||
    (starts.length && starts.length !== k) ||
    (ends.length && ends.length !== k) ||
    (steps.length && steps.length !== k)
  ) {
    throw new RuleError('slice: axes, starts, ends and steps must have the same length', 'AttrError');
  }
  const norm = reduceAxes(rank, axes);
  if (norm.length !== axes.length) throw new RuleError('slice: an axis is listed twice', 'AttrError');
  return { starts, ends, steps, axes };
}

/** Whether x <= y at every batch size (>= 1). */
function dimLeq(x: Dim, y: Dim): boolean {
  const d = dimSub(y, x);
  return typeof d === 'number' ? d >= 0 : d.a >= 0 && d.a + d.b >= 0;
}

/**
 * The shape a slice gives, `batch` possibly symbolic. Along a batch-dependent axis (or with
 * batch-dependent bounds, as concat's gradient writes) only a step-1 window that lies inside
 * the axis at every batch size can be typed: Python's clamping would depend on the batch.
 */
function sliceShape(shape: readonly Dim[], attrs: Record<string, unknown>): Dim[] {
  const { starts, ends, steps, axes } = sliceLists<Dim>(shape.length, attrs);
  if (isConcrete(shape) && [...starts, ...ends].every((d) => !isSymbolic(d))) return sliceSpec(shape, attrs).count;
  const out = [...shape];
  axes.forEach((a0, j) => {
    const a = a0 < 0 ? a0 + shape.length : a0;
    const n = shape[a]!;
    const s = starts[j] ?? 0,
      e = ends[j] ?? n,
      st = steps[j] ?? 1;
    if (!isSymbolic(n) && !isSymbolic(s) && !isSymbolic(e)) {
      out[a] = sliceSpec([n], { starts: [s], ends: [e], steps: [st] }).count[0]!;
      return;
    }
    if (st !== 1 || !dimLeq(0, s) || !dimLeq(s, e) || !dimLeq(e, n))
      throw new RuleError(
        `cannot slice axis ${a} of ${shapeStr(shape)} from ${String(s)} to ${String(e)} at every batch size`,
      );
    out[a] = dimSub(e, s);
  });
  return out;
}

function sliceSpec(shape: readonly number[], attrs: Record<string, unknown>): SliceSpec {
  const { starts, ends, steps, axes } = sliceLists<number>(shape.length, attrs);
  const spec: SliceSpec = { start: shape.map(() => 0), count: [...shape], step: shape.map(() => 1) };
  axes.forEach((a0, j) => {
    const a = a0 < 0 ? a0 + shape.length : a0;
    const n = shape[a]!;
    // Python's rules: negative positions count from the end, then clamp to [0, n].
    const clamp = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
    const s = clamp(starts[j] ?? 0);
    const e = clamp(ends[j] ?? n);
    const st = steps[j] ?? 1;
    spec.start[a] = s;
    spec.step[a] = st;
    spec.count[a] = e > s ? Math.ceil((e - s) / st) : 0;
  });
  return spec;
}

/** Flat input position of every output element of a slice. */
function sliceMap(shape: readonly number[], spec: SliceSpec): Int32Array {
  const ist = contiguousStrides(shape);
  const ost = contiguousStrides(spec.count);
  const n = sizeOf(spec.count);
  const map = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i,
      src = 0;
    for (let d = 0; d < shape.length; d++) {
      const q = Math.floor(rem / ost[d]!);
      rem -= q * ost[d]!;
      src += (spec.start[d]! + q * spec.step[d]!) * ist[d]!;
    }
    map[i] = src;
  }
  return map;
}

/** WGSL: the input position of output element `i` of a slice (start + q·step per axis). */
function sliceSource(shape: readonly number[], spec: SliceSpec): string {
  const ist = contiguousStrides(shape);
  const start = spec.start.reduce((a, s, d) => a + s * ist[d]!, 0);
  return `${u32(start)} + ${gatherIndex(
    'i',
    spec.count,
    spec.step.map((st, d) => st * ist[d]!),
  )}`;
}

function concatAxis(t: SymType, attrs: Record<string, unknown>): number {
  return reduceAxes(t.shape.length, attrs.axis ?? 0)[0]!;
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type SlicingOpName = 'concat' | 'slice' | 'slice_grad';

export const slicingOps: { readonly [K in SlicingOpName]: OpDef } = {
  concat: defineOp({
    name: 'concat',
    doc: 'Join tensors along an existing axis (default 0); the other dimensions must agree.',
    group: 'shape',
    arity: [1, 1024],
    attrs: Type.Object(
      {
        axis: Type.Optional(
          Type.Integer({
            description: 'The axis to join along (negative counts from the end).',
            default: 0,
            examples: [1, -1],
          }),
        ),
      },
      { additionalProperties: false },
    ),
    infer: (ts, attrs) => {
      const first = ts[0]!;
      if (first.shape.length === 0) throw new RuleError('concat joins tensors with at least one axis, not scalars');
      const axis = concatAxis(first, attrs);
      let total: Dim = 0;
      ts.forEach((t, i) => {
        if (t.dtype !== first.dtype)
          throw new RuleError(`dtypes differ: input 0 is ${first.dtype}, input ${i} is ${t.dtype}`, 'DTypeError');
        const same =
          t.shape.length === first.shape.length && t.shape.every((d, j) => j === axis || d === first.shape[j]);
        if (!same)
          throw new RuleError(
            `input ${i} has shape ${shapeStr(t.shape)}; it must match ${shapeStr(first.shape)} except along axis ${axis}`,
          );
        total = dimAdd(total, t.shape[axis]!);
      });
      const shape = [...first.shape];
      shape[axis] = total;
      return { shape, dtype: first.dtype };
    },
    cpu: ({ inputs, output, inTypes, outType, attrs }) => {
      const axis = concatAxis(inTypes[0]!, attrs);
      // Each input is `outer` blocks of (its axis length * inner) contiguous elements.
      const outer = sizeOf(outType.shape.slice(0, axis));
      const inner = sizeOf(outType.shape.slice(axis + 1));
      const rowOut = outType.shape[axis]! * inner;
      const parts = inTypes.map((t, i) => ({ x: inputs[i]!, row: t.shape[axis]! * inner }));
      const offsets: number[] = [];
      let off = 0;
      for (const p of parts) {
        offsets.push(off);
        off += p.row;
      }
      return () => {
        parts.forEach((p, j) => {
          const x = p.x,
            row = p.row,
            o0 = offsets[j]!;
          for (let o = 0; o < outer; o++) {
            const src = o * row,
              dst = o * rowOut + o0;
            for (let k = 0; k < row; k++) output[dst + k] = x[src + k]!;
          }
        });
      };
    },
    // WGSL: output row position r falls in one input's span; a chain of ifs picks it.
    wgsl: ({ inTypes, outType, attrs }) => {
      const axis = concatAxis(inTypes[0]!, attrs);
      const inner = sizeOf(outType.shape.slice(axis + 1));
      const rowOut = outType.shape[axis]! * inner;
      const lines = [`let o = i / ${u32(rowOut)};`, `let r = i % ${u32(rowOut)};`];
      let off = 0;
      inTypes.forEach((t, j) => {
        const row = t.shape[axis]! * inner;
        const read = `out[i] = in${j}[o * ${u32(row)} + r - ${u32(off)}];`;
        lines.push(
          j === inTypes.length - 1
            ? `${j ? 'else ' : ''}{ ${read} }`
            : `${j ? 'else ' : ''}if (r < ${u32(off + row)}) { ${read} }`,
        );
        off += row;
      });
      return { kind: 'map', count: sizeOf(outType.shape), body: lines.join('\n') };
    },
    grad: (g, node, dy, needs) => {
      const axis = concatAxis(g.type(node.inputs[0]!), node.attrs);
      let start: Dim = 0;
      return node.inputs.map((inp, i) => {
        const len = g.type(inp).shape[axis]!;
        const s = start;
        start = dimAdd(start, len);
        return needs[i] ? g.op('slice', [dy], { axes: [axis], starts: [s], ends: [start] }) : null;
      });
    },
    onnx: (c) =>
      void c.emit(
        'Concat',
        c.x,
        { axis: int(reduceAxes(c.types[0]!.shape.length, c.node.attrs.axis ?? 0)[0]!) },
        c.out,
      ),
  }),
  slice: defineOp({
    name: 'slice',
    doc: 'A strided window: along each listed axis, positions start, start+step, ... before end (Python rules).',
    group: 'shape',
    arity: 1,
    attrs: Type.Object(sliceProps, { additionalProperties: false }),
    infer: ([t], attrs) => ({ shape: sliceShape(t!.shape, attrs), dtype: t!.dtype }),
    cpu: ({ inputs, output, inTypes, attrs }) => {
      const x = inputs[0]!;
      const map = sliceMap(inTypes[0]!.shape, sliceSpec(inTypes[0]!.shape, attrs));
      const n = output.length;
      return () => {
        for (let i = 0; i < n; i++) output[i] = x[map[i]!]!;
      };
    },
    wgsl: ({ inTypes, outType, attrs }) => ({
      kind: 'map',
      count: sizeOf(outType.shape),
      body: `out[i] = in0[${sliceSource(inTypes[0]!.shape, sliceSpec(inTypes[0]!.shape, attrs))}];`,
    }),
    grad: (g, node, dy) => [g.op('slice_grad', [dy], { ...node.attrs, shape: [...g.type(node.inputs[0]!).shape] })],
    onnx: (c) => {
      const a = c.node.attrs;
      const starts = a.starts ?? [];
      const ends = a.ends ?? [];
      const steps = a.steps ?? [];
      const k = Math.max(starts.length, ends.length, steps.length);
      const axes = a.axes ?? [...Array(k).keys()];
      // ONNX clamps starts and ends to the axis as Python does; "to the end" is the largest int64.
      const BIG = Number.MAX_SAFE_INTEGER;
      const per = (v: number[], d: number, what: string) =>
        c.i64(
          axes.map((_, j) => v[j] ?? d),
          what,
        );
      c.emit(
        'Slice',
        [c.x[0]!, per(starts, 0, 'starts'), per(ends, BIG, 'ends'), c.i64(axes, 'axes'), per(steps, 1, 'steps')],
        undefined,
        c.out,
      );
    },
  }),
  slice_grad: defineOp({
    name: 'slice_grad',
    doc: 'Zeros of `shape` with dy written where the slice (same attributes) read: the gradient of slice.',
    group: 'helper',
    internal: true,
    arity: 1,
    attrs: Type.Object(
      {
        ...sliceProps,
        shape: Type.Array(Type.Integer({ minimum: 0 }), {
          description: "The sliced tensor's shape.",
          examples: [[4, 3]],
        }),
      },
      { additionalProperties: false },
    ),
    infer: ([dy], attrs) => {
      const shape = attrs.shape as Dim[];
      const want = sliceShape(shape, attrs);
      if (!sameShape(want, dy!.shape))
        throw new RuleError(`slice_grad: dy has shape ${shapeStr(dy!.shape)}, the slice has ${shapeStr(want)}`);
      return { shape: [...shape], dtype: dy!.dtype };
    },
    cpu: ({ inputs, output, outType, attrs }) => {
      const dy = inputs[0]!;
      const map = sliceMap(outType.shape, sliceSpec(outType.shape, attrs));
      const n = dy.length;
      return () => {
        output.fill(0);
        for (let i = 0; i < n; i++) output[map[i]!] = dy[i]!;
      };
    },
    // WGSL: each output element checks, axis by axis, whether the slice read it, and from where.
    wgsl: ({ outType, attrs }) => {
      const shape = outType.shape;
      const spec = sliceSpec(shape, attrs);
      const ist = contiguousStrides(shape),
        ost = contiguousStrides(spec.count);
      const lines = ['var src = 0u;'];
      shape.forEach((n, d) => {
        const c = `((i / ${u32(ist[d]!)}) % ${u32(n)})`;
        lines.push(`{ let c = i32(${c}) - ${spec.start[d]!};`);
        lines.push(
          `  if (c < 0 || c % ${spec.step[d]!} != 0 || c / ${spec.step[d]!} >= ${spec.count[d]!}) { out[i] = TO(0); return; }`,
        );
        lines.push(`  src = src + u32(c / ${spec.step[d]!}) * ${u32(ost[d]!)}; }`);
      });
      lines.push('out[i] = in0[src];');
      return { kind: 'map', count: sizeOf(shape), body: lines.join('\n') };
    },
    grad: 'none',
    onnx: 'none',
  }),
};
