// The ONNX ops graph-run imports: one entry per ONNX op, each a builder that writes the op with
// graph-run's own ops (runtime/ops), so an op graph-run gains lands here in one line. What the
// entries rely on: graph-run's elementwise ops broadcast as ONNX does (NumPy rules); matmul
// takes ranks 1-3 (rank-4 products are reshaped to 3-D and back); Gather of a weight matrix by
// integer ids is one_hot(ids) x W, which is exact and trains W; BatchNormalization (inference)
// and LayerNormalization are written with primitives.

import type { Builder, Ctx, Dim, Val } from './convert.js';
import { convOps } from './ops-conv.js';
import { concatK, slicePositions, sliceK, transposeK, withDims } from './fold.js';
import { batchNorm, layerNorm } from './ops-norm.js';
import type { OnnxValues } from './read.js';
import { registry } from '../../ops/registry.js';

/** Whether this build of graph-run has an op (ops added by other modules map in as they land). */
const has = (op: string): boolean => op in registry;
import { axisOf, broadcast, lit, product, reshape, size } from './shapes.js';

const unary =
  (op: string): Builder =>
  (c) =>
    c.emit(op, [c.x(0)], undefined, c.shape(0));

const binary =
  (op: string): Builder =>
  (c) =>
    c.emit(op, [c.x(0), c.x(1)], undefined, broadcast(c.shape(0), c.shape(1)));

/** A matrix product of any ranks ONNX's MatMul takes; graph-run's matmul takes 1-3. */
function matmul(c: Ctx, a: Val, b: Val, attrs?: Record<string, unknown>): Val {
  const [sa, sb] = [a.shape, b.shape];
  const m = sa.length >= 2 ? sa[sa.length - 2]! : undefined;
  const n = sb.length >= 2 ? sb[sb.length - 1]! : undefined;
  if (sa.length <= 3 && sb.length <= 3 && !(sa.length === 3 && sb.length === 3 && sa[0] !== sb[0])) {
    const lead = sa.length === 3 ? [sa[0]!] : sb.length === 3 ? [sb[0]!] : [];
    const shape = [...lead, ...(m !== undefined ? [m] : []), ...(n !== undefined ? [n] : [])];
    return c.emit('matmul', [a, b], attrs, shape);
  }
  // Rank 4 and more: fold the leading dims into one batch axis, multiply, unfold.
  if (sa.length < 2 || sb.length < 2 || attrs) return c.fail(`cannot multiply [${sa}] by [${sb}]`);
  const lead = sa.slice(0, -2);
  if (sb.length > 2 && (sb.length !== sa.length || sb.slice(0, -2).some((d, i) => d !== lead[i])))
    return c.fail(`batched product of [${sa}] and [${sb}]: the leading dimensions must be equal`);
  const k = product(c, lead);
  const a3 = reshape(c, a, [k, m!, sa[sa.length - 1]!]);
  const b3 = sb.length > 2 ? reshape(c, b, [k, sb[sb.length - 2]!, n!]) : b;
  const p = c.emit('matmul', [a3, b3], undefined, [k, m!, n!]);
  return reshape(c, p, [...lead, m!, n!]);
}

/** ArgMax / ArgMin: the first index on ties, as graph-run's (i32; ONNX's int64). */
function arg(op: string): Builder {
  return (c) => {
    if (c.int('select_last_index', 0)) return c.fail('select_last_index is not supported');
    const s = c.shape(0);
    const axis = axisOf(c.int('axis', 0), s.length);
    const keep = c.int('keepdims', 1) === 1;
    const shape = keep ? s.map((d, i) => (i === axis ? 1 : d)) : s.filter((_, i) => i !== axis);
    return c.emit(op, [c.x(0)], { axis, keepdims: keep }, shape, 'int');
  };
}

/** The normalised axes list of a reduction (attribute before opset 18 for ReduceMean, input after). */
function reduceAxes(c: Ctx, rank: number): number[] | undefined {
  const attr = c.intList('axes');
  const axes = attr ?? (c.has(1) ? c.ints(1, 'the axes') : undefined);
  if (!axes?.length && c.int('noop_with_empty_axes', 0)) return c.fail('noop_with_empty_axes is not supported');
  return axes?.map((a) => axisOf(a, rank));
}

function reduce(op: string): Builder {
  return (c) => {
    const s = c.shape(0);
    const axes = reduceAxes(c, s.length) ?? s.map((_, i) => i);
    const keep = c.int('keepdims', 1) === 1;
    const shape = keep ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((_, i) => !axes.includes(i));
    return c.emit(op, [c.x(0)], { axis: axes, keepdims: keep }, shape);
  };
}

/** Gather: folded when both operands are known; rows of a weight by ids as one_hot x W; one index along an axis as a slice. */
function gather(c: Ctx): Val {
  const axis = axisOf(c.int('axis', 0), c.shape(0).length);
  const data = c.known(0);
  const idx = c.known(1);
  if (data && idx && data.dims.length === 1 && idx.dims.length <= 1) {
    const n = data.dims[0]!;
    const picked = Array.from(idx.data, (i) => data.data[i < 0 ? i + n : i]!);
    return c.constant({ ...data, dims: idx.dims, data: data.kind === 'int' ? picked : Float64Array.from(picked) });
  }
  if (idx && idx.dims.length === 0) {
    const s = c.shape(0);
    const n = s[axis];
    const i = idx.data[0]! < 0 && typeof n === 'number' ? idx.data[0]! + n : idx.data[0]!;
    const one = s.map((d, k) => (k === axis ? 1 : d));
    const sl = c.emit('slice', [c.x(0)], { axes: [axis], starts: [i], ends: [i + 1] }, one);
    return reshape(
      c,
      sl,
      s.filter((_, k) => k !== axis),
    );
  }
  const w = c.shape(0);
  if (axis !== 0 || !data || data.kind !== 'float' || w.length > 2)
    return c.fail('graph-run imports Gather of integer ids from a weight matrix (an embedding), or of a fixed index');
  const ids = c.x(1);
  if (ids.kind !== 'int') return c.fail('the indices must be integers');
  // graph-run's embedding op (a row lookup) where this build has it, else one_hot x W.
  if (has('embedding') && w.length === 2) return c.emit('embedding', [c.x(0), ids], undefined, [...ids.shape, w[1]!]);
  const classes = w[0] as number;
  const oh = c.emit('one_hot', [ids], { classes }, [...ids.shape, classes]);
  return matmul(c, oh, c.x(0));
}

function split(c: Ctx): Val[] {
  const s = c.shape(0);
  const axis = axisOf(c.int('axis', 0), s.length);
  const len = s[axis];
  const k = c.node.outputs.length;
  let sizes = c.has(1) ? c.ints(1, 'the split sizes') : c.intList('split');
  if (!sizes) {
    if (typeof len !== 'number') return c.fail('cannot split the batch axis');
    const parts = c.int('num_outputs', k);
    const each = Math.ceil(len / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, len - i * each)));
  }
  const x = c.x(0);
  let at = 0;
  return sizes.map((n) => {
    const shape = s.map((d, i) => (i === axis ? n : d));
    const v = c.emit('slice', [x], { axes: [axis], starts: [at], ends: [at + n] }, shape);
    at += n;
    return v;
  });
}

function reshapeOp(c: Ctx): Val {
  const s = c.shape(0);
  const want = c.ints(1, 'the target shape');
  const allowzero = c.int('allowzero', 0) === 1;
  const dims: Dim[] = want.map((d, i) => (d === 0 && !allowzero ? s[i]! : d));
  const neg = dims.indexOf(-1);
  if (neg >= 0) {
    const total = size(s);
    const rest = size(dims.filter((_, i) => i !== neg));
    if (total.batch === rest.batch) dims[neg] = total.n / rest.n;
    else if (total.batch === rest.batch + 1 && total.n === rest.n) dims[neg] = 'batch';
    else return c.fail(`cannot follow the batch through the reshape of [${s}] to [${want}]`);
  }
  return reshaped(c, dims);
}

/** Input 0 with new dims: folded when it is known, else a reshape. */
function reshaped(c: Ctx, dims: Dim[]): Val {
  const k = c.known(0);
  if (k && dims.every((d) => typeof d === 'number')) return c.constant(withDims(k, dims as number[]));
  return reshape(c, c.x(0), dims);
}

function slice(c: Ctx): Val {
  const s = c.shape(0);
  const starts = c.ints(1, 'the starts');
  const ends = c.ints(2, 'the ends');
  const axes = (c.has(3) ? c.ints(3, 'the axes') : starts.map((_, i) => i)).map((a) => axisOf(a, s.length));
  const steps = c.has(4) ? c.ints(4, 'the steps') : starts.map(() => 1);
  if (steps.some((t) => t === 0)) return c.fail('a step of 0');
  const k = c.known(0);
  if (k) return c.constant(sliceK(k, axes, starts, ends, steps));
  if (steps.some((t) => t < 0)) return c.fail("negative steps: graph-run's slice steps forward");
  const shape = [...s];
  const lists = { axes, starts: [...starts], ends: [...ends], steps };
  axes.forEach((a, i) => {
    const n = s[a];
    if (typeof n !== 'number') return c.fail('slicing the batch axis is not supported');
    const pos = slicePositions(n, starts[i]!, ends[i]!, steps[i]!);
    shape[a] = pos.length;
    // Python's rules, as graph-run's slice takes them: the window as positions within the axis.
    lists.starts[i] = pos[0] ?? 0;
    lists.ends[i] = pos.length ? pos[pos.length - 1]! + steps[i]! : (pos[0] ?? 0);
  });
  const attrs: Record<string, unknown> = { axes, starts: lists.starts, ends: lists.ends };
  if (steps.some((t) => t !== 1)) attrs.steps = steps;
  return c.emit('slice', [c.x(0)], attrs, shape);
}

function squeeze(c: Ctx, un: boolean): Val {
  const s = c.shape(0);
  const given = c.has(1) ? c.ints(1, 'the axes') : c.intList('axes');
  if (un) {
    const rank = s.length + (given?.length ?? 0);
    const axes = (given ?? []).map((a) => axisOf(a, rank));
    const out: Dim[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : s[k++]!);
    return reshaped(c, out);
  }
  const axes = given?.map((a) => axisOf(a, s.length)) ?? s.flatMap((d, i) => (d === 1 ? [i] : []));
  return reshaped(
    c,
    s.filter((_, i) => !axes.includes(i)),
  );
}

/** ONNX ops graph-run has no op for yet: refused with the reason (and left out of the supported list). */
const missingOps = new Set<Builder>();
const missing = (why: string): Builder => {
  const b: Builder = (c) => c.fail(`graph-run has no ${why} yet`);
  missingOps.add(b);
  return b;
};

/** ONNX op type -> builder. */
export const onnxOps: Record<string, Builder> = {
  Abs: unary('abs'),
  Cos: unary('cos'),
  Exp: unary('exp'),
  Floor: unary('floor'),
  Log: unary('log'),
  Neg: unary('neg'),
  Relu: unary('relu'),
  Sigmoid: unary('sigmoid'),
  Sign: unary('sign'),
  Sin: unary('sin'),
  Softplus: unary('softplus'),
  Sqrt: unary('sqrt'),
  Tanh: unary('tanh'),
  Add: binary('add'),
  Sub: binary('sub'),
  Mul: binary('mul'),
  Div: binary('div'),
  Pow: binary('pow'),
  Max: binary('maximum'),
  Min: binary('minimum'),
  Gelu: (c) =>
    c.str('approximate', 'none') === 'none'
      ? c.emit('gelu', [c.x(0)], undefined, c.shape(0))
      : c.fail('only approximate="none" is supported'),
  LeakyRelu: (c) => c.emit('leaky_relu', [c.x(0)], { negative_slope: c.float('alpha', 0.01) }, c.shape(0)),
  Clip: (c) => {
    const bound = (i: number) => (c.has(i) ? c.known(i)?.data[0] : undefined);
    const [min, max] = [bound(1), bound(2)];
    if ((c.has(1) && min === undefined) || (c.has(2) && max === undefined)) return c.fail('the bounds must be fixed');
    return c.emit(
      'clip',
      [c.x(0)],
      { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) },
      c.shape(0),
    );
  },
  // Of a weight: a parameter of its own (PyTorch's exporter writes a weight equal to another as
  // Identity of it; tying them would change what fine-tuning does).
  Identity: (c) => {
    const k = c.known(0);
    return k?.kind === 'float' ? { shape: k.dims, kind: 'float', data: k } : c.x(0);
  },
  Dropout: (c) => c.x(0), // inference: the identity (a mask output is not provided)
  Constant: (c) => {
    const a =
      c.attr('value') ?? c.attr('value_float') ?? c.attr('value_floats') ?? c.attr('value_int') ?? c.attr('value_ints');
    if (!a) return c.fail('graph-run imports Constant values that are tensors or numbers');
    if (a.kind === 'tensor') return { ...c.constant(a.value), constant: true };
    if (a.kind === 'float' || a.kind === 'floats') {
      const v = a.kind === 'float' ? [a.value] : a.value;
      const dims = a.kind === 'float' ? [] : [v.length];
      return {
        ...c.constant({ name: 'value', kind: 'float', width: 4, dims, data: Float32Array.from(v) }),
        constant: true,
      };
    }
    if (a.kind === 'int' || a.kind === 'ints') {
      const v = a.kind === 'int' ? [a.value] : a.value;
      return c.constant({ name: 'value', kind: 'int', width: 0, dims: a.kind === 'int' ? [] : [v.length], data: v });
    }
    return c.fail('graph-run imports Constant values that are tensors or numbers');
  },
  Cast: (c) => {
    const to = c.int('to', 1);
    // To bool (before Where): graph-run's conditions are numbers, nonzero meaning true.
    if (to === 9 && !c.known(0)) return c.emit('not_equal', [c.x(0), lit(0)], undefined, c.shape(0));
    const int = [6, 7, 9].includes(to);
    if (!int && ![1, 11].includes(to)) return c.fail(`cast to ONNX type ${to} is not supported`);
    const k = c.known(0);
    if (k)
      return c.constant({
        ...k,
        kind: int ? 'int' : 'float',
        data: int ? Array.from(k.data, Math.trunc) : Float64Array.from(k.data),
      });
    return c.emit('cast', [c.x(0)], { dtype: int ? 'i32' : 'float' }, c.shape(0), int ? 'int' : 'float');
  },
  MatMul: (c) => matmul(c, c.x(0), c.x(1)),
  Gemm: (c) => {
    const [ta, tb] = [c.int('transA', 0) === 1, c.int('transB', 0) === 1];
    const attrs = { ...(ta ? { transpose_a: true } : {}), ...(tb ? { transpose_b: true } : {}) };
    const [a, b] = [c.shape(0), c.shape(1)];
    const shape = [ta ? a[1]! : a[0]!, tb ? b[0]! : b[1]!];
    let y = c.emit('matmul', [c.x(0), c.x(1)], attrs, shape);
    const alpha = c.float('alpha', 1);
    const beta = c.float('beta', 1);
    if (alpha !== 1) y = c.emit('mul', [y, lit(alpha)], undefined, shape);
    if (!c.has(2) || beta === 0) return y;
    let bias = c.x(2);
    if (beta !== 1) bias = c.emit('mul', [bias, lit(beta)], undefined, bias.shape);
    return c.emit('add', [y, bias], undefined, shape);
  },
  ArgMax: arg('argmax'),
  ArgMin: arg('argmin'),
  Equal: binary('equal'),
  Greater: binary('greater'),
  GreaterOrEqual: binary('greater_equal'),
  Less: binary('less'),
  LessOrEqual: binary('less_equal'),
  Where: (c) =>
    c.emit('where', [c.x(0), c.x(1), c.x(2)], undefined, broadcast(broadcast(c.shape(0), c.shape(1)), c.shape(2))),
  Softmax: (c) => c.emit('softmax', [c.x(0)], { axis: c.int('axis', -1) }, c.shape(0)),
  LogSoftmax: (c) => c.emit('log_softmax', [c.x(0)], { axis: c.int('axis', -1) }, c.shape(0)),
  ReduceMean: reduce('mean'),
  ReduceSum: reduce('sum'),
  ReduceMax: reduce('max'),
  ReduceMin: reduce('min'),
  Transpose: (c) => {
    const s = c.shape(0);
    const perm = c.intList('perm') ?? s.map((_, i) => s.length - 1 - i);
    const k = c.known(0);
    if (k) return c.constant(transposeK(k, perm));
    return c.emit(
      'transpose',
      [c.x(0)],
      { perm },
      perm.map((p) => s[p]!),
    );
  },
  Reshape: reshapeOp,
  Flatten: (c) => {
    const s = c.shape(0);
    const axis = axisOf(c.int('axis', 1), s.length);
    return reshape(c, c.x(0), [product(c, s.slice(0, axis)), product(c, s.slice(axis))]);
  },
  Squeeze: (c) => squeeze(c, false),
  Unsqueeze: (c) => squeeze(c, true),
  Concat: (c) => {
    const known = c.node.inputs.map((_, i) => c.known(i));
    if (known.every((k) => k))
      return c.constant(concatK(known as OnnxValues[], axisOf(c.int('axis', 0), c.shape(0).length)));
    const xs = c.node.inputs.map((_, i) => c.x(i));
    const axis = axisOf(c.int('axis', 0), xs[0]!.shape.length);
    if (xs.some((x) => x.shape[axis] === 'batch')) return c.fail('cannot concatenate along the batch axis');
    const shape = [...xs[0]!.shape];
    shape[axis] = xs.reduce((n, x) => n + (x.shape[axis] as number), 0);
    return c.emit('concat', xs, { axis }, shape);
  },
  Split: split,
  Slice: slice,
  ConstantOfShape: (c) => {
    const dims = c.ints(0, 'the shape');
    const a = c.attr('value');
    const like: OnnxValues =
      a?.kind === 'tensor' ? a.value : { name: 'value', kind: 'float', width: 4, dims: [1], data: Float32Array.of(0) };
    if (dims.some((d) => d < 0) || dims.reduce((x, y) => x * y, 1) > 1 << 20)
      return c.fail(`a constant of shape [${dims}] is not imported`);
    return c.constant(
      withDims({ ...like, data: Array(dims.reduce((x, y) => x * y, 1)).fill(like.data[0] ?? 0) }, dims),
    );
  },
  Shape: (c) => {
    const s = c.shape(0);
    if (s.some((d) => typeof d !== 'number')) return c.fail('the shape follows the batch size; export with it fixed');
    return c.constant({ name: 'shape', kind: 'int', width: 0, dims: [s.length], data: s as number[] });
  },
  Gather: gather,
  GlobalAveragePool: (c) => {
    const s = c.shape(0);
    const axes = s.map((_, i) => i).filter((i) => i >= 2);
    return c.emit(
      'mean',
      [c.x(0)],
      { axis: axes, keepdims: true },
      s.map((d, i) => (i >= 2 ? 1 : d)),
    );
  },
  LayerNormalization: layerNorm,
  BatchNormalization: batchNorm,
  ...convOps,
  Erf: has('erf') ? unary('erf') : missing('erf op'),
};

/** The ONNX ops the importer converts (for messages and docs). */
export const importableOps: string[] = Object.entries(onnxOps)
  .filter(([, b]) => !missingOps.has(b))
  .map(([k]) => k)
  .sort();
