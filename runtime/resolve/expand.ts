// Subgraph inlining: one graph document expanded in a scope. `use` is null for the top level
// (inputs are declared) and describes the binding otherwise; the contents of a used file get
// the use's name and "/" as prefix. `stack` holds the files being expanded, so a file that
// uses itself is reported instead of recursing.

import { AttrError, NameError, SubgraphError } from '../errors.js';
import type { Loaded, NodeDoc } from '../load/doc.js';
import { suggest } from '../load/hint.js';
import type { Dim, Ref } from '../load/model.js';
import type { Path } from '../load/source.js';
import { bindAttrs } from './attrs.js';
import { locator, outputEntries, type Ctx, type Expansion, type Use } from './context.js';
import { opNode } from './node.js';
import { addParams, addState, resolveStateUpdates } from './params.js';
import { repeatUse } from './repeat.js';
import { Scope } from './scope.js';
import { inputVocab } from './vocab.js';

/** Expand `g` and return its scope (`scope.ex` is the expansion). */
export function expandScope(ctx: Ctx, g: Loaded, use: Use | null, stack: string[]): Scope {
  const { doc } = g;
  const ex: Expansion = {
    nodes: [],
    params: [],
    state: [],
    inputs: [],
    outputs: new Map(),
    resolve: () => undefined,
    names: () => [],
  };
  const via = use ? [use.loc, ...use.via.slice(1)] : [];
  const env = bindAttrs(ctx, g, use, locator(g.file, via));
  const nodes = doc.nodes ?? [];
  const s: Scope = new Scope(ctx, g, use, stack, ex, env, (i) => useNode(s, nodes[i]!, ['nodes', i]));
  const { L } = s;

  // The scope: every name this file declares, once. Attributes bound to a computed value (a
  // scheduled lr) name that value.
  for (const name of Object.keys(doc.attrs ?? {})) {
    if (!env.has(name)) continue;
    const r = use?.attrRefs?.get(name);
    s.declare(
      name,
      r !== undefined ? { kind: 'input', ref: r } : { kind: 'attr', value: env.get(name)! },
      L(['attrs', name], true),
    );
  }
  addInputs(s);
  addParams(s);
  addState(s);
  // A node whose name is taken is reported once and then left out: expanding it too would
  // put two nodes of one name into the IR (graphology refuses that with a bare exception).
  const duplicates = new Set<number>();
  nodes.forEach((n, i) => {
    if (!n.name) return;
    const e =
      n.graph !== undefined ? { kind: 'use' as const, index: i } : { kind: 'node' as const, ref: s.prefix + n.name };
    if (!s.declare(n.name, e, L(['nodes', i, 'name']))) duplicates.add(i);
  });
  ex.resolve = s.resolve;
  ex.names = () => [...s.entries.keys()];

  nodes.forEach((n, i) => {
    if (duplicates.has(i)) return;
    if (n.graph !== undefined) {
      if (n.name) s.resolve(n.name, L(['nodes', i])); // expands it (once)
    } else opNode(s, n, ['nodes', i], n.name ?? `node${i}`);
  });
  resolveStateUpdates(s);

  if (use) {
    for (const [name, target, p] of outputEntries(doc.outputs ?? [])) {
      const r = s.resolve(target, L(p));
      if (r !== undefined) ex.outputs.set(name, r);
    }
  }
  return s;
}

/** Expand `g` (see expandScope). */
export function expand(ctx: Ctx, g: Loaded, use: Use | null, stack: string[]): Expansion {
  return expandScope(ctx, g, use, stack).ex;
}

/** Inputs: declared with shapes at the top level, bound to the using graph's values in a subgraph. */
function addInputs(s: Scope): void {
  const { ctx, use, L, g } = s;
  const { file, doc } = g;
  for (const [name, spec] of Object.entries(doc.inputs ?? {})) {
    const loc = L(['inputs', name], true);
    if (use) {
      const b = use.bindings.get(name);
      if (b === undefined) {
        ctx.errors.push(
          new SubgraphError(
            `input "${name}" of ${file.path} is not bound`,
            use.loc,
            undefined,
            `add ${name}: <a name in the using graph> under inputs:`,
          ),
        );
        continue;
      }
      s.declare(name, { kind: 'input', ref: b }, loc);
    } else {
      const shape = (spec.shape ?? []).map((d, i) => s.dimOf(d, L(['inputs', name, 'shape', i]), true));
      if (shape.some((d) => d === undefined)) continue;
      const vocab = inputVocab(ctx, spec, L, name);
      s.ex.inputs.push({ name, shape: shape as Dim[], dtype: spec.dtype ?? 'float', loc, ...(vocab ? { vocab } : {}) });
      s.declare(name, { kind: 'input', ref: name }, loc);
    }
  }
  if (!use) return;
  for (const name of use.bindings.keys()) {
    if (!(name in (doc.inputs ?? {})))
      ctx.errors.push(
        new NameError(
          `${file.path} has no input "${name}"`,
          use.bindingLoc(name),
          undefined,
          suggest(name, Object.keys(doc.inputs ?? {}), 'inputs'),
        ),
      );
  }
}

/**
 * One node of a scope (the top level's `loss` included): a subgraph use or an op application.
 * Returns the reference to its (single) result.
 */
export function node(s: Scope, n: NodeDoc, path: Path, name: string): Ref | undefined {
  if (n.graph === undefined) return opNode(s, n, path, name);
  const outs = useNode(s, n, path, name);
  if (outs.size === 1) return [...outs.values()][0];
  if (outs.size > 1)
    s.ctx.errors.push(new NameError(`the subgraph has ${outs.size} outputs; a loss needs exactly one`, s.L(path)));
  return undefined;
}

/** Expand a subgraph use into the scope's expansion; returns its outputs (name -> reference). */
function useNode(s: Scope, n: NodeDoc, path: Path, name = n.name ?? 'loss'): Map<string, Ref> {
  const { ctx, L, prefix, g } = s;
  const loc = L([...path, 'graph']);
  const target = ctx.io.resolve(g.file.path, n.graph!);
  if (s.stack.includes(target)) {
    ctx.errors.push(
      new SubgraphError(
        `${target} uses itself (${[...s.stack, target].join(' -> ')})`,
        loc,
        prefix + name,
        'a graph cannot include itself, directly or through other graphs',
      ),
    );
    return new Map();
  }
  const sub = ctx.files.load(target, undefined, loc);
  if (!sub) return new Map();
  const bindings = new Map<string, Ref>();
  const rawIn = (n.inputs && typeof n.inputs === 'object' && !Array.isArray(n.inputs) ? n.inputs : {}) as Record<
    string,
    Ref
  >;
  for (const [k, v] of Object.entries(rawIn)) {
    const r = s.resolve(v, L([...path, 'inputs', k]), prefix + name);
    if (r !== undefined) bindings.set(k, r);
  }
  if (Object.keys(rawIn).length > bindings.size) return new Map();
  // A `with:` value may name an attribute of this graph (a layer passing its width on).
  const withValues: Record<string, number> = {};
  for (const [k, v] of Object.entries(n.with ?? {})) {
    if (typeof v === 'number') withValues[k] = v;
    else if (s.env.has(v)) withValues[k] = s.env.get(v)!;
    else
      ctx.errors.push(
        new AttrError(
          `with: "${v}" is not an attribute of this graph`,
          L([...path, 'with', k]),
          prefix + name,
          "a with: value is a number or the name of one of this graph's attrs",
        ),
      );
  }
  const use = (usePrefix: string, bound: Map<string, Ref>): Use => ({
    prefix: usePrefix,
    bindings: bound,
    bindingLoc: (b) => L([...path, 'inputs', b], true),
    with: withValues,
    withLoc: (w) => L([...path, 'with', w], true),
    loc: L(path),
    via: [L(path), ...s.via],
  });
  const once = (u: Use): Map<string, Ref> => {
    const sx = expand(ctx, sub, u, [...s.stack, target]);
    s.ex.nodes.push(...sx.nodes);
    s.ex.params.push(...sx.params);
    // A layer's state belongs to the use, as its parameters do (`bn1/running_mean`).
    s.ex.state.push(...sx.state);
    return sx.outputs;
  };
  return repeatUse(s, n, path, name, sub, bindings, use, once);
}
