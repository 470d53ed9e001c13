// graph-run's inference graph -> a standard ONNX model (opset 21) with the session's current
// weights as initializers. Each op's module maps it to ONNX nodes (OpDef.onnx); an op that
// declares none is an ExportError naming the node. The batch dimension stays symbolic ("batch"): the forward
// graph is built twice (batch 2 and 3) and the dimensions that move with it are the batch.

import { shapeStr, type DType, type TypedArray } from '../ir/types.js';
import { dimToString, isConcrete, isSymbolic, type Dim } from '../ir/dim.js';
import type { OnnxCtx } from '../ops/op.js';
import { getOp, registry } from '../ops/registry.js';
import type { Session } from '../session.js';
import { ToolError } from '../checkpoint/errors.js';
import { ElemType, encodeOnnx, type OnnxDim, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

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

/** The ONNX opset exported models declare. */
export const ONNX_OPSET = 21;
const IR_VERSION = 10; // the IR version of ONNX 1.16, which defined opset 21

/** Options of `exportOnnx` / `onnxModel`. */
export interface OnnxExportOptions {
  /** Written into the model's producer_version. */
  version?: string;
}

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

/** Ops this exporter can write (those whose module declares an ONNX mapping), for docs and messages. */
export const exportableOps: string[] = Object.values(registry)
  .filter((d) => d.onnx !== 'none')
  .map((d) => d.name)
  .sort();

/**
 * The session's model as ONNX bytes: its forward graph (the declared outputs) with the
 * session's current parameter values. Throws ExportError naming a node ONNX cannot express.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { compile, exportOnnx, loadGraph } from 'graph-run';
 * const session = compile(loadGraph('graphs/gender.yaml'));
 * session.train();
 * writeFileSync(join(tmpdir(), 'gender.onnx'), exportOnnx(session));
 * ```
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
  // The compiled forward graph, `batch` symbolic: a batch-dependent dimension is read as it is.
  const built = session.program.symbolicForward();
  if (built.errors.length) throw new ExportError(built.errors[0]!.message);
  const g = built.graph;
  const outs = m.outputs.map((o) => ({ name: o.name, node: built.ref(o.ref) }));

  /** `where(is_training, a, b)`: b in every run but a training step's, so b in an exported graph. */
  const byMode = (node: { op: string; inputs: string[] }) =>
    node.op === 'where' && g.node(node.inputs[0]!).op === 'is_training';
  // The nodes the outputs need, not following inputs an op's row ignores.
  const needed = new Set<string>();
  const stack = outs.map((o) => o.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    const node = g.node(n);
    // The exported graph is an inference graph: a choice by mode takes its evaluation branch only.
    if (byMode(node)) stack.push(node.inputs[2]!);
    else stack.push(...node.inputs.slice(0, getOp(node.op)?.onnxReads ?? node.inputs.length));
  }

  // A batch-dependent dimension a*batch + c: ONNX names it with a symbol of its own ("2*batch").
  const dimsOf = (name: string): OnnxDim[] =>
    g.node(name).type.shape.map((d) => (typeof d === 'number' ? d : dimToString(d)));
  /** The dims of a node that must be numbers (an initializer's). */
  const fixedDims = (name: string): number[] => {
    const shape = g.node(name).type.shape;
    if (!isConcrete(shape))
      throw new ExportError(`cannot export node "${name}": its shape ${shapeStr(shape)} follows the batch size`, name);
    return shape;
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
  const modelState = new Set((m.state ?? []).map((x) => x.name));

  for (const name of g.order) {
    if (!needed.has(name)) continue;
    const node = g.node(name);
    /** A value the graph holds (a parameter, the model's state) as an initializer of its current values. */
    const held = (data: TypedArray) =>
      addInit({ name, type: elemType(node.type.dtype), dims: fixedDims(name), raw: rawBytes(node.type.dtype, data) });
    switch (node.op) {
      case 'input':
        model.inputs.push({ name, type: elemType(node.type.dtype), shape: dimsOf(name) });
        continue;
      case 'param':
        held(values.get(name) as TypedArray);
        continue;
      case 'state':
        if (modelState.has(name)) {
          // The model's state (running statistics) as the values it holds now, as a parameter.
          held(session.weights.state.get(name) as TypedArray);
          continue;
        }
        throw new ExportError(`cannot export node "${name}": optimizer state is not part of an inference graph`, name);
      case 'const': {
        const dims = fixedDims(name); // a constant whose shape follows the batch cannot be an initializer
        const v = node.attrs.value;
        if (typeof v === 'object' && !Array.isArray(v))
          throw new ExportError(`cannot export node "${name}": its value follows the batch size`, name);
        const n = dims.reduce((a, b) => a * b, 1);
        const flat = typeof v === 'number' ? new Array<number>(n).fill(v) : (v as number[]);
        addInit({
          name,
          type: elemType(node.type.dtype),
          dims,
          raw: rawBytes(node.type.dtype, flat),
        });
        continue;
      }
      default:
        break;
    }
    if (byMode(node)) {
      model.nodes.push({ op: 'Identity', inputs: [node.inputs[2]!], outputs: [name], name });
      continue;
    }
    const row = getOp(node.op)?.onnx ?? 'none';
    if (row === 'none') {
      throw new ExportError(
        `cannot export node "${name}" (op ${node.op}): ONNX export has no mapping for this op`,
        name,
        `exportable ops: ${exportableOps.join(', ')}`,
      );
    }
    let k = 0;
    const ctx: OnnxCtx = {
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
      elemType: (d) => (d === 'bool' ? ElemType.BOOL : elemType(d)),
      fail(message, hint) {
        throw new ExportError(message, name, hint);
      },
      i64: (v, what) =>
        addInit({ name: `${name}/onnx_${what}`, type: ElemType.INT64, dims: [v.length], raw: rawBytes('i64', v) }),
      scalar: (v, dtype) =>
        addInit({ name: `${name}/onnx_scalar_${k++}`, type: elemType(dtype), dims: [], raw: rawBytes(dtype, [v]) }),
      constant: (n, t, dims, v) => addInit({ name: n, type: elemType(t), dims, raw: rawBytes(t, v) }),
      batchDims(attr) {
        const a = (node.attrs[attr] as Dim[] | undefined) ?? [];
        return a.map((d, i) => (isSymbolic(d) ? i : -1)).filter((i) => i >= 0);
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
