// An ONNX file -> a checked, plain description of its graph. The file is untrusted: it is
// decoded by protobuf-es (code generated from onnx.proto, `npm run gen:onnx`) with a nesting
// limit, and every tensor's size is checked before anything is allocated for it: its dims
// against graph-run's limits (runtime/load/limits.ts), and dims x element size against the
// bytes the file holds. Data kept in external files is refused (a model is one file); opsets
// outside 13-21 are refused. Every problem is an ImportError (the CLI: one line, exit 1).

import { fromBinary } from '@bufbuild/protobuf';
import { ToolError } from '../../checkpoint/errors.js';
import { MAX_DATA_BYTES } from '../../load/io.js';
import { MAX_DIM, MAX_ELEMENTS } from '../../load/limits.js';
import {
  type AttributeProto,
  AttributeProto_AttributeType as AT,
  ModelProtoSchema,
  type TensorProto,
  TensorProto_DataLocation,
  TensorProto_DataType as DT,
  type ValueInfoProto,
} from './gen/onnx_pb.js';

/** An ONNX model graph-run cannot import (damaged, too large, an op or opset it lacks); `node` names the culprit. */
export class ImportError extends ToolError {
  constructor(
    message: string,
    readonly node?: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'ImportError';
  }
}

/** The lowest opset of the default domain graph-run imports. */
export const MIN_OPSET = 13;
/** The highest opset of the default domain graph-run imports. */
export const MAX_OPSET = 21;
/** Largest ONNX file imported: the weights it holds must load as a data file (docs/format.md, "Limits"). */
export const MAX_ONNX_BYTES = MAX_DATA_BYTES;
/** Nesting of messages the decoder follows (a graph is ~4 deep; attributes may hold graphs). */
const MAX_DEPTH = 32;

/** A tensor's values: floats (f32 or f64 in the file) or integers (int32/int64/bool, as numbers). */
export interface OnnxValues {
  name: string;
  kind: 'float' | 'int';
  /** The file's float width (4 or 8); 0 for integers. */
  width: 0 | 4 | 8;
  dims: number[];
  data: Float32Array | Float64Array | number[];
}

export type OnnxAttr =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'tensor'; value: OnnxValues }
  | { kind: 'other'; type: string };

export interface OnnxNodeInfo {
  /** The node's name, or `<op_type> #<index>` when it has none (for messages). */
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttr>;
}

export interface OnnxValueInfo {
  name: string;
  kind: 'float' | 'int';
  /** Dimensions: numbers, or the name of a symbolic dimension ('batch', 'N', '?'). */
  shape: (number | string)[];
}

export interface OnnxGraphInfo {
  opset: number;
  producer: string;
  graphName: string;
  inputs: OnnxValueInfo[];
  /** The graph's output names. */
  outputs: string[];
  initializers: Map<string, OnnxValues>;
  nodes: OnnxNodeInfo[];
}

const fail = (message: string, node?: string, hint?: string): never => {
  throw new ImportError(message, node, hint);
};

/** A name from the file, quoted short (a file may hold anything). */
export const q = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);

/** An int64 tensor element: ±2^63 - 1 and the like (Slice's "to the end") saturate at ±2^53. */
const saturate = (v: bigint): number =>
  v > BigInt(Number.MAX_SAFE_INTEGER)
    ? Number.MAX_SAFE_INTEGER
    : v < BigInt(Number.MIN_SAFE_INTEGER)
      ? Number.MIN_SAFE_INTEGER
      : Number(v);

const num = (v: bigint, what: string): number => {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))
    fail(`${what}: ${String(v).slice(0, 30)} is out of range`);
  return Number(v);
};

const FLOAT_TYPES = new Map<number, 4 | 8>([
  [DT.FLOAT, 4],
  [DT.DOUBLE, 8],
]);
const INT_TYPES = new Map<number, number>([
  [DT.INT64, 8],
  [DT.INT32, 4],
  [DT.BOOL, 1],
]);

function typeName(t: number): string {
  return DT[t] ?? `type ${t}`;
}

/** A tensor's values, its size checked before its data is allocated. */
export function tensorValues(t: TensorProto, where: string): OnnxValues {
  const name = t.name || where;
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL || t.externalData.length)
    fail(
      `tensor ${q(name)} keeps its data in an external file: graph-run imports self-contained models only`,
      undefined,
      'save the model with its data inside: onnx.save(model, path, save_as_external_data=False)',
    );
  const dims = t.dims.map((d) => num(d, `tensor ${q(name)}'s dimension`));
  for (const d of dims) if (d < 0 || d > MAX_DIM) fail(`tensor ${q(name)} has dimension ${d}, outside 0..${MAX_DIM}`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n > MAX_ELEMENTS) fail(`tensor ${q(name)} holds ${n} elements, over the limit of ${MAX_ELEMENTS} (2^28)`);
  const width = FLOAT_TYPES.get(t.dataType);
  const iwidth = INT_TYPES.get(t.dataType);
  if (width === undefined && iwidth === undefined)
    fail(
      `tensor ${q(name)} is ${typeName(t.dataType)}; graph-run imports float, double, int32, int64 and bool tensors`,
    );
  const size = width ?? iwidth!;
  const raw = t.rawData.length > 0;
  const held = raw
    ? t.rawData.length
    : width === 4
      ? t.floatData.length * 4
      : width === 8
        ? t.doubleData.length * 8
        : t.dataType === DT.INT64
          ? t.int64Data.length * 8
          : t.int32Data.length * size;
  if (held !== n * size)
    fail(
      `tensor ${q(name)}: ${typeName(t.dataType)} [${dims.join(', ')}] needs ${n * size} bytes of data, the file holds ${held}`,
    );
  if (width !== undefined) {
    if (!raw)
      return {
        name,
        kind: 'float',
        width,
        dims,
        data: width === 4 ? Float32Array.from(t.floatData) : Float64Array.from(t.doubleData),
      };
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    const data = width === 4 ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = width === 4 ? view.getFloat32(i * 4, true) : view.getFloat64(i * 8, true);
    return { name, kind: 'float', width, dims, data };
  }
  const data: number[] = new Array<number>(n);
  if (raw) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    for (let i = 0; i < n; i++)
      data[i] =
        size === 8
          ? saturate(view.getBigInt64(i * 8, true))
          : size === 4
            ? view.getInt32(i * 4, true)
            : view.getUint8(i);
  } else if (t.dataType === DT.INT64) for (let i = 0; i < n; i++) data[i] = saturate(t.int64Data[i]!);
  else for (let i = 0; i < n; i++) data[i] = t.int32Data[i]!;
  return { name, kind: 'int', width: 0, dims, data };
}

function attrOf(a: AttributeProto, node: string): OnnxAttr {
  // A graph holds finite numbers only (docs/format.md, "Limits").
  const finite = (v: number) =>
    Number.isFinite(v) ? v : fail(`node ${q(node)}: attribute ${q(a.name)} is ${v}, not a finite number`, node);
  switch (a.type) {
    case AT.FLOAT:
      return { kind: 'float', value: finite(a.f) };
    case AT.INT:
      return { kind: 'int', value: num(a.i, `node ${q(node)} attribute ${q(a.name)}`) };
    case AT.STRING:
      return { kind: 'string', value: new TextDecoder().decode(a.s) };
    case AT.FLOATS:
      return { kind: 'floats', value: a.floats.map(finite) };
    case AT.INTS:
      return { kind: 'ints', value: a.ints.map((v) => num(v, `node ${q(node)} attribute ${q(a.name)}`)) };
    case AT.TENSOR:
      if (!a.t) return fail(`node ${q(node)}: attribute ${q(a.name)} has no tensor`, node);
      return { kind: 'tensor', value: tensorValues(a.t, `${node}.${a.name}`) };
    default:
      return { kind: 'other', type: AT[a.type] ?? String(a.type) };
  }
}

function valueInfo(v: ValueInfoProto, what: string): OnnxValueInfo {
  const t = v.type?.value;
  if (v.type?.value.case !== 'tensorType' || !t)
    return fail(`${what} ${q(v.name)} is not a tensor: graph-run imports tensor inputs and outputs only`);
  const tt = v.type.value.value;
  const kind = FLOAT_TYPES.has(tt.elemType) ? 'float' : INT_TYPES.has(tt.elemType) ? 'int' : undefined;
  if (!kind)
    return fail(`${what} ${q(v.name)} is ${typeName(tt.elemType)}; graph-run imports float and integer tensors`);
  if (!tt.shape) return fail(`${what} ${q(v.name)} has no shape: graph-run needs each input's rank`);
  const shape = tt.shape.dim.map((d) => {
    if (d.value.case === 'dimValue') {
      const n = num(d.value.value, `${what} ${q(v.name)}'s dimension`);
      if (n < 0 || n > MAX_DIM) fail(`${what} ${q(v.name)} has dimension ${n}, outside 0..${MAX_DIM}`);
      return n;
    }
    return d.value.case === 'dimParam' ? d.value.value || '?' : '?';
  });
  return { name: v.name, kind, shape };
}

/**
 * Decode and check an ONNX model (`file` names it in messages). Throws an ImportError for a
 * file that is not ONNX, is damaged or truncated, too large, uses an opset outside 13-21 or
 * keeps data in external files.
 * @example const g = readOnnx(readFileSync('mlp.onnx'), 'mlp.onnx');
 */
export function readOnnx(bytes: Uint8Array, file = 'model.onnx'): OnnxGraphInfo {
  if (bytes.length > MAX_ONNX_BYTES)
    fail(`${file} holds ${bytes.length} bytes, over the ${MAX_ONNX_BYTES / 1048576} MiB limit for an imported model`);
  let m: ReturnType<typeof fromBinary<typeof ModelProtoSchema>>;
  try {
    m = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false, recursionLimit: MAX_DEPTH });
  } catch (e) {
    const why = e instanceof RangeError ? 'nested too deeply' : (e as Error).message.slice(0, 80);
    return fail(`${file} is not an ONNX model, or it is damaged or truncated (${why})`);
  }
  const g = m.graph;
  if (!g || (g.node.length === 0 && g.output.length === 0))
    fail(`${file} is not an ONNX model, or it is damaged: it holds no graph`);
  const graph = g!;
  const opsets = new Map(m.opsetImport.map((o) => [o.domain === 'ai.onnx' ? '' : o.domain, o.version]));
  const v = opsets.get('');
  if (v === undefined) fail(`${file} imports no version of the standard ONNX opset`);
  const opset = num(v!, `${file}'s opset`);
  if (opset < MIN_OPSET || opset > MAX_OPSET)
    fail(
      `${file} uses ONNX opset ${opset}; graph-run imports opsets ${MIN_OPSET} to ${MAX_OPSET}`,
      undefined,
      'convert it first: onnx.version_converter.convert_version(model, 17)',
    );
  if (graph.sparseInitializer.length) fail(`${file} has sparse initializers, which graph-run does not import`);
  const initializers = new Map<string, OnnxValues>();
  for (const t of graph.initializer) {
    if (!t.name) fail(`${file} has an initializer without a name`);
    initializers.set(t.name, tensorValues(t, t.name));
  }
  const nodes = graph.node.map((n, i): OnnxNodeInfo => {
    const name = n.name || `${n.opType} #${i}`;
    const attrs = new Map<string, OnnxAttr>();
    for (const a of n.attribute) attrs.set(a.name, attrOf(a, name));
    return {
      name,
      op: n.opType,
      domain: n.domain === 'ai.onnx' ? '' : n.domain,
      inputs: n.input,
      outputs: n.output,
      attrs,
    };
  });
  return {
    opset,
    producer: [m.producerName, m.producerVersion].filter(Boolean).join(' '),
    graphName: graph.name,
    // Initializers may also be listed as inputs (IR < 4): those are weights, not inputs.
    inputs: graph.input.filter((i) => !initializers.has(i.name)).map((i) => valueInfo(i, 'input')),
    outputs: graph.output.map((o) => o.name),
    initializers,
    nodes,
  };
}
