// Node order: a deterministic topological order of op nodes, ties broken by declaration order
// (Kahn's algorithm taking, among the nodes whose inputs are all placed, the first declared),
// and every cycle reported with the lines of its nodes. The graph is a graphology graph:
// graphology-dag detects cycles, graphology-components names the nodes of each one (strongly
// connected components), graphology-traversal finds what a cycle holds up.
//
// graphology-dag's topologicalSort is Kahn's algorithm with a first-in-first-out queue, which
// orders ready nodes by when they became ready, not by declaration: with `c <- b <- a` declared
// before `q`, it places q before c. The order is observable (plans, --explain, printed graphs;
// test/plan.test.ts pins it), so the tie-break is kept here, on the graphology graph's in-degrees.

import Graph from 'graphology';
import { stronglyConnectedComponents } from 'graphology-components';
import { hasCycle } from 'graphology-dag';
import { dfsFromNode } from 'graphology-traversal';
import { CycleError } from '../errors.js';
import type { OpNodeDecl } from '../load/model.js';
import type { Ctx } from './context.js';

type Directed = InstanceType<typeof Graph.DirectedGraph>;

/**
 * `nodes` in dependency order, ties in declaration order. Nodes on a cycle, and those that
 * read them, are left out; each cycle is a CycleError in `ctx.errors`.
 */
export function topoOrder(ctx: Ctx, nodes: OpNodeDecl[]): OpNodeDecl[] {
  const g: Directed = new Graph.DirectedGraph();
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  for (const n of nodes) g.addNode(n.name);
  for (const n of nodes) {
    for (const i of n.inputs) if (typeof i === 'string' && index.has(i)) g.mergeEdge(i, n.name);
  }
  if (hasCycle(g)) {
    ctx.errors.push(...cycleErrors(g, nodes, index));
    dropCycles(g);
  }
  const pending = nodes.filter((n) => g.hasNode(n.name));
  // The usual case: every node reads only nodes declared before it, so declaration order is
  // already the answer (Kahn's algorithm would take the nodes in exactly this order).
  if (g.everyEdge((_e, _a, from, to) => index.get(from)! < index.get(to)!)) return pending;
  const out: OpNodeDecl[] = [];
  while (pending.length) {
    // The first declared node with no input left unplaced; placing it drops it from the graph.
    const k = pending.findIndex((n) => g.inDegree(n.name) === 0);
    const [n] = pending.splice(k, 1);
    out.push(n!);
    g.dropNode(n!.name);
  }
  return out;
}

/** One CycleError per cycle (strongly connected component, or a node reading itself). */
function cycleErrors(g: Directed, nodes: OpNodeDecl[], index: Map<string, number>): CycleError[] {
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
function dropCycles(g: Directed): void {
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
