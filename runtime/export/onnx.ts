// graph-run's inference graph -> a standard ONNX model (opset 21) with the session's current
// weights as initializers. One table maps each op to ONNX nodes; an op with no row is an
// ExportError naming the node. The batch dimension stays symbolic ("batch"): the forward
// graph is built twice (batch 2 and 3) and the dimensions that move with it are the batch.

import type { DType, IRNode, TensorType, TypedArray } from '../ir/types.js';
import { reduceAxes } from '../ops/reduce.js';
import type { Session } from '../session.js';
import { ToolError } from '../checkpoint/errors.js';
import {
  ElemType,
  encodeOnnx,
  type AttrValue,
  type OnnxDim,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
} from './onnx-proto.js';

/** A node graph-run cannot express in ONNX; `node` names it. */
export class ExportError extends ToolError {
  constructor(
    message: string,
    readonly node?: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'ExportError';
  }
}

export const ONNX_OPSET = 21;
const IR_VERSION = 10; // the IR version of ONNX 1.16, which defined opset 21

export interface OnnxExportOptions {
  /** Written into the model's producer_version. */
  version?: string;
}

const B1 = 2,
  B2 = 3; // two batch sizes, neither 1 (a size-1 axis would hide where the batch is)

function elemType(d: DType): ElemType {
  switch (d) {
    case 'f32':
      return ElemType.FLOAT;
    case 'f64':
      return ElemType.DOUBLE;
    case 'i32':
      return ElemType.INT32;
    default:
      return d satisfies never;
  }
}

function rawBytes(dtype: DType | 'i64', values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const b = new Uint8Array(n * (dtype === 'f64' || dtype === 'i64' ? 8 : 4));
  const v = new DataView(b.buffer);
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (dtype === 'f32') v.setFloat32(i * 4, x, true);
    else if (dtype === 'f64') v.setFloat64(i * 8, x, true);
    else if (dtype === 'i32') v.setInt32(i * 4, x, true);
    else v.setBigInt64(i * 8, BigInt(x), true);
  }
  return b;
}

/** What an op's row gets: the node, its inputs' ONNX names and types, and emitters. */
interface Ctx {
  node: IRNode;
  /** ONNX value names of the node's inputs. */
  x: string[];
  types: TensorType[];
  /** The ONNX name the node's result must have. */
  out: string;
  /** Emit an ONNX node; `outs` defaults to one fresh intermediate name, returned. */
  emit(op: string, inputs: string[], attrs?: Record<string, AttrValue>, out?: string): string;
  /** An int64 constant (axes, shapes, slice bounds). */
  i64(values: number[], name: string): string;
  /** A scalar constant of `dtype`. */
  scalar(v: number, dtype: DType): string;
  /** A constant tensor of `dtype` named `name`. */
  constant(name: string, dtype: DType, dims: number[], values: number[]): string;
  /** The batch-dependent positions of a shape attribute (from the second build). */
  batchDims(attr: string): number[];
}

type Row = (c: Ctx) => void;

const int = (value: number): AttrValue => ({ kind: 'int', value });
const ints = (value: number[]): AttrValue => ({ kind: 'ints', value });
const float = (value: number): AttrValue => ({ kind: 'float', value });

const direct =
  (op: string): Row =>
  (c) =>
    void c.emit(op, c.x, undefined, c.out);
const cmp =
  (op: string, negate = false): Row =>
  (c) => {
    let r = c.emit(op, c.x);
    if (negate) r = c.emit('Not', [r]);
    // graph-run's comparisons give 1/0 in the inputs' type; ONNX's give booleans.
    c.emit('Cast', [r], { to: int(elemType(c.node.type.dtype)) }, c.out);
  };
const reduce =
  (op: string): Row =>
  (c) => {
    const rank = c.types[0]!.shape.length;
    const axes = reduceAxes(rank, c.node.attrs.axis);
    c.emit(op, [c.x[0]!, c.i64(axes, 'axes')], { keepdims: int(c.node.attrs.keepdims === true ? 1 : 0) }, c.out);
  };
const arg =
  (op: string): Row =>
  (c) => {
    let x = c.x[0]!;
    let axis = c.node.attrs.axis as number | undefined;
    const keep = c.node.attrs.keepdims === true;
    if (axis === undefined) {
      // Over the flattened tensor, as graph-run does without `axis`.
      x = c.emit('Reshape', [x, c.i64([-1], 'flat')]);
      axis = 0;
    }
    let r = c.emit(op, [x], {
      axis: int(axis),
      keepdims: int(keep && c.node.attrs.axis !== undefined ? 1 : 0),
      select_last_index: int(0),
    });
    if (keep && c.node.attrs.axis === undefined) r = c.emit('Reshape', [r, c.i64(c.node.type.shape, 'shape')]);
    c.emit('Cast', [r], { to: int(ElemType.INT32) }, c.out);
  };

/** Matrix transpose of the last two axes (rank 2 or 3). */
function lastTwo(c: Ctx, x: string, rank: number): string {
  return c.emit('Transpose', [x], { perm: ints(rank === 3 ? [0, 2, 1] : [1, 0]) });
}

/** Rows for every op ONNX has; ops missing here cannot be exported (named in the error). */
const rows: Record<string, Row> = {
  neg: direct('Neg'),
  exp: direct('Exp'),
  log: direct('Log'),
  sigmoid: direct('Sigmoid'),
  tanh: direct('Tanh'),
  relu: direct('Relu'),
  sqrt: direct('Sqrt'),
  abs: direct('Abs'),
  sign: direct('Sign'),
  sin: direct('Sin'),
  cos: direct('Cos'),
  floor: direct('Floor'),
  softplus: direct('Softplus'),
  square: (c) => void c.emit('Mul', [c.x[0]!, c.x[0]!], undefined, c.out),
  gelu: (c) => void c.emit('Gelu', [c.x[0]!], { approximate: { kind: 'string', value: 'none' } }, c.out),
  leaky_relu: (c) =>
    void c.emit(
      'LeakyRelu',
      [c.x[0]!],
      { alpha: float((c.node.attrs.negative_slope as number | undefined) ?? 0.01) },
      c.out,
    ),
  clip: (c) => {
    const t = c.node.type.dtype;
    const lo = c.node.attrs.min as number | undefined,
      hi = c.node.attrs.max as number | undefined;
    c.emit(
      'Clip',
      [c.x[0]!, lo === undefined ? '' : c.scalar(lo, t), hi === undefined ? '' : c.scalar(hi, t)],
      undefined,
      c.out,
    );
  },
  // Inference graph: gradients do not flow, and dropout is the identity outside training steps.
  stop_gradient: (c) => void c.emit('Identity', [c.x[0]!], undefined, c.out),
  dropout: (c) => void c.emit('Identity', [c.x[0]!], undefined, c.out),
  add: direct('Add'),
  sub: direct('Sub'),
  mul: direct('Mul'),
  div: direct('Div'),
  pow: direct('Pow'),
  maximum: direct('Max'),
  minimum: direct('Min'),
  greater: cmp('Greater'),
  greater_equal: cmp('GreaterOrEqual'),
  less: cmp('Less'),
  less_equal: cmp('LessOrEqual'),
  equal: cmp('Equal'),
  not_equal: cmp('Equal', true),
  where: (c) => {
    const cond = c.emit('Cast', [c.x[0]!], { to: int(ElemType.BOOL) }); // nonzero is true, as in graph-run
    c.emit('Where', [cond, c.x[1]!, c.x[2]!], undefined, c.out);
  },
  sum: reduce('ReduceSum'),
  mean: reduce('ReduceMean'),
  max: reduce('ReduceMax'),
  min: reduce('ReduceMin'),
  logsumexp: reduce('ReduceLogSumExp'),
  argmax: arg('ArgMax'),
  argmin: arg('ArgMin'),
  softmax: (c) =>
    void c.emit('Softmax', [c.x[0]!], { axis: int((c.node.attrs.axis as number | undefined) ?? -1) }, c.out),
  log_softmax: (c) =>
    void c.emit('LogSoftmax', [c.x[0]!], { axis: int((c.node.attrs.axis as number | undefined) ?? -1) }, c.out),
  matmul: (c) => {
    let [a, b] = c.x as [string, string];
    if (c.node.attrs.transpose_a === true) a = lastTwo(c, a, c.types[0]!.shape.length);
    if (c.node.attrs.transpose_b === true) b = lastTwo(c, b, c.types[1]!.shape.length);
    c.emit('MatMul', [a, b], undefined, c.out);
  },
  reshape: (c) => {
    const want = [...(c.node.attrs.shape as number[])];
    const moving = c.batchDims('shape');
    if (moving.length) {
      if (moving.length > 1 || want.includes(-1)) {
        throw new ExportError(
          `cannot export node "${c.node.name}" (reshape): its target shape [${want.join(', ')}] has more than one dimension that follows the batch size`,
          c.node.name,
          'write the batch dimension as -1',
        );
      }
      want[moving[0]!] = -1;
    }
    c.emit('Reshape', [c.x[0]!, c.i64(want, 'shape')], want.includes(0) ? { allowzero: int(1) } : undefined, c.out);
  },
  transpose: (c) => {
    const rank = c.types[0]!.shape.length;
    const perm = (c.node.attrs.perm as number[] | undefined) ?? [...Array(rank).keys()].reverse();
    c.emit('Transpose', [c.x[0]!], { perm: ints(perm.map((p) => (p < 0 ? p + rank : p))) }, c.out);
  },
  broadcast_to: (c) => {
    const want = [...(c.node.attrs.shape as number[])];
    // Expand broadcasts both ways, so 1 keeps a dimension the input already has.
    const inShape = c.types[0]!.shape;
    for (const i of c.batchDims('shape')) {
      const j = i - (want.length - inShape.length);
      if (j < 0 || inShape[j] === 1) {
        throw new ExportError(
          `cannot export node "${c.node.name}" (broadcast_to): it broadcasts to the batch size`,
          c.node.name,
        );
      }
      want[i] = 1;
    }
    c.emit('Expand', [c.x[0]!, c.i64(want, 'shape')], undefined, c.out);
  },
  concat: (c) =>
    void c.emit('Concat', c.x, { axis: int(reduceAxes(c.types[0]!.shape.length, c.node.attrs.axis ?? 0)[0]!) }, c.out),
  slice: (c) => {
    const a = c.node.attrs;
    const starts = (a.starts as number[] | undefined) ?? [];
    const ends = (a.ends as number[] | undefined) ?? [];
    const steps = (a.steps as number[] | undefined) ?? [];
    const k = Math.max(starts.length, ends.length, steps.length);
    const axes = (a.axes as number[] | undefined) ?? [...Array(k).keys()];
    // ONNX clamps starts and ends to the axis as Python does; "to the end" is the largest int64.
    const BIG = Number.MAX_SAFE_INTEGER;
    c.emit(
      'Slice',
      [
        c.x[0]!,
        c.i64(
          axes.map((_, j) => starts[j] ?? 0),
          'starts',
        ),
        c.i64(
          axes.map((_, j) => ends[j] ?? BIG),
          'ends',
        ),
        c.i64(axes, 'axes'),
        c.i64(
          axes.map((_, j) => steps[j] ?? 1),
          'steps',
        ),
      ],
      undefined,
      c.out,
    );
  },
  cast: (c) => void c.emit('Cast', [c.x[0]!], { to: int(elemType(c.node.type.dtype)) }, c.out),
  gather: (c) =>
    void c.emit(
      'GatherElements',
      [c.x[0]!, c.x[1]!],
      { axis: int(reduceAxes(c.types[0]!.shape.length, c.node.attrs.axis ?? 0)[0]!) },
      c.out,
    ),
  one_hot: (c) => {
    // ONNX Runtime's OneHot takes i32 indices with an i32 depth and f32 values; f64 is a cast.
    const depth = c.constant(`${c.node.name}/onnx_depth`, 'i32', [1], [c.node.attrs.classes as number]);
    const values = c.constant(`${c.node.name}/onnx_values`, 'f32', [2], [0, 1]);
    const f64 = c.node.type.dtype === 'f64';
    const r = c.emit('OneHot', [c.x[0]!, depth, values], { axis: int(-1) }, f64 ? undefined : c.out);
    if (f64) c.emit('Cast', [r], { to: int(ElemType.DOUBLE) }, c.out);
  },
};

/** Ops whose extra inputs the exported graph does not read (dropout's step counter). */
const usedInputs: Record<string, number> = { dropout: 1 };

/** Ops this exporter can write, for docs and messages. */
export const exportableOps: string[] = Object.keys(rows).sort();

/**
 * The session's model as ONNX bytes: its forward graph (the declared outputs) with the
 * session's current parameter values. Throws ExportError naming a node ONNX cannot express.
 * @example writeFileSync('gender.onnx', exportOnnx(session));
 */
export function exportOnnx(session: Session, opts: OnnxExportOptions = {}): Uint8Array {
  return encodeOnnx(onnxModel(session, opts));
}

/** The ONNX model as data (what exportOnnx encodes). */
export function onnxModel(session: Session, opts: OnnxExportOptions = {}): OnnxModel {
  const m = session.model;
  if (!m.outputs.length)
    throw new ExportError(
      `${m.file} declares no outputs: there is nothing to export`,
      undefined,
      'add an `outputs:` section',
    );
  const b1 = session.program.typedForward(B1);
  if (b1.errors.length) throw new ExportError(b1.errors[0]!.message);
  const g = b1.graph;
  const g2 = session.program.typedForward(B2).graph;
  const outs = m.outputs.map((o) => ({ name: o.name, node: b1.ref(o.ref) }));

  // The nodes the outputs need, not following inputs an op's row ignores.
  const needed = new Set<string>();
  const stack = outs.map((o) => o.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    const node = g.node(n);
    stack.push(...node.inputs.slice(0, usedInputs[node.op] ?? node.inputs.length));
  }

  const dimsOf = (name: string): OnnxDim[] => {
    const s1 = g.node(name).type.shape,
      s2 = g2.has(name) ? g2.node(name).type.shape : s1;
    return s1.map((d, i) => {
      if (s2[i] === d) return d;
      // d = a * batch + c; ONNX names such a dimension with a symbol of its own ("2*batch").
      const a = (s2[i]! - d) / (B2 - B1),
        c = d - a * B1;
      if (!Number.isInteger(a) || !Number.isInteger(c)) {
        throw new ExportError(
          `cannot export node "${name}": its dimension ${i} is ${d} at batch ${B1} and ${s2[i]} at batch ${B2}`,
          name,
        );
      }
      const term = a === 1 ? 'batch' : `${a}*batch`;
      return c === 0 ? term : `${term}${c > 0 ? '+' : '-'}${Math.abs(c)}`;
    });
  };

  const model: OnnxModel = {
    opset: ONNX_OPSET,
    irVersion: IR_VERSION,
    producer: 'graph-run',
    producerVersion: opts.version ?? '',
    graphName: m.name,
    nodes: [],
    initializers: [],
    inputs: [],
    outputs: [],
    metadata: { 'graph-run.graph': m.name, 'graph-run.file': m.file, 'graph-run.dtype': session.float },
  };
  const constNames = new Set<string>();
  const addInit = (t: OnnxTensor): string => {
    if (!constNames.has(t.name)) {
      constNames.add(t.name);
      model.initializers.push(t);
    }
    return t.name;
  };
  const values = session.weights.params;

  for (const name of g.order) {
    if (!needed.has(name)) continue;
    const node = g.node(name);
    switch (node.op) {
      case 'input':
        model.inputs.push({ name, type: elemType(node.type.dtype), shape: dimsOf(name) });
        continue;
      case 'param': {
        const data = values.get(name) as TypedArray;
        addInit({
          name,
          type: elemType(node.type.dtype),
          dims: [...node.type.shape],
          raw: rawBytes(node.type.dtype, data),
        });
        continue;
      }
      case 'state':
        throw new ExportError(`cannot export node "${name}": optimizer state is not part of an inference graph`, name);
      case 'const': {
        dimsOf(name); // a constant whose shape follows the batch cannot be an initializer
        const v = node.attrs.value;
        const n = node.type.shape.reduce((a, b) => a * b, 1);
        const flat = typeof v === 'number' ? new Array<number>(n).fill(v) : (v as number[]);
        addInit({
          name,
          type: elemType(node.type.dtype),
          dims: [...node.type.shape],
          raw: rawBytes(node.type.dtype, flat),
        });
        continue;
      }
      default:
        break;
    }
    const row = rows[node.op];
    if (!row) {
      throw new ExportError(
        `cannot export node "${name}" (op ${node.op}): ONNX export has no mapping for this op`,
        name,
        `exportable ops: ${exportableOps.join(', ')}`,
      );
    }
    let k = 0;
    const ctx: Ctx = {
      node,
      x: node.inputs,
      types: node.inputs.map((i) => g.node(i).type),
      out: name,
      emit(op, inputs, attrs, out) {
        const o = out ?? `${name}/onnx_${op}${k++}`;
        const n: OnnxNode = { op, inputs, outputs: [o], name: out ? name : o };
        if (attrs) n.attrs = attrs;
        if (out && node.loc) n.doc = `${node.loc.file}:${node.loc.line}:${node.loc.col}`;
        model.nodes.push(n);
        return o;
      },
      i64: (v, what) =>
        addInit({ name: `${name}/onnx_${what}`, type: ElemType.INT64, dims: [v.length], raw: rawBytes('i64', v) }),
      scalar: (v, dtype) =>
        addInit({ name: `${name}/onnx_scalar_${k++}`, type: elemType(dtype), dims: [], raw: rawBytes(dtype, [v]) }),
      constant: (n, t, dims, v) => addInit({ name: n, type: elemType(t), dims, raw: rawBytes(t, v) }),
      batchDims(attr) {
        const a1 = node.attrs[attr] as number[] | undefined,
          a2 = g2.has(name) ? (g2.node(name).attrs[attr] as number[] | undefined) : a1;
        return (a1 ?? []).map((d, i) => (a2?.[i] !== d ? i : -1)).filter((i) => i >= 0);
      },
    };
    row(ctx);
  }
  for (const o of outs) {
    const node = g.node(o.node);
    if (o.name !== o.node && g.has(o.name)) {
      throw new ExportError(
        `cannot export output "${o.name}": it names node "${o.node}", but a different node is called "${o.name}"`,
        o.node,
        'give the output the name of its node',
      );
    }
    if (o.name !== o.node)
      model.nodes.push({ op: 'Identity', inputs: [o.node], outputs: [o.name], name: `output/${o.name}` });
    model.outputs.push({ name: o.name, type: elemType(node.type.dtype), shape: dimsOf(o.node) });
  }
  return model;
}
