// The optimizer section: the optimizer graph expanded once per trainable parameter, with its
// per-parameter options and, under a schedule, the schedule graph computing its `lr`; and the
// nodes that clip all gradients by their global norm (torch.nn.utils.clip_grad_norm_).

import { NameError, SubgraphError, type SourceLoc } from '../errors.js';
import type { Loaded, OptimizerDoc } from '../load/doc.js';
import { globMatch } from './glob.js';
import { suggest } from '../load/hint.js';
import type { OpNodeDecl, ParamDecl, ParamUpdate, Ref } from '../load/model.js';
import type { Path } from '../load/source.js';
import type { Ctx, Expansion, Use } from './context.js';
import { expand } from './expand.js';
import { topoOrder } from './order.js';
import { loadSchedule, scheduleNodes } from './schedule.js';

interface Override {
  values: Record<string, number>;
  at: Map<string, SourceLoc>;
}

/** Each trainable parameter's update (and the clipping nodes all of them read). */
export function optimizer(
  ctx: Ctx,
  top: Loaded,
  ex: Expansion,
  hasLoss: boolean,
): { updates: ParamUpdate[]; gradNodes: OpNodeDecl[] } {
  const { file, doc } = top;
  const path = file.path;
  const o = doc.optimizer!;
  const L = (p: Path, key = false) => file.loc(p, key);
  const updates: ParamUpdate[] = [];
  const gradNodes: OpNodeDecl[] = [];
  if (!hasLoss)
    ctx.errors.push(
      new SubgraphError(
        'an optimizer needs a loss to minimise',
        L(['optimizer'], true),
        undefined,
        'add a `loss:` section',
      ),
    );
  const optPath = ctx.io.resolve(path, o.graph);
  const opt = ctx.files.load(optPath, undefined, L(['optimizer', 'graph']));
  if (opt) checkOptimizerContract(ctx, opt, L(['optimizer', 'graph']));

  const overrides = paramOverrides(ctx, o, ex, L);
  const sched = loadSchedule(ctx, o, path, L);
  if (!opt || ctx.errors.length) return { updates, gradNodes };
  const trainable = ex.params.filter((q) => q.trainable);

  const gradOf = clipGradients(o, trainable, L, gradNodes);

  for (const p of trainable) {
    const over = overrides.get(p.name);
    const withValues = { ...(o.with ?? {}), ...(over?.values ?? {}) };
    const withLoc = (n: string) => over?.at.get(n) ?? L(['optimizer', 'with', n], true);
    const prefix = `optimizer/${p.name}/`;
    const before: OpNodeDecl[] = [];
    const attrRefs = new Map<string, Ref>();
    const baseLr = withValues.lr ?? opt.doc.attrs?.lr?.default;
    if (sched && baseLr !== undefined) {
      const sn = scheduleNodes(ctx, sched, path, prefix, baseLr, withLoc('lr'), L);
      before.push(...sn.nodes);
      if (sn.lr !== undefined) attrRefs.set('lr', sn.lr);
    }
    const use: Use = {
      prefix,
      bindings: new Map<string, Ref>([
        ['param', p.name],
        ['grad', gradOf.get(p.name)!],
      ]),
      bindingLoc: () => L(['optimizer', 'graph']),
      with: withValues,
      withLoc,
      loc: L(['optimizer', 'graph']),
      via: [L(['optimizer', 'graph'])],
      paramShape: p.shape,
      attrRefs,
    };
    const oe = expand(ctx, opt, use, [path, optPath]);
    const newParam = oe.outputs.get('param');
    if (newParam === undefined) continue;
    const newState = new Map<string, Ref>();
    for (const s of Object.keys(opt.doc.state ?? {})) {
      const r = oe.outputs.get(s);
      if (r !== undefined) newState.set(use.prefix + s, r);
    }
    updates.push({
      param: p.name,
      gradRef: `grad/${p.name}`,
      nodes: topoOrder(ctx, [...before, ...oe.nodes]),
      state: oe.state,
      newParam,
      newState,
    });
  }
  return { updates, gradNodes };
}

function checkOptimizerContract(ctx: Ctx, opt: Loaded, loc: SourceLoc): void {
  const ins = Object.keys(opt.doc.inputs ?? {});
  const outs = opt.doc.outputs ?? [];
  const outNames = Array.isArray(outs) ? outs : Object.keys(outs);
  for (const need of ['param', 'grad']) {
    if (!ins.includes(need))
      ctx.errors.push(
        new SubgraphError(
          `optimizer graph ${opt.file.path} has no input "${need}"`,
          loc,
          undefined,
          'an optimizer graph takes inputs `param` and `grad` and outputs `param`',
        ),
      );
  }
  if (!outNames.includes('param'))
    ctx.errors.push(
      new SubgraphError(
        `optimizer graph ${opt.file.path} has no output "param"`,
        loc,
        undefined,
        'an optimizer graph outputs the new value as `param`',
      ),
    );
}

/** Per-parameter options (`optimizer.params`): name pattern -> `with` overrides; later patterns win. */
function paramOverrides(
  ctx: Ctx,
  o: OptimizerDoc,
  ex: Expansion,
  L: (p: Path, key?: boolean) => SourceLoc,
): Map<string, Override> {
  const overrides = new Map<string, Override>();
  for (const [pattern, opts] of Object.entries(o.params ?? {})) {
    const hits = ex.params.filter((p) => globMatch(pattern, p.name));
    if (!hits.length) {
      ctx.errors.push(
        new NameError(
          `no parameter matches "${pattern}"`,
          L(['optimizer', 'params', pattern], true),
          undefined,
          suggest(
            pattern,
            ex.params.map((p) => p.name),
            'parameters',
          ),
        ),
      );
    }
    for (const p of hits) {
      const cur = overrides.get(p.name) ?? {
        values: Object.create(null) as Record<string, number>,
        at: new Map<string, SourceLoc>(),
      };
      for (const [k, v] of Object.entries(opts)) {
        if (k === 'trainable') {
          if (v === false) p.trainable = false;
          continue;
        }
        cur.values[k] = v as number;
        cur.at.set(k, L(['optimizer', 'params', pattern, k], true));
      }
      overrides.set(p.name, cur);
    }
  }

  return overrides;
}

/**
 * Clipping by global norm: total = ||(||g_1||, ..., ||g_n||)||, every g scaled by
 * min(max_norm / (total + 1e-6), 1). Adds the nodes to `gradNodes`; returns each parameter's
 * gradient reference (the placeholder itself without clipping).
 */
function clipGradients(
  o: OptimizerDoc,
  trainable: ParamDecl[],
  L: (p: Path, key?: boolean) => SourceLoc,
  gradNodes: OpNodeDecl[],
): Map<string, Ref> {
  const gradOf = new Map<string, Ref>(trainable.map((p) => [p.name, `grad/${p.name}`]));
  if (o.clip_grad_norm !== undefined && trainable.length) {
    const at = L(['optimizer', 'clip_grad_norm']);
    const node = (name: string, op: string, inputs: Ref[]): string => {
      gradNodes.push({ name: `clip/${name}`, op, inputs, attrs: {}, loc: at });
      return `clip/${name}`;
    };
    const norms = trainable.map((p) =>
      node(`${p.name}/norm`, 'sqrt', [
        node(`${p.name}/sumsq`, 'sum', [node(`${p.name}/sq`, 'square', [`grad/${p.name}`])]),
      ]),
    );
    let total: Ref = node('norm0/sq', 'square', [norms[0]!]);
    norms.slice(1).forEach((n, i) => {
      total = node(`norms/add${i + 1}`, 'add', [total, node(`norm${i + 1}/sq`, 'square', [n])]);
    });
    total = node('total_norm', 'sqrt', [total]);
    // 1e-6 keeps the division finite for all-zero gradients (PyTorch's constant).
    const coef = node('coef', 'div', [o.clip_grad_norm, node('total_norm_eps', 'add', [total, 1e-6])]);
    const clamped = node('coef_clamped', 'minimum', [coef, 1]);
    for (const p of trainable) gradOf.set(p.name, node(`${p.name}/grad`, 'mul', [`grad/${p.name}`, clamped]));
  }

  return gradOf;
}
