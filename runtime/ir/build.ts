// Model (resolved, possibly with the symbol `batch`) -> typed IRGraph for one float dtype,
// `batch` kept symbolic (ir/dim.ts): a graph is built once and bound per batch size by the
// plans. Shape and dtype errors are collected per node; nodes downstream of a failed node
// are skipped so one mistake is reported once.

import { DataError, DTypeError, type GraphError, locPrefix, NameError, ShapeError } from '../errors.js';
import type { Dim as DeclDim, Model, OpNodeDecl, Ref, RepeatDecl } from '../load/model.js';
import { BATCH, type Dim } from './dim.js';
import { IRGraph } from './graph.js';
import { type DType, type FloatDType, type SymType, sameShape, shapeStr, type TensorType } from './types.js';
import { getOp } from '../ops/registry.js';

export interface BuildOptions {
  float: FloatDType;
  /** Bind `batch` to this size (a graph for one batch size, as a plan reads it); absent: symbolic. */
  batch?: number;
  /** Include the loss nodes. */
  loss?: boolean;
}

/** A built graph: symbolic (D = Dim, as compiled) or bound to one batch size (D = number). */
export interface Built<D extends Dim = number> {
  graph: IRGraph<D>;
  errors: GraphError[];
  /** The IR node a model reference names (numbers become shared constants). */
  ref: (r: Ref) => string;
}

/** A declared shape with the symbol `batch` as the IR's symbolic dim. */
export function symDims(shape: DeclDim[]): Dim[] {
  return shape.map((d) => (d === 'batch' ? BATCH : (d as number)));
}

/** A declared shape with `batch` bound. */
export function bindDims(shape: DeclDim[], batch: number): number[] {
  return shape.map((d) => (d === 'batch' ? batch : (d as number)));
}

/** The model's graph, `batch` symbolic; with `opts.batch`, bound to that size. */
export function buildGraph(model: Model, opts: BuildOptions & { batch: number }): Built;
export function buildGraph(model: Model, opts: BuildOptions): Built<Dim>;
export function buildGraph(model: Model, opts: BuildOptions): Built<Dim> | Built {
  const sym = buildSymbolic(model, opts);
  return opts.batch === undefined ? sym : { ...sym, graph: sym.graph.bind(opts.batch) };
}

function buildSymbolic(model: Model, opts: BuildOptions): Built<Dim> {
  const graph = new IRGraph<Dim>(opts.float);
  const errors: GraphError[] = [];
  const failed = new Set<string>();
  const ref = (r: Ref) => (typeof r === 'number' ? graph.constant(r) : r);
  for (const i of [...model.inputs, ...(model.runtime ?? [])]) {
    const dtype: DType = i.dtype === 'float' ? opts.float : i.dtype;
    graph.add({
      name: i.name,
      op: 'input',
      inputs: [],
      attrs: { shape: symDims(i.shape), dtype },
      loc: i.loc,
    });
  }
  for (const p of model.params) {
    // A parameter written with a `/` may take a name a subgraph use generates (`l1/weight`).
    const first = graph.has(p.name) ? model.params.find((q) => q.name === p.name) : undefined;
    if (first) {
      errors.push(
        new NameError(
          `duplicate name "${p.name}": a parameter of that name is declared at ${locPrefix(first.loc)}`,
          p.loc,
          p.name,
          'rename one of them; a subgraph use names its parameters <use>/<param>',
        ),
      );
      continue;
    }
    graph.add({
      name: p.name,
      op: 'param',
      inputs: [],
      attrs: { shape: p.shape, dtype: opts.float, init: p.init, trainable: p.trainable },
      loc: p.loc,
    });
  }
  for (const s of model.state ?? [])
    graph.add({ name: s.name, op: 'state', inputs: [], attrs: { shape: s.shape, dtype: opts.float }, loc: s.loc });
  // A repeated use is checked once its first copy's output and its chained input are both typed
  // (the output usually last), before the next copy reads the output.
  const checks = new Map<string, (() => GraphError | undefined)[]>();
  for (const r of model.repeats ?? []) {
    const names = [r.input, r.output].filter((n): n is string => typeof n === 'string');
    if (typeof r.output !== 'string') continue;
    const check = () => (names.every((n) => graph.has(n)) ? chainError(graph, r) : undefined);
    const pending = names.filter((n) => !graph.has(n));
    for (const n of pending) checks.set(n, [...(checks.get(n) ?? []), check]);
    const e = pending.length ? undefined : check(); // both are inputs or parameters of the graph
    if (e) {
      errors.push(e);
      failed.add(r.output);
    }
  }
  addNodes(graph, model.nodes, errors, failed, ref, checks);
  if (opts.loss && model.loss) addNodes(graph, model.loss.nodes, errors, failed, ref, checks);
  checkStateUpdates(model, graph, errors);
  return { graph, errors, ref };
}

/** Each model state's update node must have the state's shape and dtype (it is copied into it). */
function checkStateUpdates(model: Model, graph: IRGraph<Dim>, errors: GraphError[]): void {
  for (const s of model.state ?? []) {
    if (typeof s.update !== 'string' || !graph.has(s.update)) continue; // a loss node, absent here; or failed
    const t = graph.node(s.update).type;
    const same = t.shape.length === s.shape.length && t.shape.every((d, i) => d === s.shape[i]);
    if (!same)
      errors.push(
        new ShapeError(
          `the update of state "${s.name}" has shape ${shapeStr(t.shape)}, the state has ${shapeStr(s.shape)}`,
          s.updateLoc ?? s.loc,
          s.name,
          `update: names the node whose value becomes the state: reshape or reduce "${s.update}" to ${shapeStr(s.shape)}`,
        ),
      );
    else if (t.dtype !== graph.float)
      errors.push(
        new DTypeError(
          `the update of state "${s.name}" is ${t.dtype}, the state is ${graph.float}`,
          s.updateLoc ?? s.loc,
          s.name,
          'cast it to float',
        ),
      );
  }
}

/** The error for a repeated use whose first copy changes the type of its chained input, if it does. */
function chainError(graph: IRGraph<Dim>, r: RepeatDecl): GraphError | undefined {
  const want: SymType = typeof r.input === 'number' ? { shape: [], dtype: graph.float } : graph.node(r.input).type;
  const got = graph.node(r.output as string).type;
  if (sameShape(got.shape, want.shape) && got.dtype === want.dtype) return undefined;
  const show = (t: SymType) => `${shapeStr(t.shape)} ${t.dtype}`;
  return new ShapeError(
    `the first copy of "${r.use}" turns its chained input "${r.inputName}" ${show(want)} into ${show(got)}; the next copy's "${r.inputName}" takes that output`,
    r.loc,
    r.use,
    "a repeated subgraph must keep its chained input's shape and dtype (with: sets its sizes; chain: names another input)",
  );
}

/** Add op nodes in order; errors are collected, dependents of failed nodes skipped. */
export function addNodes(
  graph: IRGraph<Dim>,
  nodes: OpNodeDecl[],
  errors: GraphError[],
  failed: Set<string>,
  ref: (r: Ref) => string,
  /** Checks to run once the named node is typed (repeated uses); an error fails the node. */
  checks?: Map<string, (() => GraphError | undefined)[]>,
): void {
  for (const n of nodes) {
    const named = n.inputs.filter((r): r is string => typeof r === 'string').map(ref);
    if (named.some((i) => failed.has(i) || !graph.has(i))) {
      failed.add(n.name);
      continue;
    }
    const attrs = Array.isArray(n.attrs.shape) ? { ...n.attrs, shape: symDims(n.attrs.shape as DeclDim[]) } : n.attrs;
    if (named.length === 0 && n.inputs.length > 0 && foldLiterals(graph, n, attrs)) continue;
    // A literal takes the dtype of the tensors it meets (a float one first), as PyTorch's Python
    // scalars do: 0.999 next to an f64 value stays 0.999, not its f32 rounding.
    const types = named.map((i) => graph.node(i).type.dtype);
    const dt = types.find((d) => d !== 'i32') ?? types[0] ?? graph.float;
    let k = 0;
    const inputs = n.inputs.map((r) => (typeof r === 'number' ? graph.constant(r, dt) : named[k++]!));
    try {
      graph.add({ name: n.name, op: n.op, inputs, attrs, loc: n.loc });
      for (const check of checks?.get(n.name) ?? []) {
        const e = check();
        if (e) {
          errors.push(e);
          failed.add(n.name);
        }
      }
    } catch (e) {
      if (!(e instanceof Error) || !('kind' in e)) throw e;
      errors.push(labelHint(graph, e as GraphError, inputs));
      failed.add(n.name);
    }
  }
}

/** Ops that only move a value's elements: a label reshaped is still the label. */
const reshaping = new Set(['reshape', 'transpose', 'broadcast_to', 'stop_gradient']);

/**
 * An i32 dtype error (class indices of gather, one_hot) whose operand is a float input of the
 * graph, perhaps reshaped (inside a loss graph): the same error, with a hint at the input's
 * declaration, which is where the fix goes (`dtype: i32`), not the library file it was raised in.
 */
function labelHint(graph: IRGraph<Dim>, e: GraphError, inputs: string[]): GraphError {
  if (e.kind !== 'DTypeError' || !/\b(must be|takes) i32\b/.test(e.message) || e.hint) return e;
  for (const i of inputs) {
    let n = graph.node(i);
    while (reshaping.has(n.op) && n.inputs.length > 0) n = graph.node(n.inputs[0]!);
    if (n.op !== 'input' || n.type.dtype === 'i32' || !n.loc) continue;
    const at = `${n.loc.file}:${n.loc.line}:${n.loc.col}`;
    return new DTypeError(
      e.message,
      e.loc,
      e.nodeName,
      `input "${n.name}" (${at}) holds class labels: add dtype: i32 to its declaration`,
    );
  }
  return e;
}

/**
 * A node of literals only (hyperparameter arithmetic such as 1 - beta2) is evaluated once, in
 * double precision as PyTorch evaluates it in Python, and becomes a constant of the graph's
 * float dtype (rounded once), or of the dtype a `cast` names. False: not foldable here.
 */
function foldLiterals(graph: IRGraph<Dim>, n: OpNodeDecl, attrs: Record<string, unknown>): boolean {
  const def = getOp(n.op);
  if (!def || def.arity === 0) return false;
  const inTypes: TensorType[] = n.inputs.map(() => ({ shape: [], dtype: 'f64' }));
  let out: SymType;
  try {
    out = def.infer(inTypes, attrs, { float: graph.float });
  } catch {
    return false; // the regular path reports the error with its position
  }
  if (out.shape.length !== 0 || out.dtype === 'i32') return false;
  const result = new Float64Array(1);
  def.cpu({
    inputs: n.inputs.map((v) => Float64Array.of(v as number)),
    output: result,
    inTypes,
    outType: { shape: [], dtype: 'f64' },
    attrs,
  })();
  const dtype = n.op === 'cast' ? out.dtype : graph.float;
  graph.add({ name: n.name, op: 'const', inputs: [], attrs: { value: result[0]!, shape: [], dtype }, loc: n.loc });
  return true;
}

/** The data error for a value that should have a given shape. */
export function shapeMismatch(
  what: string,
  got: number[],
  want: number[],
  loc: GraphError['loc'],
  node?: string,
): GraphError {
  return new DataError(`${what} has shape [${got.join(', ')}], expected [${want.join(', ')}]`, loc, node);
}
