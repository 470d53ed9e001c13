import { appendFileSync } from 'node:fs';
// Node order: a deterministic topological order of op nodes, ties broken by declaration
// order, and every cycle reported with the lines of its nodes. graphology-dag finds cycles
// and orders; graphology-components names the nodes of each cycle (its strongly connected
// components); graphology-traversal finds what a cycle holds up.

import Graph from 'graphology';
import { stronglyConnectedComponents } from 'graphology-components';
import { hasCycle, topologicalGenerations } from 'graphology-dag';
import { dfsFromNode } from 'graphology-traversal';
import { CycleError } from '../errors.js';
import type { OpNodeDecl } from '../load/model.js';
import type { Ctx } from './context.js';

/**
 * `nodes` in dependency order. Declaration order is kept wherever it already is one (the
 * usual case: nodes read earlier nodes, and inlined subgraphs come before their readers);
 * otherwise nodes go in graphology-dag's topological generations, each in declaration order.
 * Nodes on a cycle, and those that read them, are left out; each cycle is a CycleError.
 */
export function topoOrder(ctx: Ctx, nodes: OpNodeDecl[]): OpNodeDecl[] {
  const got = topoOrder2(ctx, nodes);
  const old = oldSort(nodes);
  const a = got.map((n) => n.name).join(' ');
  const b = old.map((n) => n.name).join(' ');
  const fwd = nodes.some((n, i) => n.inputs.some((x) => typeof x === 'string' && nodes.findIndex((m) => m.name === x) > i));
  if (a !== b || fwd) appendFileSync('/tmp/order-diff.log', `${a === b ? 'SAME' : 'DIFF'} ${nodes[0]?.loc.file}\n  new: ${a}\n  old: ${b}\n`);
  return got;
}
function oldSort(nodes: OpNodeDecl[]): OpNodeDecl[] {
    const g = new Graph.DirectedGraph();
    const index = new Map(nodes.map((n, i) => [n.name, i]));
    for (const n of nodes) g.addNode(n.name);
    for (const n of nodes) {
      for (const i of n.inputs)
        if (typeof i === 'string' && index.has(i) && !g.hasEdge(i, n.name)) g.addEdge(i, n.name);
    }
    const indeg = new Map(nodes.map((n) => [n.name, g.inDegree(n.name)]));
    const ready = nodes.filter((n) => indeg.get(n.name) === 0).map((n) => index.get(n.name)!);
    const out: OpNodeDecl[] = [];
    while (ready.length) {
      ready.sort((a, b) => a - b);
      const i = ready.shift()!;
      const n = nodes[i]!;
      out.push(n);
      for (const c of g.outNeighbors(n.name)) {
        const d = indeg.get(c)! - 1;
        indeg.set(c, d);
        if (d === 0) ready.push(index.get(c)!);
      }
    }
    return out;
}
function topoOrder2(ctx: Ctx, nodes: OpNodeDecl[]): OpNodeDecl[] {
  const g = new Graph.DirectedGraph();
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  for (const n of nodes) g.addNode(n.name);
  for (const n of nodes) {
    for (const i of n.inputs) if (typeof i === 'string' && index.has(i)) g.mergeEdge(i, n.name);
  }
  if (hasCycle(g)) {
    ctx.errors.push(...cycleErrors(g, nodes, index));
    dropCycles(g);
  }
  if (g.everyEdge((_e, _a, from, to) => index.get(from)! < index.get(to)!))
    return nodes.filter((n) => g.hasNode(n.name));
  const byIndex = (a: string, b: string) => index.get(a)! - index.get(b)!;
  return topologicalGenerations(g).flatMap((gen) => gen.sort(byIndex).map((name) => nodes[index.get(name)!]!));
}

/** One CycleError per cycle (strongly connected component, or a node reading itself). */
function cycleErrors(
  g: InstanceType<typeof Graph.DirectedGraph>,
  nodes: OpNodeDecl[],
  index: Map<string, number>,
): CycleError[] {
  const errors: CycleError[] = [];
  for (const comp of stronglyConnectedComponents(g)) {
    const selfLoop = comp.length === 1 && g.hasEdge(comp[0]!, comp[0]!);
    if (comp.length < 2 && !selfLoop) continue;
    const members = comp.map((c) => nodes[index.get(c)!]!).sort((a, b) => index.get(a.name)! - index.get(b.name)!);
    const list = members.map((m) => `"${m.name}" (line ${m.loc.line})`).join(' -> ');
    errors.push(
      new CycleError(
        `cycle through ${list}`,
        members[0]!.loc,
        members[0]!.name,
        'a node cannot depend on its own output; break the loop',
      ),
    );
  }
  return errors;
}

/** Remove the nodes on cycles and everything downstream of them: they have no order. */
function dropCycles(g: InstanceType<typeof Graph.DirectedGraph>): void {
  const stuck = new Set<string>();
  for (const comp of stronglyConnectedComponents(g)) {
    if (comp.length < 2 && !g.hasEdge(comp[0]!, comp[0]!)) continue;
    for (const start of comp) {
      if (stuck.has(start)) continue;
      dfsFromNode(g, start, (n) => {
        if (stuck.has(n)) return true;
        stuck.add(n);
        return false;
      });
    }
  }
  for (const n of stuck) g.dropNode(n);
}
