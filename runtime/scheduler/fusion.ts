// Elementwise fusion, as a pure pass over the IR: which chains (trees) of elementwise nodes
// can run as one loop, so their intermediate values never reach memory. It only groups; each
// executor generates the code for a group (CPU: one JavaScript loop, executors/cpu/fused.ts;
// WebGPU: one WGSL shader from the same rows' `wgsl` expressions). Groups are keyed by their
// structure, so executors can cache generated code by its source text.
//
// A node joins its consumer's group when it is elementwise, has that one consumer (possibly
// read several times, as in mul(x, x)), is not a value that must stay readable (an output, a
// write-back source), and has the group's full shape and dtype: a smaller intermediate that
// is broadcast would be recomputed for every element. Inputs from outside a group may
// broadcast (a bias row, a scalar).

import type { IRGraph } from '../ir/graph.js';
import { type GemmEpilogueGroup, isElementwise, type FusedGroup } from '../ir/fusion.js';
import { sameShape, sizeOf, type IRNode } from '../ir/types.js';

// The group and executor types and `isElementwise` live with the IR, so executors need not import
// the scheduler; re-exported here for the planner's users.
export { isElementwise, type FusedGroup, type FusingExecutor, type GemmEpilogueGroup } from '../ir/fusion.js';

/**
 * matmul → add(bias row) → relu? chains whose matmul and add are read by nothing else (and are
 * not kept): they run as one gemm whose epilogue adds the bias and applies the ReLU to each tile
 * while it is in cache. In a training step the relu's input is also read by its gradient, so
 * there only matmul + add join; a forward-only plan gets the whole chain. `can` is the
 * executor's check of the matmul (dtype, size).
 */
export function gemmEpilogues(
  g: IRGraph,
  order: readonly string[],
  keep: ReadonlySet<string>,
  can: (mm: IRNode) => boolean,
): GemmEpilogueGroup[] {
  const consumers = new Map<string, string[]>();
  for (const n of order)
    for (const i of new Set(g.node(n).inputs)) {
      const s = consumers.get(i);
      if (s) s.push(n);
      else consumers.set(i, [n]);
    }
  const only = (name: string): IRNode | undefined => {
    const cs = consumers.get(name);
    return cs?.length === 1 && !keep.has(name) ? g.node(cs[0]!) : undefined;
  };
  const groups: GemmEpilogueGroup[] = [];
  for (const name of order) {
    const mm = g.node(name);
    if (mm.op !== 'matmul' || mm.type.dtype !== 'f32' || mm.type.shape.length < 2) continue;
    const add = only(name);
    if (add?.op !== 'add' || add.inputs.length !== 2 || !sameShape(add.type.shape, mm.type.shape)) continue;
    if (add.type.dtype !== 'f32') continue;
    const bias = add.inputs[0] === name ? add.inputs[1]! : add.inputs[0]!;
    if (bias === name) continue;
    // A bias row: n values, one per column, broadcast over every row (and batch).
    const bt = g.node(bias).type;
    const n = mm.type.shape.at(-1)!;
    if (bt.dtype !== 'f32' || bt.shape.at(-1) !== n || sizeOf(bt.shape) !== n || bt.shape.length > 2) continue;
    if (!can(mm)) continue;
    const relu = only(add.name);
    const rest = relu && relu.op === 'relu' && sameShape(relu.type.shape, add.type.shape) ? [add, relu] : [add];
    groups.push({ matmul: mm, bias, rest, output: rest.at(-1)!.name });
  }
  return groups;
}

export interface FusionOptions {
  /** Values that must stay in memory (outputs, write-back sources, bound buffers). */
  keep: ReadonlySet<string>;
  /** Whether the executor can generate code for this node inside a group (default: every elementwise op on floats). */
  fusible?: (node: IRNode) => boolean;
  /**
   * Most nodes in one group (default 48): a longer chain is cut into several groups. Generated
   * functions past a few hundred statements are left unoptimised by V8 and run far slower.
   */
  maxNodes?: number;
}

/**
 * Groups of two or more nodes of `order` (a topological order of the nodes a plan runs) that
 * can run as one elementwise loop. Nodes in no group run on their own.
 */
export function fuseElementwise(g: IRGraph, order: readonly string[], opts: FusionOptions): FusedGroup[] {
  const fusible = opts.fusible ?? isElementwise;
  const maxNodes = opts.maxNodes ?? 48;
  const inPlan = new Set(order);
  // Distinct consumers within the plan.
  const consumers = new Map<string, Set<string>>();
  for (const n of order) {
    for (const i of g.node(n).inputs) {
      let s = consumers.get(i);
      if (!s) consumers.set(i, (s = new Set()));
      s.add(n);
    }
  }
  const groupOf = new Map<string, string>(); // member -> group output
  const members = new Map<string, string[]>(); // group output -> members (reverse topological)
  for (let k = order.length - 1; k >= 0; k--) {
    const name = order[k]!;
    const node = g.node(name);
    if (!fusible(node) || !inPlan.has(name)) continue;
    const cs = consumers.get(name);
    let joined = false;
    if (cs && cs.size === 1 && !opts.keep.has(name)) {
      const c = [...cs][0]!;
      const root = groupOf.get(c);
      if (root !== undefined && members.get(root)!.length < maxNodes) {
        const rt = g.node(root).type;
        if (rt.dtype === node.type.dtype && sameShape(rt.shape, node.type.shape)) {
          groupOf.set(name, root);
          members.get(root)!.push(name);
          joined = true;
        }
      }
    }
    if (!joined) {
      groupOf.set(name, name);
      members.set(name, [name]);
    }
  }
  const groups: FusedGroup[] = [];
  for (const [root, list] of members) {
    if (list.length < 2) continue;
    const set = new Set(list);
    const nodes = order.filter((n) => set.has(n)).map((n) => g.node(n));
    const inputs: string[] = [];
    for (const n of nodes) for (const i of n.inputs) if (!set.has(i) && !inputs.includes(i)) inputs.push(i);
    groups.push({ output: root, nodes, inputs });
  }
  // In plan order of their outputs.
  const pos = new Map(order.map((n, i) => [n, i]));
  return groups.sort((a, b) => pos.get(a.output)! - pos.get(b.output)!);
}
