// Embedding lookup: row ids[j] of a [vocab, d] table for every id, as torch.nn.functional.embedding.
// A row copy per id (not one_hot · matmul: that costs vocab·d multiply-adds per id). Its gradient
// is a scatter-add of dy's rows into a zero table, embedding_grad. Ids outside [0, vocab) are a
// data error: ids in training data are checked before training and fed ids before each run
// (train/labels.ts), the CPU kernel checks every id (IndexRangeError, which the plan reports with
// the node's name), and the WebGPU kernel, which cannot throw, reads a zero row for an id computed
// on the device outside the table rather than memory outside it.

import { RuleError } from '../errors.js';
import { isFloat, shapeStr, sizeOf, type SymType } from '../ir/types.js';
import { Type } from './attrs.js';
import { IndexRangeError } from './index-ops.js';
import { defineOp, type OpDef } from './op.js';
import { int } from './onnx.js';
import { u32 } from './wgsl.js';

function checkIds(op: string, ids: SymType): void {
  if (ids.dtype !== 'i32') throw new RuleError(`${op} ids must be i32, got ${ids.dtype}`, 'DTypeError');
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type EmbeddingOpName = 'embedding' | 'embedding_grad';

export const embeddingOps: { readonly [K in EmbeddingOpName]: OpDef } = {
  embedding: defineOp({
    name: 'embedding',
    doc: 'Rows of a [vocab, d] table picked by i32 ids of any shape: [...ids.shape, d] (torch.nn.functional.embedding).',
    notes:
      '`embedding` copies one row per id; its gradient adds the rows of dy into a zero table (`embedding_grad`, ' +
      'in id order on the CPU; on WebGPU one invocation per table element scans the ids in the same order, so ' +
      'no float atomics are needed and the sums are deterministic). An id outside [0, vocab) is an error: ids ' +
      'in training or validation data are checked before training, at their row; fed ids are checked on the ' +
      'host before each run, and the CPU kernel checks every id, naming the node and the id; the WebGPU kernel ' +
      'cannot stop a run and reads a zero row for an id computed on the device outside the table ' +
      '([layers.md](layers.md)).',
    group: 'shape',
    arity: 2,
    attrs: Type.Object({}, { additionalProperties: false }),
    infer: ([table, ids]) => {
      if (!isFloat(table!.dtype))
        throw new RuleError(
          `embedding reads a float table (its first input), got ${table!.dtype}; the ids are the second`,
          'DTypeError',
        );
      if (table!.shape.length !== 2)
        throw new RuleError(`embedding table must be [vocab, d], got ${shapeStr(table!.shape)}`, 'ShapeError');
      checkIds('embedding', ids!);
      return { shape: [...ids!.shape, table!.shape[1]!], dtype: table!.dtype };
    },
    cpu: ({ inputs, output, inTypes }) => {
      const [table, ids] = inputs as [(typeof inputs)[0], (typeof inputs)[0]];
      const [vocab, d] = inTypes[0]!.shape as [number, number];
      const n = ids!.length;
      return () => {
        for (let j = 0; j < n; j++) {
          const k = ids![j]!;
          if (k < 0 || k >= vocab) throw new IndexRangeError(k, vocab, 'embedding');
          output.set(table!.subarray(k * d, k * d + d), j * d);
        }
      };
    },
    wgsl: ({ inTypes, outType }) => {
      const [vocab, d] = inTypes[0]!.shape as [number, number];
      const body = [
        `let k = in1[i / ${u32(d)}];`,
        `if (k < 0 || k >= ${vocab}) { out[i] = 0.0; return; }`,
        `out[i] = in0[u32(k) * ${u32(d)} + i % ${u32(d)}];`,
      ].join('\n');
      return { kind: 'map', count: sizeOf(outType.shape), body };
    },
    grad: (g, node, dy, needs) => [
      needs[0] ? g.op('embedding_grad', [dy, node.inputs[1]!], { vocab: g.type(node.inputs[0]!).shape[0] }) : null,
      null,
    ],
    // ONNX Gather along axis 0 is exactly this lookup (ONNX Runtime also rejects ids out of range).
    onnx: (c) => void c.emit('Gather', [c.x[0]!, c.x[1]!], { axis: int(0) }, c.out),
  }),
  embedding_grad: defineOp({
    name: 'embedding_grad',
    doc: "The gradient of embedding: dy's rows added into a zero [vocab, d] table at their ids.",
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: Type.Object(
      {
        vocab: Type.Integer({ minimum: 1, description: 'Rows of the table (its first axis).', examples: [65] }),
      },
      { additionalProperties: false },
    ),
    infer: ([dy, ids], attrs) => {
      checkIds('embedding_grad', ids!);
      const lead = dy!.shape.slice(0, -1);
      if (dy!.shape.length !== ids!.shape.length + 1 || lead.some((dim, i) => dim !== ids!.shape[i]))
        throw new RuleError(`embedding_grad: dy ${shapeStr(dy!.shape)} does not match ids ${shapeStr(ids!.shape)}`);
      return { shape: [attrs.vocab, dy!.shape[dy!.shape.length - 1]!], dtype: dy!.dtype };
    },
    cpu: ({ inputs, output, outType }) => {
      const [dy, ids] = inputs as [(typeof inputs)[0], (typeof inputs)[0]];
      const [vocab, d] = outType.shape as [number, number];
      const n = ids!.length;
      return () => {
        output.fill(0);
        for (let j = 0; j < n; j++) {
          const k = ids![j]!;
          if (k < 0 || k >= vocab) throw new IndexRangeError(k, vocab, 'embedding');
          const o = k * d,
            s = j * d;
          for (let c = 0; c < d; c++) output[o + c]! += dy![s + c]!;
        }
      };
    },
    // One invocation per table element sums dy over the ids naming its row, in id order (the
    // CPU's order): no float atomics, and the same sums on every run.
    wgsl: ({ inTypes, outType }) => {
      const d = outType.shape[1]!;
      const n = sizeOf(inTypes[1]!.shape);
      const body = [
        `let row = i32(i / ${u32(d)});`,
        `let col = i % ${u32(d)};`,
        'var acc = 0.0;',
        `for (var j = 0u; j < ${u32(n)}; j = j + 1u) {`,
        `  if (in1[j] == row) { acc = acc + in0[j * ${u32(d)} + col]; }`,
        '}',
        'out[i] = acc;',
      ].join('\n');
      return { kind: 'map', count: sizeOf(outType.shape), body };
    },
    grad: 'none',
    onnx: 'none',
  }),
};
