// ONNX graph -> graph-run graph (as data: inputs, params, nodes, outputs). Nodes are converted
// in file order (ONNX requires a topological one) by the op table (ops.ts): one builder per ONNX
// op, which emits graph-run nodes through a Ctx. The Ctx tracks each value's shape (numbers and
// the symbolic `batch`) so builders can resolve Reshape's 0 and -1, Flatten and Split, and keeps
// constants (initializers of integers, Constant nodes) as data for builders that need numbers
// (shapes, axes, split sizes); a float initializer becomes a parameter the first time a node
// reads it as a tensor. Names are made valid graph-run names (`/fc1/Gemm` -> `fc1_Gemm`).

import { ImportError, type OnnxAttr, type OnnxGraphInfo, type OnnxNodeInfo, type OnnxValues, q } from './read.js';

export type Dim = number | 'batch';

/** A value during conversion: a graph-run name or a literal number, or a constant not yet placed. */
export interface Val {
  ref?: string | number;
  shape: Dim[];
  kind: 'float' | 'int';
  /** Known values (initializers, Constant nodes, folded integer arithmetic). */
  data?: OnnxValues;
  /** From a Constant node (a parameter made from it is frozen). */
  constant?: boolean;
}

export interface GNode {
  name: string;
  op: string;
  inputs: (string | number)[];
  attrs?: Record<string, unknown>;
  /** The ONNX node it comes from (a comment in the YAML). */
  from: string;
}

export interface GParam {
  name: string;
  shape: number[];
  data: Float32Array | Float64Array;
  trainable: boolean;
  /** The ONNX initializer it holds. */
  source: string;
}

export interface GInput {
  name: string;
  shape: Dim[];
  int: boolean;
}

/** An ONNX graph as graph-run's: what importOnnx writes as YAML and safetensors. */
export interface ImportedGraph {
  name: string;
  producer: string;
  opset: number;
  inputs: GInput[];
  params: GParam[];
  nodes: GNode[];
  /** Output name -> the graph-run value it is. */
  outputs: [string, string][];
}

/** What a builder sees of the ONNX node it converts and how it adds graph-run nodes. */
export interface Ctx {
  node: OnnxNodeInfo;
  opset: number;
  /** Whether input i is given (optional inputs may be empty). */
  has(i: number): boolean;
  /** Input i as a graph value (a float initializer becomes a parameter now; `frozen`: not trainable). */
  x(i: number, frozen?: boolean): Val;
  /** Input i's shape. */
  shape(i: number): Dim[];
  /** Input i's known values, or undefined when it is computed at run time. */
  known(i: number): OnnxValues | undefined;
  /** Input i's known integers (shapes, axes); refuses a computed one, naming `what`. */
  ints(i: number, what: string): number[];
  attr(name: string): OnnxAttr | undefined;
  int(name: string, dflt: number): number;
  float(name: string, dflt: number): number;
  intList(name: string): number[] | undefined;
  str(name: string, dflt: string): string;
  /** Add a graph-run node; returns its value with the given shape. */
  emit(
    op: string,
    inputs: Val[],
    attrs: Record<string, unknown> | undefined,
    shape: Dim[],
    kind?: 'float' | 'int',
  ): Val;
  /** A constant value (folded at import). */
  constant(data: OnnxValues): Val;
  fail(message: string, hint?: string): never;
}

export type Builder = (c: Ctx) => Val | (Val | undefined)[];

// Names a graph may not use: JavaScript's own properties (docs/format.md), and `batch`.
const RESERVED = new Set([
  'batch',
  'loss',
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** A unique, valid graph-run name made from an ONNX one. */
function namer(): (raw: string, fallback: string) => string {
  const used = new Set<string>();
  return (raw, fallback) => {
    let s = raw
      .replace(/[^A-Za-z0-9_]+/g, '_')
      .replace(/_+/g, '_')
      .replace(/^_+|_+$/g, '');
    if (!s) s = fallback;
    if (/^[0-9]/.test(s)) s = `v${s}`;
    if (s.length > 60) s = s.slice(0, 60);
    if (RESERVED.has(s)) s = `${s}_`;
    let out = s;
    for (let k = 2; used.has(out); k++) out = `${s}_${k}`;
    used.add(out);
    return out;
  };
}

const numel = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Convert a read ONNX graph with the op table; `name` is the graph's name. */
export function convertGraph(
  g: OnnxGraphInfo,
  table: Record<string, Builder>,
  name: string,
  supported: string[] = Object.keys(table),
): ImportedGraph {
  const unique = namer();
  const values = new Map<string, Val>();
  const out: ImportedGraph = {
    name,
    producer: g.producer,
    opset: g.opset,
    inputs: [],
    params: [],
    nodes: [],
    outputs: [],
  };
  const outputSet = new Set(g.outputs);
  /** Graph outputs -> the name kept for them (their node takes it when it adds one). */
  const namedFor = new Map<string, string>();
  const fail = (message: string, node?: string, hint?: string): never => {
    throw new ImportError(message, node, hint);
  };

  for (const i of g.inputs) {
    const shape = i.shape.map((d, k): Dim => {
      if (typeof d === 'number') return d;
      if (k === 0) return 'batch';
      return fail(
        `input ${q(i.name)}: dimension ${k} is symbolic (${q(d)}); graph-run's one symbolic dimension is the batch, the first`,
        undefined,
        'export the model with that dimension fixed',
      );
    });
    const n = unique(i.name, 'input');
    out.inputs.push({ name: n, shape, int: i.kind === 'int' });
    values.set(i.name, { ref: n, shape, kind: i.kind });
  }
  for (const [k, t] of g.initializers) values.set(k, { shape: t.dims, kind: t.kind, data: t });

  /** Make a known float value a parameter (or a literal when it is one number). */
  const place = (v: Val, onnxName: string, node: string, frozen = false): Val => {
    if (v.ref !== undefined || !v.data) return v;
    const d = v.data;
    if (numel(d.dims) === 1 && d.dims.length <= 1) return { ...v, ref: d.data[0]! };
    if (d.kind === 'int')
      fail(
        `node ${q(node)} reads the integer tensor ${q(onnxName)} as a value: graph-run imports integer constants only as shapes and axes`,
        node,
      );
    const p: GParam = {
      // The exporter's own names (`onnx::MatMul_55`, a transposed weight) say less than the node's.
      name: onnxName.startsWith('onnx::') ? unique(`${node}_weight`, 'param') : unique(onnxName, 'param'),
      shape: d.dims,
      data: d.data as Float32Array | Float64Array,
      trainable: !v.constant && !frozen,
      source: onnxName,
    };
    out.params.push(p);
    const placed = { ...v, ref: p.name };
    values.set(onnxName, placed);
    return placed;
  };

  for (const node of g.nodes) {
    if (node.domain !== '')
      fail(`node ${q(node.name)}: op ${q(node.op)} of domain ${q(node.domain)} is not supported`, node.name);
    const build = table[node.op];
    if (!build)
      fail(
        `node ${q(node.name)}: ONNX op ${q(node.op)} is not supported`,
        node.name,
        `graph-run imports ${supported.join(', ')}`,
      );
    const isOut = outputSet.has(node.outputs[0] ?? '');
    const base = unique(isOut ? node.outputs[0]! : node.name, node.op.toLowerCase());
    if (isOut) namedFor.set(node.outputs[0]!, base);
    const emitted: GNode[] = [];
    const input = (i: number): Val => {
      const n = node.inputs[i];
      if (!n) return fail(`node ${q(node.name)} (${node.op}) has no input ${i}`, node.name);
      const v = values.get(n);
      if (!v)
        return fail(`node ${q(node.name)} reads ${q(n)}, which no input, initializer or earlier node gives`, node.name);
      return v;
    };
    const ctx: Ctx = {
      node,
      opset: g.opset,
      has: (i) => !!node.inputs[i],
      x: (i, frozen) => place(input(i), node.inputs[i]!, node.name, frozen),
      shape: (i) => input(i).shape,
      known: (i) => input(i).data,
      ints(i, what) {
        const d = input(i).data;
        if (!d)
          return fail(
            `node ${q(node.name)} (${node.op}): ${what} is computed at run time; graph-run needs it fixed`,
            node.name,
          );
        return Array.from(d.data);
      },
      attr: (n) => node.attrs.get(n),
      int(n, dflt) {
        const a = node.attrs.get(n);
        return a?.kind === 'int' ? a.value : dflt;
      },
      float(n, dflt) {
        const a = node.attrs.get(n);
        return a?.kind === 'float' ? a.value : dflt;
      },
      intList(n) {
        const a = node.attrs.get(n);
        return a?.kind === 'ints' ? a.value : undefined;
      },
      str(n, dflt) {
        const a = node.attrs.get(n);
        return a?.kind === 'string' ? a.value : dflt;
      },
      emit(op, inputs, attrs, shape, kind = 'float') {
        const refs = inputs.map((v) => {
          if (v.ref === undefined) return fail(`node ${q(node.name)}: internal error, an unplaced input`, node.name);
          return v.ref;
        });
        const n: GNode = { name: unique(`${base}_${op}`, op), op, inputs: refs, from: node.name };
        if (attrs && Object.keys(attrs).length) n.attrs = attrs;
        emitted.push(n);
        return { ref: n.name, shape, kind };
      },
      constant: (data) => ({ shape: data.dims, kind: data.kind, data }),
      fail: (message, hint) => fail(`node ${q(node.name)} (${node.op}): ${message}`, node.name, hint),
    };
    let r: ReturnType<Builder>;
    try {
      r = build(ctx);
    } catch (e) {
      // A damaged file can give a node any attributes and shapes: whatever a builder trips on
      // is a refusal of that node, not a crash.
      if (e instanceof ImportError) throw e;
      return fail(
        `node ${q(node.name)} (${node.op}): cannot convert it (${String((e as Error).message).slice(0, 80)})`,
        node.name,
      );
    }
    const results = Array.isArray(r) ? r : [r];
    // The last node a builder adds is its result: it takes the ONNX node's (or output's) name.
    const last = emitted[emitted.length - 1];
    if (last && results.length === 1 && results[0]?.ref === last.name) {
      for (const e of emitted) e.inputs = e.inputs.map((x) => (x === last.name ? base : x));
      last.name = base;
      results[0] = { ...results[0]!, ref: base };
    }
    out.nodes.push(...emitted);
    node.outputs.forEach((o, k) => {
      const v = results[k];
      if (o && v) values.set(o, v);
    });
  }

  for (const o of g.outputs) {
    const v = values.get(o);
    if (!v) fail(`output ${q(o)} is given by no node`);
    const placed = place(v!, o, 'output');
    if (typeof placed.ref !== 'string') fail(`output ${q(o)} is a single number; graph-run outputs name values`);
    // The name kept for it (its node's, or unused when the node gave an existing value).
    out.outputs.push([namedFor.get(o) ?? unique(o, 'out'), placed.ref as string]);
  }
  return out;
}
