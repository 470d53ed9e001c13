// The resolve stage: a top-level graph file (loaded, parsed and schema-checked by runtime/load/)
// -> a Model. Scopes and names (scope.ts), subgraph inlining (expand.ts), parameters
// (params.ts), the optimizer and its schedule (optimizer.ts), training (training.ts) and node
// order with cycles (order.ts) each have their module; this one assembles the top level: the
// loss, outputs, predictions, feeds and gradients. It reads no data and builds no IR; every
// problem becomes a positioned GraphError, and all of them are collected.

import { NameError, type GraphError, type SourceLoc } from '../errors.js';
import type { GraphDoc } from '../load/doc.js';
import { GraphFiles } from '../load/files.js';
import type { LoaderIO } from '../load/io.js';
import type { Located, Model, Ref } from '../load/model.js';
import type { Setting } from '../load/settings.js';
import type { Path } from '../load/source.js';
import { outputEntries, type Ctx, type Expansion } from './context.js';
import { expandScope, node } from './expand.js';
import { optimizer } from './optimizer.js';
import { topoOrder } from './order.js';
import { training } from './training.js';

/** Resolves graph files read through `io`; errors accumulate in `errors`. */
export class Loader {
  readonly errors: GraphError[] = [];
  private readonly ctx: Ctx;

  constructor(io: LoaderIO) {
    this.ctx = { io, files: new GraphFiles(io, this.errors), errors: this.errors, seed: 0, runtime: new Set() };
  }

  /**
   * Load a top-level graph file (or text) into a Model; null when the file itself is unusable.
   * `settings` replace values the file writes (--set), checked as if written there.
   */
  loadModel(path: string, text?: string, settings?: readonly Setting[]): Model | null {
    return resolveModel(this.ctx, path, text, settings);
  }
}

/**
 * Load and resolve a top-level graph file (or `text` standing for it): the Model, or null when
 * the file itself is unusable, and every problem found (unsorted).
 * @example const { model, errors } = resolveGraph('graphs/xor.yaml', undefined, nodeIO());
 */
export function resolveGraph(
  path: string,
  text: string | undefined,
  io: LoaderIO,
): { model: Model | null; errors: GraphError[] } {
  const loader = new Loader(io);
  const model = loader.loadModel(path, text);
  return { model, errors: loader.errors };
}

function resolveModel(ctx: Ctx, path: string, text?: string, settings?: readonly Setting[]): Model | null {
  // The user named this file: what it references may lie in its folder tree (node-io.ts).
  ctx.io.allow?.(path);
  const top = ctx.files.load(path, text, undefined, settings);
  if (!top) return null;
  const { file, doc } = top;
  const L = (p: Path, key = false) => file.loc(p, key);
  ctx.seed = doc.seed ?? 0;
  ctx.repeats = [];
  const scope = expandScope(ctx, top, null, [path]);
  const ex = scope.ex;
  // The loss: one more node in the top-level scope, kept apart so predictions need no targets.
  let loss: Model['loss'];
  const lossName = doc.loss?.name ?? 'loss';
  if (doc.loss && doc.loss.graph === undefined && ex.names().includes(lossName)) {
    // The loss node lives in the graph's scope: its name must be free (else it shadows, or reads, itself).
    ctx.errors.push(
      new NameError(
        `duplicate name "${lossName}": the loss is a node named "${lossName}" too`,
        L(doc.loss.name ? ['loss', 'name'] : ['loss'], !doc.loss.name),
        lossName,
        'give the loss another name with `name:` under loss:',
      ),
    );
  } else if (doc.loss) {
    const before = ex.nodes.length;
    const ref = node(scope, doc.loss, ['loss'], lossName);
    const lossNodes = ex.nodes.splice(before);
    if (ref !== undefined) loss = { ref, nodes: lossNodes, loc: L(['loss']) };
  }
  // Outputs and `gradients.of` may name the loss: by its name (`loss`, or `name:` under loss:)
  // or by its result's global name (`loss/loss`, as `grad` and `trace` print it).
  const lossAlias = (target: string) =>
    loss && !ex.names().includes(target) && (target === lossName || target === loss.ref) ? loss.ref : undefined;
  const resolve = (target: string, loc: SourceLoc) => lossAlias(target) ?? ex.resolve(target, loc);
  const outputs: Model['outputs'] = [];
  for (const [name, target, p] of outputEntries(doc.outputs ?? [])) {
    const ref = resolve(target, L(p));
    if (ref !== undefined) outputs.push({ name, ref, loc: L(p) });
  }
  const { updates, gradNodes } = doc.optimizer
    ? optimizer(ctx, top, ex, loss !== undefined)
    : { updates: [], gradNodes: [] };
  const train = doc.training ? training(ctx, file, doc.training, ex) : undefined;
  const locate = (p: Path, v: unknown): Located<unknown> => ({ value: v, loc: L(p), itemLoc: (i) => L([...p, i]) });
  const predict = Object.entries(doc.predict ?? {}).map(([name, feed]) => ({
    name,
    feed: new Map(Object.entries(feed).map(([k, v]) => [k, locate(['predict', name, k], v)])),
    loc: L(['predict', name], true),
  }));
  const feed = doc.feed ? new Map(Object.entries(doc.feed).map(([k, v]) => [k, locate(['feed', k], v)])) : undefined;
  const gradients = doc.gradients ? gradientsOf(ctx, doc.gradients, ex, L, resolve) : undefined;
  const model: Model = {
    file: path,
    name: doc.name ?? path.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    io: ctx.io,
    inputs: ex.inputs,
    params: ex.params,
    nodes: topoOrder(ctx, ex.nodes),
    outputs,
    updates,
    predict,
  };
  if (loss) model.loss = { ...loss, nodes: topoOrder(ctx, loss.nodes) };
  if (ex.state.length) model.state = ex.state;
  if (gradNodes.length) model.gradNodes = gradNodes;
  if (ctx.runtime.size)
    model.runtime = [...ctx.runtime].map((kind) => ({
      name: `__${kind}`,
      shape: [],
      dtype: 'float',
      loc: L([]),
      provided: kind,
    }));
  if (doc.seed !== undefined) model.seed = doc.seed;
  if (train) model.training = train;
  if (feed) model.feed = feed;
  if (gradients) model.gradients = gradients;
  if (ctx.repeats.length) model.repeats = ctx.repeats;
  if (doc.device) model.device = { choice: doc.device, loc: file.loc(['device']) };
  return model;
}

/** `gradients:`: of a value with respect to inputs or parameters. */
function gradientsOf(
  ctx: Ctx,
  g: NonNullable<GraphDoc['gradients']>,
  ex: Expansion,
  L: (p: Path, key?: boolean) => SourceLoc,
  resolveOf: (target: string, loc: SourceLoc) => Ref | undefined,
): Model['gradients'] {
  const of = resolveOf(g.of, L(['gradients', 'of']));
  const wrt: NonNullable<Model['gradients']>['wrt'] = [];
  g.wrt.forEach((w, i) => {
    const loc = L(['gradients', 'wrt', i]);
    // A parameter a subgraph owns is named by its prefixed name (`ln1/weight`).
    const r = w.includes('/') && ex.params.some((x) => x.name === w) ? w : ex.resolve(w, loc);
    if (r === undefined) return;
    const isLeaf =
      typeof r === 'string' && (ex.inputs.some((x) => x.name === r) || ex.params.some((x) => x.name === r));
    if (!isLeaf) {
      ctx.errors.push(
        new NameError(`gradients are taken with respect to inputs or parameters; "${w}" is neither`, loc),
      );
      return;
    }
    wrt.push({ ref: r as string, name: w, loc });
  });
  return of !== undefined ? { of, ofName: g.of, wrt, loc: L(['gradients'], true) } : undefined;
}
