// An ONNX model as plain data, and its encoding in the protobuf wire format, written by hand
// (no protobuf dependency): varints, length-delimited fields and fixed32 floats are all
// onnx.proto needs. Field numbers are those of onnx/onnx.proto (IR version 10, opset 21).

/** TensorProto.DataType values used here. */
export const ElemType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;
export type ElemType = (typeof ElemType)[keyof typeof ElemType];

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs?: Record<string, AttrValue>;
  doc?: string;
}

export interface OnnxTensor {
  name: string;
  type: ElemType;
  dims: number[];
  /** Little-endian element bytes. */
  raw: Uint8Array;
}

/** A dimension: a number, or a symbol such as "batch". */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  type: ElemType;
  shape: OnnxDim[];
  doc?: string;
}

/**
 * An ONNX model as plain data (graph, initializers, opset), before `encodeOnnx` writes its
 * protobuf bytes.
 */
export interface OnnxModel {
  opset: number;
  irVersion: number;
  producer: string;
  producerVersion: string;
  graphName: string;
  doc?: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  metadata: Record<string, string>;
}

class Writer {
  private chunks: number[] = [];

  private varint(v: bigint): void {
    // Negative int64s are written as their 64-bit two's complement (ten bytes), as protobuf does.
    let x = BigInt.asUintN(64, v);
    while (x > 0x7fn) {
      this.chunks.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.chunks.push(Number(x));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(BigInt(v));
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.chunks.push(...b);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(data.length));
    for (let i = 0; i < data.length; i++) this.chunks.push(data[i]!);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, build: (w: Writer) => void): this {
    const w = new Writer();
    build(w);
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

function attribute(w: Writer, name: string, a: AttrValue): void {
  w.str(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value).int(20, AttrType.FLOAT);
      break;
    case 'int':
      w.int(3, a.value).int(20, AttrType.INT);
      break;
    case 'string':
      w.str(4, a.value).int(20, AttrType.STRING);
      break;
    case 'ints':
      for (const v of a.value) w.int(8, v);
      w.int(20, AttrType.INTS);
      break;
    default:
      a satisfies never;
  }
}

function valueInfo(w: Writer, v: OnnxValueInfo): void {
  w.str(1, v.name);
  w.msg(2, (t) =>
    t.msg(1, (tt) => {
      tt.int(1, v.type);
      tt.msg(2, (s) => {
        for (const d of v.shape) s.msg(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.str(2, d)));
      });
    }),
  );
  if (v.doc) w.str(3, v.doc);
}

/** Serialize a model as ONNX ModelProto bytes. */
export function encodeOnnx(m: OnnxModel): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion);
  w.str(2, m.producer);
  w.str(3, m.producerVersion);
  if (m.doc) w.str(6, m.doc);
  w.msg(7, (g) => {
    for (const n of m.nodes) {
      g.msg(1, (nw) => {
        for (const i of n.inputs) nw.str(1, i);
        for (const o of n.outputs) nw.str(2, o);
        nw.str(3, n.name);
        nw.str(4, n.op);
        for (const [k, a] of Object.entries(n.attrs ?? {})) nw.msg(5, (aw) => attribute(aw, k, a));
        if (n.doc) nw.str(6, n.doc);
      });
    }
    g.str(2, m.graphName);
    for (const t of m.initializers) {
      g.msg(5, (tw) => {
        for (const d of t.dims) tw.int(1, d);
        tw.int(2, t.type);
        tw.str(8, t.name);
        tw.bytes(9, t.raw);
      });
    }
    for (const v of m.inputs) g.msg(11, (vw) => valueInfo(vw, v));
    for (const v of m.outputs) g.msg(12, (vw) => valueInfo(vw, v));
  });
  w.msg(8, (o) => o.str(1, '').int(2, m.opset));
  for (const [k, v] of Object.entries(m.metadata)) w.msg(14, (e) => e.str(1, k).str(2, v));
  return w.finish();
}
