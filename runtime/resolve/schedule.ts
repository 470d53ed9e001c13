// A learning-rate schedule (`optimizer.schedule`): a graph taking `t` (epochs or steps done)
// and the base rate as attribute `lr`, and outputting the rate; expanded once per parameter,
// its output replaces the optimizer's `lr` attribute.

import { SubgraphError, type SourceLoc } from '../errors.js';
import type { Loaded, OptimizerDoc } from '../load/doc.js';
import type { OpNodeDecl, Ref } from '../load/model.js';
import type { Path } from '../load/source.js';
import type { Ctx, Use } from './context.js';
import { expand } from './expand.js';

export interface Schedule {
  graph: Loaded;
  path: string;
  spec: NonNullable<OptimizerDoc['schedule']>;
}

/** Load the schedule graph and check its contract; null without one (or after errors). */
export function loadSchedule(
  ctx: Ctx,
  o: OptimizerDoc,
  from: string,
  L: (p: Path, key?: boolean) => SourceLoc,
): Schedule | null {
  if (!o.schedule) return null;
  const path = ctx.io.resolve(from, o.schedule.graph);
  const at = L(['optimizer', 'schedule', 'graph']);
  const graph = ctx.files.load(path, undefined, at);
  if (!graph) return null;
  const outs = graph.doc.outputs ?? [];
  const hint =
    'a schedule graph takes input `t` (epochs or steps done) and attribute `lr` (the base rate), and outputs `lr`';
  if (!('t' in (graph.doc.inputs ?? {})))
    ctx.errors.push(new SubgraphError(`schedule graph ${path} has no input "t"`, at, undefined, hint));
  if (!('lr' in (graph.doc.attrs ?? {})))
    ctx.errors.push(new SubgraphError(`schedule graph ${path} has no attribute "lr"`, at, undefined, hint));
  if (!(Array.isArray(outs) ? outs : Object.keys(outs)).includes('lr'))
    ctx.errors.push(new SubgraphError(`schedule graph ${path} has no output "lr"`, at, undefined, hint));
  return { graph, path, spec: o.schedule };
}

/**
 * The schedule expanded for one parameter (names under `prefix`): its nodes, which run before
 * the optimizer's, and the reference to the scheduled rate (undefined after errors).
 */
export function scheduleNodes(
  ctx: Ctx,
  s: Schedule,
  top: string,
  prefix: string,
  baseLr: number,
  lrLoc: SourceLoc,
  L: (p: Path, key?: boolean) => SourceLoc,
): { nodes: OpNodeDecl[]; lr: Ref | undefined } {
  const nodes: OpNodeDecl[] = [];
  let t: Ref;
  if ((s.spec.every ?? 'epoch') === 'step') {
    // t counts the steps done before this one; __step is 1-based.
    ctx.runtime.add('step');
    t = `${prefix}schedule_t`;
    nodes.push({ name: t, op: 'sub', inputs: ['__step', 1], attrs: {}, loc: L(['optimizer', 'schedule', 'every']) });
  } else {
    ctx.runtime.add('epoch');
    t = '__epoch';
  }
  const at = L(['optimizer', 'schedule', 'graph']);
  const use: Use = {
    prefix: `${prefix}schedule/`,
    bindings: new Map<string, Ref>([['t', t]]),
    bindingLoc: () => at,
    with: { ...(s.spec.with ?? {}), lr: baseLr },
    withLoc: (n) => (n === 'lr' ? lrLoc : L(['optimizer', 'schedule', 'with', n], true)),
    loc: at,
    via: [at],
  };
  const se = expand(ctx, s.graph, use, [top, s.path]);
  nodes.push(...se.nodes);
  return { nodes, lr: se.outputs.get('lr') };
}
