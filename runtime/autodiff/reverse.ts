// Reverse-mode differentiation as graph construction: for a scalar (or seeded) output and a
// set of leaves, add gradient nodes to the same IRGraph. Rules live with their ops; this
// builder alone sums gradients over fan-out and reduces broadcast gradients to the input's
// shape, so no rule can forget either. Only nodes on a path leaf -> output are differentiated.

import { DTypeError, GraphErrors } from '../errors.js';
import { getOp } from '../ops/registry.js';
import { reduceAxes } from '../ops/reduce.js';
import type { GradBuilder } from '../ops/op.js';
import type { IRGraph } from '../ir/graph.js';
import { isFloat, sameShape, shapeStr, type GradInfo } from '../ir/types.js';
import type { Dim } from '../ir/dim.js';

export interface ReverseResult {
  /** Leaf name -> name of the node holding d output / d leaf (null: no path to the output). */
  grads: Map<string, string | null>;
  /** Every node the reverse graph added, in order. */
  added: string[];
  /**
   * Forward value -> the node holding its complete gradient. One node can serve several values
   * (add passes dy through unchanged), which a node's single `grad.of` cannot say; `trace` needs all.
   */
  totals: Map<string, string>;
}

/**
 * Sampled ids used as numbers on the way to the output: `sample` depends on the leaves but has no
 * gradient, so d output / d logits through it would silently be zero. Ids used as indices
 * (gather, embedding, one_hot) are fine: no gradient flows to an index anyway. A cast of the ids
 * (or of anything computed from them) to a float is where they become numbers: that is refused.
 */
function refuseSampledNumbers(g: IRGraph<Dim>, output: string, desc: Set<string>): void {
  // What the output depends on through differentiable edges: stop_gradient's input is not.
  const through = new Set<string>();
  const stack = [output];
  while (stack.length) {
    const n = stack.pop()!;
    if (through.has(n)) continue;
    through.add(n);
    if (g.node(n).op !== 'stop_gradient') stack.push(...g.node(n).inputs);
  }
  const samples = [...through].filter((n) => g.node(n).op === 'sample' && desc.has(g.node(n).inputs[0]!));
  if (!samples.length) return;
  const fromSample = g.descendants(samples);
  for (const n of g.order) {
    const node = g.node(n);
    if (!through.has(n) || node.op !== 'cast' || !isFloat(node.type.dtype) || !fromSample.has(node.inputs[0]!))
      continue;
    const s = samples.find((x) => g.descendants([x]).has(n))!;
    throw new GraphErrors([
      new DTypeError(
        `node "${n}" turns ids sampled by "${s}" into numbers on the way to the differentiated value, but sampling has no gradient`,
        node.loc,
        n,
        'use sampled ids as indices (gather, embedding), or pass the cast through stop_gradient if they are meant as constants (a reward)',
      ),
    ]);
  }
}

/** Internal invariant broken by a gradient rule (a bug in graph-run, not in the user's graph). */
export class GradientRuleError extends Error {}

/**
 * Add the reverse graph of `output` with respect to `leaves`.
 * The seed is ones shaped like the output (d output / d output).
 */
export function buildReverse(g: IRGraph<Dim>, output: string, leaves: string[], prefix = 'grad/'): ReverseResult {
  const added: string[] = [];
  const onPath = new Set<string>();
  const desc = g.descendants(leaves);
  for (const n of g.ancestors([output])) if (desc.has(n) && isFloat(g.node(n).type.dtype)) onPath.add(n);
  refuseSampledNumbers(g, output, desc);

  let counter = 0;
  let current: GradInfo = { of: output };
  const builder: GradBuilder = {
    op(op, inputs, attrs) {
      const names = inputs.map((i) => (typeof i === 'string' ? i : g.constant(i)));
      const name = `${prefix}${current.from ?? current.of}/${op}${counter++}`;
      g.add({ name, op, inputs: names, attrs: attrs ?? {}, grad: { ...current, rule: current.rule ?? op } });
      added.push(name);
      return name;
    },
    type: (name) => g.node(name).type,
  };

  const contributions = new Map<string, string[]>();
  const push = (v: string, d: string) => {
    const list = contributions.get(v);
    if (list) list.push(d);
    else contributions.set(v, [d]);
  };
  const outType = g.node(output).type;
  current = { of: output, rule: 'seed' };
  // The seed gets a node of its own: a shared literal 1 may also be a forward value, and
  // marking it as d output / d output would mislabel that forward node.
  let seed = `${prefix}${output}/seed`;
  for (let i = 1; g.has(seed); i++) seed = `${prefix}${output}/seed${i}`;
  g.add({
    name: seed,
    op: 'const',
    inputs: [],
    attrs: { value: 1, shape: [...outType.shape], dtype: outType.dtype },
    grad: { of: output, rule: 'seed' },
  });
  added.push(seed);
  push(output, seed);

  const total = new Map<string, string>();
  const totalOf = (v: string): string | undefined => {
    if (total.has(v)) return total.get(v);
    const list = contributions.get(v);
    if (!list?.length) return undefined;
    current = { of: v, rule: 'sum over uses' };
    let acc = list[0]!;
    for (let i = 1; i < list.length; i++) acc = builder.op('add', [acc, list[i]!]);
    total.set(v, acc);
    const node = g.node(acc);
    node.grad = { ...(node.grad ?? { of: v }), of: v, total: true };
    return acc;
  };

  const order = g.order.filter((n) => onPath.has(n));
  for (let k = order.length - 1; k >= 0; k--) {
    const name = order[k]!;
    const node = g.node(name);
    const def = getOp(node.op)!;
    const dy = totalOf(name);
    if (dy === undefined || node.inputs.length === 0 || def.grad === 'none') continue;
    const needs = node.inputs.map((i) => onPath.has(i));
    if (!needs.some(Boolean)) continue;
    current = { of: name, from: name, rule: node.op };
    const gs = def.grad(builder, node, dy, needs);
    node.inputs.forEach((input, i) => {
      const d = gs[i];
      if (!needs[i] || d === null || d === undefined) return;
      current = { of: input, from: name, rule: `${node.op} (unbroadcast)` };
      push(input, unbroadcast(g, builder, d, g.node(input).type.shape));
    });
  }

  const grads = new Map<string, string | null>();
  for (const leaf of leaves) {
    const d = onPath.has(leaf) ? (totalOf(leaf) ?? null) : null;
    if (d !== null) {
      const want = g.node(leaf).type.shape,
        got = g.node(d).type.shape;
      if (!sameShape(want, got)) {
        throw new GradientRuleError(
          `gradient of "${leaf}" has shape ${shapeStr(got)}, expected ${shapeStr(want)} (rule of op ${g.node(d).grad?.rule})`,
        );
      }
    }
    grads.set(leaf, d);
  }
  return { grads, added, totals: total };
}

/**
 * Sum a gradient over the axes its input was broadcast along, then give it the input's shape.
 * With `batch` symbolic, an input of size 1 met by `batch` is summed over that axis at every
 * batch size (at batch 1 a sum of one element: the same value).
 */
function unbroadcast(g: IRGraph<Dim>, b: GradBuilder, d: string, shape: Dim[]): string {
  const got = g.node(d).type.shape;
  if (sameShape(got, shape)) return d;
  const lead = got.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < got.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && got[i] !== 1)) axes.push(i);
  }
  let r = d;
  if (axes.length) r = b.op('sum', [r], { axis: reduceAxes(got.length, axes) });
  if (!sameShape(g.node(r).type.shape, shape)) r = b.op('reshape', [r], { shape: [...shape] });
  return r;
}
