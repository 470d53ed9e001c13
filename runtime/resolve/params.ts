// A graph's parameters and (optimizer graphs only) state: global names, concrete shapes, and
// what their initial values are (a constant, explicit values, a file to read later, or a
// seeded distribution). Nothing is read here: a file initialiser keeps its resolved path.

import { AttrError, DataError, NameError, SubgraphError } from '../errors.js';
import type { FanSpec, ParamDoc, RandomInitSpec } from '../load/doc.js';
import { suggest } from '../load/hint.js';
import type { Init } from '../load/model.js';
import { flatten } from '../load/values.js';
import { randomInit } from './init.js';
import type { Scope } from './scope.js';

/** Declare `params:` in the scope and add the well-formed ones to the expansion. */
export function addParams(s: Scope): void {
  const { L, prefix, g } = s;
  for (const [name, spec] of Object.entries(g.doc.params ?? {})) {
    const loc = L(['params', name], true);
    const gname = prefix + name;
    // Declared even when its shape or values are wrong, so its uses do not add "unknown name"
    // errors; a parameter whose name is taken is not added at all (one error, no IR clash).
    const declared = s.declare(name, { kind: 'param', ref: gname }, loc);
    const shape = spec.shape.map((d, i) => s.dimOf(d, L(['params', name, 'shape', i]), false));
    if (shape.some((d) => d === undefined)) continue;
    const concrete = shape as number[];
    const init = initOf(s, name, gname, spec.init, concrete);
    if (init && declared)
      s.ex.params.push({ name: gname, shape: concrete, init, trainable: spec.trainable ?? true, loc });
  }
}

/** What a parameter's `init:` stands for, or undefined after an error (recorded). */
function initOf(s: Scope, name: string, gname: string, init: ParamDoc['init'], shape: number[]): Init | undefined {
  const { ctx, L } = s;
  if (typeof init === 'number' || init.constant !== undefined)
    return { kind: 'constant', value: typeof init === 'number' ? init : init.constant! };
  if (init.file !== undefined) {
    // Read when the parameter is initialised (runtime/data/init-file.ts), through this IO.
    const path = ctx.io.resolve(s.g.file.path, init.file);
    return { kind: 'file', path, loc: L(['params', name, 'init', 'file']), io: ctx.io, tensor: name };
  }
  if (init.values === undefined) {
    const spec = fansOf(s, name, init);
    if (!spec) return undefined;
    const r = randomInit(spec, shape);
    if (typeof r !== 'string') return r;
    // Named as a parameter (not a node): the error is about its declaration.
    const hint =
      shape.length < 2 && /^fans/.test(r)
        ? "PyTorch computes fans only for tensors of 2 or more axes: give them (a bias takes its layer's fan_in, nn.Linear's in_features: {kaiming_uniform: {fan_in: 4}})"
        : undefined;
    ctx.errors.push(
      new AttrError(`initialiser of parameter "${gname}": ${r}`, L(['params', name, 'init']), undefined, hint),
    );
    return undefined;
  }
  const f = flatten(init.values);
  const at = L(['params', name, 'init', 'values']);
  if (typeof f === 'string') ctx.errors.push(new DataError(`initial values of "${name}": ${f}`, at, gname));
  else if (f.shape.join(',') !== shape.join(','))
    ctx.errors.push(
      new DataError(
        `initial values of "${name}" have shape [${f.shape.join(', ')}], the parameter has [${shape.join(', ')}]`,
        at,
        gname,
      ),
    );
  else return { kind: 'values', values: f.values };
  return undefined;
}

/**
 * The random initialiser with fans that name attributes (`fan_in: in`, a layer's width) bound to
 * their values; undefined after an error (recorded).
 */
function fansOf(s: Scope, name: string, init: RandomInitSpec): RandomInitSpec | undefined {
  let ok = true;
  const out: Record<string, unknown> = { ...init };
  for (const [kind, spec] of Object.entries(init)) {
    if (!spec || typeof spec !== 'object') continue;
    const bound: Record<string, unknown> = { ...spec };
    for (const f of ['fan_in', 'fan_out'] as const) {
      const v = (spec as FanSpec)[f];
      if (typeof v !== 'string') continue;
      const n = s.env.get(v);
      if (n === undefined) {
        ok = false;
        s.ctx.errors.push(
          new NameError(
            `${f} "${v}" of parameter "${s.prefix + name}" is not an attribute`,
            s.L(['params', name, 'init', kind, f]),
            undefined,
            suggest(v, s.env.keys(), 'attributes'),
          ),
        );
      } else if (!(n > 0)) {
        ok = false;
        s.ctx.errors.push(
          new AttrError(
            `${f} "${v}" of parameter "${s.prefix + name}" is ${n}; a fan must be > 0`,
            s.L(['params', name, 'init', kind, f]),
          ),
        );
      } else bound[f] = n;
    }
    out[kind] = bound;
  }
  return ok ? (out as RandomInitSpec) : undefined;
}

/**
 * Declare `state:`. In an optimizer graph: per-parameter variables, shaped like the parameter
 * by default, whose next values are the graph's outputs of the same names. In a model graph (or
 * a layer, per use): a `shape` and an `update` naming the node whose value a training step
 * writes into the state (resolved by resolveStateUpdates once the nodes are declared).
 */
export function addState(s: Scope): void {
  const { ctx, L, prefix, use, env } = s;
  const optimizer = use?.paramShape !== undefined;
  for (const [name, spec] of Object.entries(s.g.doc.state ?? {})) {
    const loc = L(['state', name], true);
    const gname = prefix + name;
    // Declared even when it is wrong, so its uses add no "unknown name" errors.
    const declared = s.declare(name, { kind: 'state', ref: gname }, loc);
    let ok = declared;
    if (optimizer && spec.update !== undefined) {
      ctx.errors.push(
        new SubgraphError(
          `state "${name}" of an optimizer graph takes its next value from the output named "${name}", not from update:`,
          L(['state', name, 'update']),
          gname,
          `remove update: and add ${name}: <node> under outputs:`,
        ),
      );
      ok = false;
    }
    if (!optimizer && spec.update === undefined) {
      ctx.errors.push(
        new SubgraphError(
          `state "${name}" has no update: nothing gives its next value`,
          loc,
          gname,
          'add update: <node> (the node whose value becomes the state after each training step), or make it a parameter with trainable: false',
        ),
      );
      ok = false;
    }
    if (!optimizer && spec.shape === undefined) {
      ctx.errors.push(
        new SubgraphError(`state "${name}" has no shape`, loc, gname, 'add shape: [...] (numbers or attributes)'),
      );
      ok = false;
    }
    const shape = spec.shape
      ? (spec.shape.map((d, i) => s.dimOf(d, L(['state', name, 'shape', i]), false)) as number[])
      : (use?.paramShape ?? []);
    if (shape.some((d) => d === undefined)) continue;
    let init = 0;
    if (typeof spec.init === 'string') {
      const v = env.get(spec.init);
      if (v === undefined) {
        ctx.errors.push(
          new NameError(
            `initial value "${spec.init}" of state "${name}" is not an attribute`,
            L(['state', name, 'init']),
            undefined,
            suggest(spec.init, env.keys(), 'attributes'),
          ),
        );
        continue;
      }
      init = v;
    } else if (spec.init !== undefined) init = spec.init;
    if (ok) s.ex.state.push({ name: gname, shape, init, loc });
  }
}

/** A model graph's state: each `update:` resolved in the scope (after its nodes are declared). */
export function resolveStateUpdates(s: Scope): void {
  if (s.use?.paramShape !== undefined) return;
  const own = new Set(Object.keys(s.g.doc.state ?? {}).map((n) => s.prefix + n));
  for (const st of s.ex.state) {
    if (!own.has(st.name) || st.update !== undefined) continue;
    const local = st.name.slice(s.prefix.length);
    const at = s.L(['state', local, 'update']);
    const r = s.resolve(s.g.doc.state![local]!.update!, at, st.name);
    if (r === undefined) continue;
    st.update = r;
    st.updateLoc = at;
  }
}
