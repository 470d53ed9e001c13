// One op application of a graph's `nodes` (or the top level's `loss`): the op looked up, its
// inputs resolved in the scope, its attributes checked, and shapes in attributes bound to the
// graph's attributes. Dropout gets the runtime's step counter and the graph's seed here.

import { NameError } from '../errors.js';
import type { NodeDoc } from '../load/doc.js';
import { suggest } from '../load/hint.js';
import type { Dim, Ref } from '../load/model.js';
import type { Path } from '../load/source.js';
import { getOp, graphOpNames, userOpNames } from '../ops/registry.js';
import { checkOpAttrs } from './op-attrs.js';
import type { Scope } from './scope.js';

/** Add the op node `n` (at `path`, named `name` in its file); returns its global name. */
export function opNode(s: Scope, n: NodeDoc, path: Path, name: string): Ref | undefined {
  const { ctx, L } = s;
  const loc = L(path);
  const gname = s.prefix + name;
  const def = getOp(n.op!);
  // Internal ops (the reverse graph's helpers) load, so a printed reverse graph runs; hints offer user ops only.
  const known = def !== undefined && graphOpNames.indexOf(n.op as never) >= 0;
  if (!known)
    ctx.errors.push(
      new NameError(`unknown op "${n.op}"`, L([...path, 'op']), gname, suggest(n.op!, userOpNames, 'ops')),
    );
  // The inputs are resolved even after an unknown op, so their mistakes are reported too.
  const raw = Array.isArray(n.inputs) ? (n.inputs as Ref[]) : [];
  const inputs: Ref[] = [];
  let ok = known;
  raw.forEach((r, i) => {
    const v = s.resolve(r, L([...path, 'inputs', i]), gname);
    if (v === undefined) ok = false;
    else inputs.push(v);
  });
  if (!def || !known) return undefined;
  const attrs = { ...(n.attrs ?? {}) };
  const attrErrors = checkOpAttrs(def, attrs, path, L, gname);
  if (attrErrors) {
    ctx.errors.push(...attrErrors);
    ok = false;
  }
  // Shapes in attributes may name this graph's attributes (e.g. a layer's width); `batch` stays symbolic.
  if (Array.isArray(attrs.shape)) {
    attrs.shape = (attrs.shape as Dim[]).map((d, i) => {
      if (typeof d !== 'string' || d === 'batch') return d;
      const at = L([...path, 'attrs', 'shape', i]);
      const v = s.resolve(d, at);
      if (typeof v === 'number') return v;
      if (v !== undefined)
        ctx.errors.push(
          new NameError(
            `"${d}" is not a dimension`,
            at,
            gname,
            'a dimension is a number, `batch`, -1, or an attribute of this graph',
          ),
        );
      ok = false;
      return d;
    });
  }
  if (!ok) return undefined;
  if (def.name === 'dropout' && inputs.length === 1) {
    // Dropout reads the runtime's step counter (0 outside training steps: the identity) and
    // draws its mask from a stream named after the node under the graph's seed.
    inputs.push('__step');
    ctx.runtime.add('step');
    attrs.seed ??= ctx.seed;
    attrs.stream ??= gname;
  }
  if (def.name === 'is_training' && inputs.length === 0) {
    // The training mode is read from the runtime's step counter (0 outside training steps).
    inputs.push('__step');
    ctx.runtime.add('step');
  }
  // Sampling draws from a stream named after the node under the graph's seed, as dropout.
  if (def.name === 'sample') {
    attrs.seed ??= ctx.seed;
    attrs.stream ??= gname;
  }
  s.ex.nodes.push({ name: gname, op: def.name, inputs, attrs, loc, ...(n.device ? { device: n.device } : {}) });
  return gname;
}
