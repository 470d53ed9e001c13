// A minimal ONNX model writer for the benchmark's ONNX Runtime references: just enough of the
// protobuf wire format (varints, length-delimited fields) and of onnx.proto (ModelProto,
// GraphProto, NodeProto, TensorProto, ValueInfoProto) for float32 graphs of standard ops.
// Field numbers are those of onnx/onnx.proto.

class Writer {
  readonly bytes: number[] = [];
  varint(n: number): this {
    while (n > 0x7f) {
      this.bytes.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.bytes.push(n);
    return this;
  }
  /** Varint field (wire type 0). */
  int(field: number, n: number): this {
    return this.varint(field << 3).varint(n);
  }
  /** Length-delimited field (wire type 2): bytes, a string or a nested message. */
  len(field: number, data: ArrayLike<number>): this {
    this.varint((field << 3) | 2).varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]!);
    return this;
  }
  str(field: number, s: string): this {
    return this.len(field, new TextEncoder().encode(s));
  }
  msg(field: number, build: (w: Writer) => void): this {
    const w = new Writer();
    build(w);
    return this.len(field, w.bytes);
  }
}

const FLOAT = 1;

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
}

export interface OnnxGraph {
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
  initializers: { name: string; shape: number[]; data: Float32Array }[];
  nodes: OnnxNode[];
}

function valueInfo(w: Writer, v: { name: string; shape: number[] }): void {
  w.str(1, v.name);
  w.msg(2, (t) => t.msg(1, (tt) => {
    tt.int(1, FLOAT);
    tt.msg(2, (s) => { for (const d of v.shape) s.msg(1, (dim) => dim.int(1, d)); });
  }));
}

/** The serialized ModelProto (IR version 8, default opset 17). */
export function onnxModel(g: OnnxGraph): Uint8Array {
  const m = new Writer();
  m.int(1, 8); // ir_version
  m.str(2, 'graph-run-bench'); // producer_name
  m.msg(8, (o) => o.str(1, '').int(2, 17)); // opset_import
  m.msg(7, (gw) => {
    g.nodes.forEach((n, i) => gw.msg(1, (nw) => {
      for (const x of n.inputs) nw.str(1, x);
      for (const y of n.outputs) nw.str(2, y);
      nw.str(3, `n${i}`);
      nw.str(4, n.op);
    }));
    gw.str(2, 'bench');
    for (const t of g.initializers) gw.msg(5, (tw) => {
      for (const d of t.shape) tw.int(1, d);
      tw.int(2, FLOAT);
      tw.str(8, t.name);
      tw.len(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    });
    for (const v of g.inputs) gw.msg(11, (w) => valueInfo(w, v));
    for (const v of g.outputs) gw.msg(12, (w) => valueInfo(w, v));
  });
  return new Uint8Array(m.bytes);
}
