// ONNX models for the benchmark's ONNX Runtime references: small float32 graphs of standard
// ops, encoded by the exporter's own protobuf writer (runtime/export/onnx-proto.ts).

import { ElemType, encodeOnnx } from '../runtime/export/onnx-proto.js';

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

/** The serialized ModelProto (IR version 8, opset 17). */
export function onnxModel(g: OnnxGraph): Uint8Array {
  const info = (v: { name: string; shape: number[] }) => ({ name: v.name, type: ElemType.FLOAT, shape: v.shape });
  return encodeOnnx({
    opset: 17,
    irVersion: 8,
    producer: 'graph-run-bench',
    producerVersion: '',
    graphName: 'bench',
    nodes: g.nodes.map((n, i) => ({ ...n, name: `n${i}` })),
    initializers: g.initializers.map((t) => ({
      name: t.name,
      type: ElemType.FLOAT,
      dims: t.shape,
      raw: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    })),
    inputs: g.inputs.map(info),
    outputs: g.outputs.map(info),
    metadata: {},
  });
}
