// The IR graph: a graphology multigraph (mul(x, x) has two edges) whose node attributes are
// IRNodes. Nodes are added in dependency order and typed as they are added, so insertion
// order is a deterministic topological order and no later stage re-derives shapes.

import Graph from 'graphology';
import { dfsFromNode } from 'graphology-traversal';
import { ArityError, fromRule, NameError, type SourceLoc } from '../errors.js';
import { getOp, opArity } from '../ops/registry.js';
import { bindAttrs, bindShape, type Dim } from './dim.js';
import type { DType, FloatDType, GradInfo, IRNode, TensorType } from './types.js';

type MultiDirected<D extends Dim> = InstanceType<typeof Graph.MultiDirectedGraph<IRNode<D>>>;

export interface NodeInit {
  name: string;
  op: string;
  inputs: string[];
  attrs?: Record<string, unknown>;
  loc?: SourceLoc;
  grad?: GradInfo;
}

/**
 * D = Dim: a compiled graph, typed once with `batch` symbolic; D = number (the default): a
 * graph bound to one batch size (`bind`), what plans and kernels read.
 */
export class IRGraph<D extends Dim = number> {
  readonly graph: MultiDirected<D> = new Graph.MultiDirectedGraph<IRNode<D>>();
  /** Node names in insertion order: a topological order. */
  readonly order: string[] = [];
  constructor(readonly float: FloatDType) {}

  has(name: string): boolean {
    return this.graph.hasNode(name);
  }

  node(name: string): IRNode<D> {
    return this.graph.getNodeAttributes(name);
  }

  nodes(): IRNode<D>[] {
    return this.order.map((n) => this.node(n));
  }

  /** Distinct consumers of a value, in insertion order. */
  consumers(name: string): string[] {
    return [...new Set(this.graph.outNeighbors(name))];
  }

  /** Add a node: checks the op, its arity and its inputs, infers its type. Throws GraphError. */
  add(init: NodeInit): IRNode<D> {
    const def = getOp(init.op);
    if (!def) throw new NameError(`unknown op "${init.op}"`, init.loc, init.name);
    if (this.graph.hasNode(init.name)) throw new NameError(`duplicate name "${init.name}"`, init.loc, init.name);
    const [lo, hi] = opArity(def);
    if (init.inputs.length < lo || init.inputs.length > hi) {
      const want = lo === hi ? `${lo}` : `${lo} to ${hi}`;
      throw new ArityError(
        `${init.op} takes ${want} input${hi === 1 ? '' : 's'}, got ${init.inputs.length}`,
        init.loc,
        init.name,
      );
    }
    for (const i of init.inputs)
      if (!this.graph.hasNode(i)) throw new NameError(`unknown input "${i}"`, init.loc, init.name);
    const attrs = init.attrs ?? {};
    // The rule's dims are symbolic only where an input's or attribute's are: a bound graph's
    // nodes get numbers.
    let type: TensorType<D>;
    try {
      type = def.infer(
        init.inputs.map((i) => this.node(i).type),
        attrs,
        { float: this.float },
      ) as TensorType<D>;
    } catch (e) {
      throw fromRule(e, init.loc, init.name);
    }
    const node: IRNode<D> = { name: init.name, op: init.op, inputs: [...init.inputs], attrs, type };
    if (init.loc) node.loc = init.loc;
    if (init.grad) node.grad = init.grad;
    this.graph.addNode(init.name, node);
    for (const i of init.inputs) this.graph.addEdge(i, init.name);
    this.order.push(init.name);
    return node;
  }

  /** A scalar (or filled) constant; equal constants are shared. */
  constant(value: D, dtype: DType = this.float, shape: D[] = []): string {
    const name = `#${value}${dtype === this.float ? '' : ':' + dtype}${shape.length ? '@' + shape.join('x') : ''}`;
    if (!this.graph.hasNode(name)) {
      this.add({ name, op: 'const', inputs: [], attrs: { value, shape, dtype } });
    }
    return name;
  }

  /**
   * The graph with `batch` bound (its first `n` nodes, a topological prefix, when given): each
   * node's type and shape attributes get numbers; no rule runs again. What a plan is made from.
   */
  bind(batch: number, n = this.order.length): IRGraph {
    const out = new IRGraph(this.float);
    for (const name of this.order.slice(0, n)) {
      const node = this.node(name);
      const bound: IRNode = {
        ...node,
        attrs: bindAttrs(node.attrs, batch),
        type: { shape: bindShape(node.type.shape, batch), dtype: node.type.dtype },
      };
      out.graph.addNode(name, bound);
      for (const i of node.inputs) out.graph.addEdge(i, name);
      out.order.push(name);
    }
    return out;
  }

  /** A graph of the first `n` nodes (a topological prefix), sharing their IR nodes: no rebuild. */
  prefix(n: number): IRGraph<D> {
    if (n === this.order.length) return this;
    const view = new IRGraph<D>(this.float);
    for (const name of this.order.slice(0, n)) {
      const node = this.node(name);
      view.graph.addNode(name, node);
      for (const i of node.inputs) view.graph.addEdge(i, name);
      view.order.push(name);
    }
    return view;
  }

  /** Names of all nodes `targets` depend on (including themselves), in topological order. */
  ancestors(targets: Iterable<string>): string[] {
    const seen = this.reach(targets, 'inbound');
    return this.order.filter((n) => seen.has(n));
  }

  /** Names of all nodes that depend on `sources` (including themselves). */
  descendants(sources: Iterable<string>): Set<string> {
    return this.reach(sources, 'outbound');
  }

  /** Nodes reachable from `starts` along edges (outbound) or against them (inbound), starts included. */
  private reach(starts: Iterable<string>, mode: 'inbound' | 'outbound'): Set<string> {
    const seen = new Set<string>();
    // One traversal per start; a node seen from an earlier start is not walked again.
    const visit = (n: string) => {
      if (seen.has(n)) return true;
      seen.add(n);
      return false;
    };
    for (const s of starts) if (!seen.has(s)) dfsFromNode(this.graph, s, visit, { mode });
    return seen;
  }
}
