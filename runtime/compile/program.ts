// The compile stage: one Program per (model, float dtype). It builds the graphs a model runs
// (forward, training step, evaluation, gradient request) and reads its training data, each
// lazily and at most once, and keeps them: what `validate` checked is what the session runs.
// Graphs are typed once with `batch` symbolic (ir/dim.ts); what a plan reads is the graph
// bound to its batch size, a cheap pass over the nodes kept per batch size.

import { buildReverse } from '../autodiff/reverse.js';
import { DataError, GraphErrors, ShapeError, type GraphError } from '../errors.js';
import { buildGraph, type Built } from '../ir/build.js';
import type { Dim } from '../ir/dim.js';
import { shapeStr, type FloatDType } from '../ir/types.js';
import type { Model } from '../load/model.js';
import { countBuild } from '../stats.js';
import { feedValues, rowCount, trainingSets, type Column } from '../data/index.js';
import { checkLabels } from '../train/labels.js';
import { addUpdates } from '../train/updates.js';

/** The graphs a `Program` builds: forward pass, training step, evaluation, `gradients:` request. */
export type GraphKind = 'forward' | 'train' | 'eval' | 'gradient';

/** The training-step graph for one batch size, as built (also what `graph-run grad` prints). */
export interface TrainGraph {
  built: Built;
  loss: string;
  grads: Map<string, string | null>;
  /** Forward value -> the reverse-graph node holding d loss / d value (see ReverseResult.totals). */
  totals: Map<string, string>;
  writebacks: { from: string; to: string }[];
}

/** Forward + loss for evaluation: the loss node and each metric's pred and target nodes (training.metrics). */
export interface EvalGraph {
  built: Built;
  loss: string;
  metrics: { pred?: string; target?: string }[];
}

/** The forward graph: each declared output and its node. */
export interface ForwardGraph {
  built: Built;
  outputs: { name: string; node: string }[];
}

/** The graph of `gradients:` (d of / d wrt at the feed), its result nodes and the feed's values. */
export interface GradientGraph {
  built: Built;
  grads: Map<string, string | null>;
  batch: number;
  values: Map<string, number[]>;
}

/** Training and validation columns with the rows each holds. */
export interface DataSets {
  train: Map<string, Column> | null;
  val: Map<string, Column> | null;
  rows: number;
  valRows: number;
}

/** The training step as compiled (`batch` symbolic): forward + loss, reverse graph, updates. */
interface SymTrain {
  loss: string;
  grads: Map<string, string | null>;
  totals: Map<string, string>;
  writebacks: { from: string; to: string }[];
  /** Node count before the updates (the reverse graph's end). */
  reverseEnd: number;
  errors: GraphError[];
}

/** A training graph in the making: typed forward + loss first, reverse and updates when asked. */
interface TrainEntry {
  built: Built<Dim>;
  /** Nodes of the forward + loss part (the reverse graph's and the updates' follow). */
  typedEnd: number;
  done?: SymTrain;
}

function fail(errors: GraphError[]): never {
  throw new GraphErrors(errors);
}

const programs = new WeakMap<Model, Map<FloatDType, Program>>();

/**
 * A model compiled for one float dtype: its forward, training-step, evaluation and gradient
 * graphs, each typed once with `batch` symbolic and bound per batch size (`session.program`).
 */
export class Program {
  private sets?: { sets: DataSets; errors: GraphError[] };
  private trainEntry?: TrainEntry;
  private evalGraph?: Omit<EvalGraph, 'built'> & { built: Built<Dim> };
  private fwd?: { built: Built<Dim>; outputs: { name: string; node: string }[] };
  private grad?: GradientGraph;
  private fwdInputs?: Set<string>;
  /** Graphs bound to a batch size (what plans read), by kind, batch and node count. */
  private readonly bound = new Map<string, Built>();

  private constructor(
    readonly model: Model,
    readonly float: FloatDType,
  ) {}

  /** The model's program for a float dtype: compiled once, shared by validation and sessions. */
  static of(model: Model, float: FloatDType = 'f32'): Program {
    let byFloat = programs.get(model);
    if (!byFloat) {
      byFloat = new Map();
      programs.set(model, byFloat);
    }
    let p = byFloat.get(float);
    if (!p) {
      p = new Program(model, float);
      byFloat.set(float, p);
    }
    return p;
  }

  /** The training step's batch size (the size the training graph is checked at). */
  get batchSize(): number {
    return this.model.training?.batchSize ?? 1;
  }

  /** Training and validation data, read once; `errors` receives the data's errors (each call). */
  data(errors?: GraphError[]): DataSets {
    if (!this.sets) {
      countBuild('data');
      const errs: GraphError[] = [];
      const s = trainingSets(this.model, errs, this.float);
      // Labels against the class counts of the one_hot / gather they reach (when the graph types).
      if (this.model.loss && (s.train || s.val)) {
        const built = this.typed(this.batchSize);
        if (!built.errors.length) {
          checkLabels(built.graph, s.train, 'training data', errs);
          checkLabels(built.graph, s.val, 'validation data', errs);
        }
      }
      this.sets = { sets: { ...s, rows: rowCount(s.train), valRows: rowCount(s.val) }, errors: errs };
    }
    if (errors) errors.push(...this.sets.errors);
    else if (this.sets.errors.length) fail(this.sets.errors);
    return this.sets.sets;
  }

  private build(kind: GraphKind, loss: boolean): Built<Dim> {
    countBuild(`graph ${kind}`);
    return buildGraph(this.model, { float: this.float, loss });
  }

  /**
   * `built` (its first `n` nodes) with `batch` bound: built once per kind, batch and prefix. A
   * cheap pass over the nodes' types and shape attributes; no rule runs again.
   */
  private bind(kind: string, built: Built<Dim>, batch: number, n = built.graph.order.length): Built {
    const key = `${kind} ${batch} ${n}`;
    let b = this.bound.get(key);
    if (!b) {
      const graph = built.graph.bind(batch, n);
      // A literal reference becomes a constant of this graph (the compiled graph's is not in it).
      b = { graph, errors: built.errors, ref: (r) => (typeof r === 'number' ? graph.constant(r) : built.ref(r)) };
      this.bound.set(key, b);
    }
    return b;
  }

  /** The training graph's typed forward + loss part, `batch` symbolic, errors unthrown (for checks). */
  symbolicTyped(): Built<Dim> {
    if (!this.trainEntry) {
      const built = this.build('train', true);
      this.trainEntry = { built, typedEnd: built.graph.order.length };
    }
    return this.trainEntry.built;
  }

  /** The training graph's typed forward + loss part at `batch`, errors unthrown (for checks). */
  typed(batch: number): Built {
    const built = this.symbolicTyped();
    return this.bind('typed', built, batch, this.trainEntry!.typedEnd);
  }

  /** The loss node of a graph built with the loss; fails without a loss or with a non-scalar one. */
  lossName(built: Built<Dim>): string {
    const m = this.model;
    if (!m.loss)
      fail([
        new DataError(
          'this graph declares no loss',
          { file: m.file, line: 1, col: 1 },
          undefined,
          'add a `loss:` section to train',
        ),
      ]);
    const name = built.ref(m.loss.ref);
    const err = lossShapeError(m, built);
    if (err) fail([err]);
    return name;
  }

  /**
   * The training step, compiled once with `batch` symbolic: forward + loss + reverse graph +
   * optimizer updates. Optimizer errors go to `errors` when given (checks), else they throw.
   */
  symbolicTrain(errors?: GraphError[]): SymTrain & { built: Built<Dim> } {
    const built = this.symbolicTyped();
    if (built.errors.length) fail(built.errors);
    const e = this.trainEntry!;
    if (!e.done) {
      const loss = this.lossName(built);
      const trainable = this.model.params.filter((p) => p.trainable).map((p) => p.name);
      countBuild('reverse train');
      const { grads, totals } = buildReverse(built.graph, loss, trainable);
      const reverseEnd = built.graph.order.length;
      const errs: GraphError[] = [];
      const writebacks = addUpdates(built, this.model, grads, this.float, errs);
      e.done = { loss, grads, totals, writebacks, reverseEnd, errors: errs };
    }
    if (errors) errors.push(...e.done.errors);
    else if (e.done.errors.length) fail(e.done.errors);
    return { ...e.done, built };
  }

  /** The training step at `batch` (the compiled step, bound). */
  train(batch: number, errors?: GraphError[]): TrainGraph {
    const t = this.symbolicTrain(errors);
    const built = this.bind('train', t.built, batch);
    return { built, loss: t.loss, grads: t.grads, totals: t.totals, writebacks: t.writebacks };
  }

  /**
   * The training step without the optimizer (forward + loss + reverse) at `batch`: the training
   * graph's nodes before the updates, so tools see d loss / d params alone.
   */
  reverse(batch: number): TrainGraph {
    const t = this.symbolicTrain();
    const built = this.bind('reverse', t.built, batch, t.reverseEnd);
    return { built, loss: t.loss, grads: t.grads, totals: t.totals, writebacks: [] };
  }

  /** The reverse graph (forward + loss + reverse, no optimizer), `batch` symbolic. */
  symbolicReverse(): { built: Built<Dim>; loss: string; grads: Map<string, string | null> } {
    const t = this.symbolicTrain();
    return { built: { ...t.built, graph: t.built.graph.prefix(t.reverseEnd) }, loss: t.loss, grads: t.grads };
  }

  /** The typed forward + loss graph, `batch` symbolic (errors unthrown). */
  symbolicLossGraph(): Built<Dim> {
    const built = this.symbolicTyped();
    return { ...built, graph: built.graph.prefix(this.trainEntry!.typedEnd) };
  }

  /** The typed forward + loss graph at `batch` (errors unthrown): the training graph's first part. */
  lossGraph(batch: number): Built {
    return this.typed(batch);
  }

  /** Forward + loss at `batch` for evaluation (no reverse graph), with the metrics' nodes. */
  eval(batch: number): EvalGraph {
    if (!this.evalGraph) {
      const built = this.build('eval', true);
      if (built.errors.length) fail(built.errors);
      const loss = this.lossName(built);
      const node = (r: string | number | undefined) => (r === undefined ? undefined : built.ref(r));
      const metrics = (this.model.training?.metrics ?? []).map((m) => ({ pred: node(m.pred), target: node(m.target) }));
      this.evalGraph = { built, loss, metrics };
    }
    const e = this.evalGraph;
    return { ...e, built: this.bind('eval', e.built, batch) };
  }

  /** The forward graph (the loss only where an output names it), `batch` symbolic, errors unthrown (checks, pictures, export). */
  symbolicForward(): Built<Dim> {
    if (!this.fwd) {
      const built = this.build('forward', outputsReadLoss(this.model));
      this.fwd = { built, outputs: this.model.outputs.map((o) => ({ name: o.name, node: built.ref(o.ref) })) };
    }
    return this.fwd.built;
  }

  /** The forward graph (the loss only where an output names it) at `batch`, errors unthrown (for checks). */
  typedForward(batch: number): Built {
    return this.bind('forward', this.symbolicForward(), batch);
  }

  /** The forward graph (the loss only where an output names it) at `batch`. */
  forward(batch: number): ForwardGraph {
    const built = this.symbolicForward();
    if (built.errors.length) fail(built.errors);
    return { built: this.bind('forward', built, batch), outputs: this.fwd!.outputs };
  }

  /** The graph of `gradients:` (d of / d wrt at the feed), and its result nodes. */
  gradient(): GradientGraph {
    if (!this.grad) {
      const m = this.model;
      const req = m.gradients!;
      const errors: GraphError[] = [];
      if (!m.feed) fail([new DataError('gradients need input values: add a `feed:` section', req.loc)]);
      const f = feedValues(m, m.feed, errors, 'feed', undefined, req.loc);
      if (!f) fail(errors);
      const built = this.build('gradient', true);
      if (built.errors.length) fail(built.errors);
      const of = built.ref(req.of);
      countBuild('reverse gradient');
      const { grads } = buildReverse(
        built.graph,
        of,
        req.wrt.map((w) => w.ref),
      );
      // The feed fixes the batch: the graph is bound once, at its size.
      this.grad = { built: this.bind('gradient', built, f.batch), grads, batch: f.batch, values: f.values };
    }
    return this.grad;
  }

  /** Inputs the forward graph's outputs read (predictions need no loss targets), from the declarations. */
  forwardInputs(): Set<string> {
    if (!this.fwdInputs) this.fwdInputs = forwardInputs(this.model);
    return this.fwdInputs;
  }
}

/** The error for a loss that is not a scalar, if it is one. */
export function lossShapeError(m: Model, built: Built<Dim>): GraphError | null {
  if (!m.loss) return null;
  const name = built.ref(m.loss.ref);
  if (!built.graph.has(name)) return null;
  const t = built.graph.node(name).type;
  if (t.shape.length === 0) return null;
  return new ShapeError(
    `the loss must be a scalar, but has shape ${shapeStr(t.shape)}`,
    m.loss.loc,
    name,
    'reduce it, e.g. with op mean',
  );
}

/** Whether a declared output is the loss or one of its nodes: the forward graph then includes the loss. */
export function outputsReadLoss(model: Model): boolean {
  const names = new Set(model.loss?.nodes.map((n) => n.name));
  return model.outputs.some((o) => typeof o.ref === 'string' && names.has(o.ref));
}

/** Inputs the declared outputs depend on, walking the resolved node declarations (no IR built). */
export function forwardInputs(model: Model): Set<string> {
  const nodes = outputsReadLoss(model) ? [...model.nodes, ...model.loss!.nodes] : model.nodes;
  const producers = new Map(nodes.map((n) => [n.name, n]));
  const inputs = new Set(model.inputs.map((i) => i.name));
  const out = new Set<string>();
  const seen = new Set<string>();
  const stack = model.outputs.map((o) => o.ref).filter((r): r is string => typeof r === 'string');
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (inputs.has(n)) out.add(n);
    for (const r of producers.get(n)?.inputs ?? []) if (typeof r === 'string') stack.push(r);
  }
  return out;
}
