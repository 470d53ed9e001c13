// The compile stage: one Program per (model, float dtype). It builds the graphs a model runs
// (forward, training step, evaluation, gradient request) and reads its training data, each
// lazily and at most once, and keeps them: what `validate` checked is what the session runs.
// Graphs are typed with the batch bound, so each is kept per batch size.

import { buildReverse } from '../autodiff/reverse.js';
import { DataError, GraphErrors, ShapeError, type GraphError } from '../errors.js';
import { buildGraph, type Built } from '../ir/build.js';
import { IRGraph } from '../ir/graph.js';
import type { FloatDType } from '../ir/types.js';
import type { Model } from '../load/model.js';
import { countBuild } from '../stats.js';
import { feedValues, rowCount, trainingSets, type Column } from '../data/index.js';
import { addUpdates } from '../train/updates.js';

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

/** Forward + loss for whole-data evaluation: the loss node and, with `training.accuracy`, the prediction. */
export interface EvalGraph {
  built: Built;
  loss: string;
  pred?: string;
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

/** A training graph in the making: typed forward + loss first, reverse and updates when asked. */
interface TrainEntry {
  built: Built;
  /** Nodes of the forward + loss part (the reverse graph's and the updates' follow). */
  typedEnd: number;
  /** Reverse graph and updates, once added; `reverseEnd` is the node count before the updates. */
  done?: TrainGraph & { reverseEnd: number; errors: GraphError[] };
}

function fail(errors: GraphError[]): never {
  throw new GraphErrors(errors);
}

const programs = new WeakMap<Model, Map<FloatDType, Program>>();

export class Program {
  private sets?: { sets: DataSets; errors: GraphError[] };
  private readonly trains = new Map<number, TrainEntry>();
  private readonly evals = new Map<number, EvalGraph>();
  private readonly forwards = new Map<number, ForwardGraph>();
  private grad?: GradientGraph;
  private fwdInputs?: Set<string>;

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
      const s = trainingSets(this.model, errs);
      this.sets = { sets: { ...s, rows: rowCount(s.train), valRows: rowCount(s.val) }, errors: errs };
    }
    if (errors) errors.push(...this.sets.errors);
    else if (this.sets.errors.length) fail(this.sets.errors);
    return this.sets.sets;
  }

  private build(kind: GraphKind, batch: number, loss: boolean): Built {
    countBuild(`graph ${kind} batch ${batch}`);
    return buildGraph(this.model, { float: this.float, batch, loss });
  }

  /** The training graph's typed forward + loss part at `batch`, errors unthrown (for checks). */
  typed(batch: number): Built {
    let e = this.trains.get(batch);
    if (!e) {
      const built = this.build('train', batch, true);
      e = { built, typedEnd: built.graph.order.length };
      this.trains.set(batch, e);
    }
    return e.built;
  }

  /** The loss node of a graph built with the loss; fails without a loss or with a non-scalar one. */
  lossName(built: Built): string {
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
   * The training step at `batch`: forward + loss + reverse graph + optimizer updates. Optimizer
   * errors go to `errors` when given (checks), else they throw.
   */
  train(batch: number, errors?: GraphError[]): TrainGraph {
    const built = this.typed(batch);
    if (built.errors.length) fail(built.errors);
    const e = this.trains.get(batch)!;
    if (!e.done) {
      const loss = this.lossName(built);
      const trainable = this.model.params.filter((p) => p.trainable).map((p) => p.name);
      countBuild(`reverse batch ${batch}`);
      const { grads, totals } = buildReverse(built.graph, loss, trainable);
      const reverseEnd = built.graph.order.length;
      const errs: GraphError[] = [];
      const writebacks = addUpdates(built, this.model, grads, this.float, batch, errs);
      e.done = { built, loss, grads, totals, writebacks, reverseEnd, errors: errs };
    }
    if (errors) errors.push(...e.done.errors);
    else if (e.done.errors.length) fail(e.done.errors);
    return e.done;
  }

  /**
   * The training step without the optimizer (forward + loss + reverse): a copy of the training
   * graph's nodes before the updates, so tools see d loss / d params alone.
   */
  reverse(batch: number): TrainGraph {
    const t = this.train(batch);
    const e = this.trains.get(batch)!.done!;
    const built = prefix(t.built, e.reverseEnd);
    return { built, loss: t.loss, grads: t.grads, totals: t.totals, writebacks: [] };
  }

  /**
   * The typed forward + loss graph at `batch` (errors unthrown): the training graph's first part,
   * a copy of its first nodes once the reverse graph has been added to it.
   */
  lossGraph(batch: number): Built {
    const built = this.typed(batch);
    const e = this.trains.get(batch)!;
    return e.done ? prefix(built, e.typedEnd) : built;
  }

  /** Forward + loss at `batch` for evaluation (no reverse graph). */
  eval(batch: number): EvalGraph {
    let r = this.evals.get(batch);
    if (!r) {
      const built = this.build('eval', batch, true);
      if (built.errors.length) fail(built.errors);
      const loss = this.lossName(built);
      const acc = this.model.training?.accuracy;
      r = { built, loss, ...(acc ? { pred: built.ref(acc.pred) } : {}) };
      this.evals.set(batch, r);
    }
    return r;
  }

  /** The forward graph (no loss) at `batch`, errors unthrown (for checks). */
  typedForward(batch: number): Built {
    let r = this.forwards.get(batch);
    if (!r) {
      const built = this.build('forward', batch, false);
      r = { built, outputs: this.model.outputs.map((o) => ({ name: o.name, node: built.ref(o.ref) })) };
      this.forwards.set(batch, r);
    }
    return r.built;
  }

  /** The forward graph (no loss) at `batch`. */
  forward(batch: number): ForwardGraph {
    const built = this.typedForward(batch);
    if (built.errors.length) fail(built.errors);
    return this.forwards.get(batch)!;
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
      const built = this.build('gradient', f.batch, true);
      if (built.errors.length) fail(built.errors);
      const of = built.ref(req.of);
      countBuild(`reverse batch ${f.batch}`);
      const { grads } = buildReverse(
        built.graph,
        of,
        req.wrt.map((w) => w.ref),
      );
      this.grad = { built, grads, batch: f.batch, values: f.values };
    }
    return this.grad;
  }

  /** Inputs the forward graph's outputs read (predictions need no loss targets), from the declarations. */
  forwardInputs(): Set<string> {
    if (!this.fwdInputs) this.fwdInputs = forwardInputs(this.model);
    return this.fwdInputs;
  }
}

/** A graph of `built`'s first `n` nodes (a topological prefix), sharing their IR nodes: no rebuild. */
function prefix(built: Built, n: number): Built {
  const g = built.graph;
  if (n === g.order.length) return built;
  const view = new IRGraph(g.float);
  for (const name of g.order.slice(0, n)) {
    const node = g.node(name);
    view.graph.addNode(name, node);
    for (const i of node.inputs) view.graph.addEdge(i, name);
    view.order.push(name);
  }
  return { graph: view, errors: built.errors, ref: built.ref };
}

/** The error for a loss that is not a scalar, if it is one. */
export function lossShapeError(m: Model, built: Built): GraphError | null {
  if (!m.loss) return null;
  const name = built.ref(m.loss.ref);
  if (!built.graph.has(name)) return null;
  const t = built.graph.node(name).type;
  if (t.shape.length === 0) return null;
  return new ShapeError(
    `the loss must be a scalar, but has shape [${t.shape.join(', ')}]`,
    m.loss.loc,
    name,
    'reduce it, e.g. with op mean',
  );
}

/** Inputs the declared outputs depend on, walking the resolved node declarations (no IR built). */
export function forwardInputs(model: Model): Set<string> {
  const producers = new Map(model.nodes.map((n) => [n.name, n]));
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
