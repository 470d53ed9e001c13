// A picture of a graph, independent of the drawing language: nodes (kind, label lines,
// cluster) and edges (data flow, or "gradient of" links from reverse-graph nodes to the
// forward node they came from). dot.ts and mermaid.ts turn it into text; the CLI's
// `graph-run dot` and the playground draw it.

import type { IRGraph } from '../ir/graph.js';
import { BatchDim, dimToString, type Dim } from '../ir/dim.js';
import type { IRNode } from '../ir/types.js';
import type { Session } from '../session.js';
import { place, type DeviceChoice } from '../scheduler/placement.js';
import { deviceWish } from '../session/device.js';

export type PictureNodeKind = 'input' | 'param' | 'state' | 'const' | 'op' | 'grad';
export type Cluster = 'forward' | 'loss' | 'backward';

/** A node of a `Picture`: its kind, cluster, role and label lines. */
export interface PictureNode {
  /** The IR node's name (unique). */
  id: string;
  kind: PictureNodeKind;
  cluster: Cluster;
  /** Declared output of the graph, the loss, or a gradient result. */
  role?: 'output' | 'loss' | 'gradient';
  /** Lines of the label: name, op, `shape dtype · placement`. */
  label: string[];
  /** For reverse-graph nodes: the forward node this one is (part of) the gradient for. */
  gradOf?: string;
}

/** An edge of a `Picture`: data flow, or the link from a reverse-graph node to its forward node. */
export interface PictureEdge {
  from: string;
  to: string;
  /** `data`: `to` reads `from`; `grad`: `from` is a reverse-graph node made for forward node `to`. */
  kind: 'data' | 'grad';
  /** Input slot (0-based) for data edges, so `sub(a, b)` keeps its order readable. */
  slot?: number;
}

/**
 * A graph drawn as nodes and edges, independent of the drawing language (`toDot`, `toMermaid`,
 * `renderSvg`).
 */
export interface Picture {
  title: string;
  nodes: PictureNode[];
  edges: PictureEdge[];
}

/** Options of `graphPicture` (and `graphSvg`): the reverse graph, placement, extra labels. */
export interface PictureOptions {
  /** Add the reverse graph (d loss / d parameters, or the `gradients:` request). */
  backward?: boolean;
  /** Where each node runs; default: placed as a session on `device` would place it. */
  placement?: (node: IRNode<Dim>) => string;
  /** The device to place for (default the graph's `device:`, else cpu; `auto` shows the WebGPU placement). */
  device?: DeviceChoice;
  /** Extra label lines for a node (e.g. its value in a traced step, see traceLabels). */
  annotate?: (name: string) => string[] | undefined;
}

/**
 * The graph of a session's model as a picture: the forward graph and loss, and with
 * `backward` the reverse graph, its nodes linked to the forward nodes they came from.
 * @example toDot(graphPicture(compile(loadGraph('graphs/gender.yaml')), { backward: true }))
 */
export function graphPicture(session: Session, opts: PictureOptions = {}): Picture {
  const m = session.model;
  // The compiled graphs, typed with `batch` symbolic: a batch-dependent dimension is shown as
  // the model writes it ([batch, 2]) rather than as a number some build happened to use.
  let g: IRGraph<Dim>,
    grads: Map<string, string | null> = new Map();
  /** The value differentiated: the loss, or the `of` of a `gradients:` request. */
  let lossNode: string | undefined;
  if (opts.backward && m.loss && m.training) {
    const t = session.program.symbolicReverse();
    g = t.built.graph;
    grads = t.grads;
    lossNode = t.loss;
  } else if (opts.backward && m.gradients) {
    // A `gradients:` request is taken at its feed, whose batch is fixed: concrete shapes.
    const r = session.gradientGraph();
    g = r.built.graph;
    grads = r.grads;
    lossNode = r.built.ref(m.gradients.of);
  } else {
    const built = session.program.symbolicLossGraph();
    if (built.errors.length) throw new Error(built.errors.map((e) => e.message).join('\n'));
    g = built.graph;
    if (m.loss) lossNode = built.ref(m.loss.ref);
  }
  const where = opts.placement ?? placementOf(session, g, opts.device);
  const lossNames = new Set(m.loss?.nodes.map((n) => n.name) ?? []);
  const modelState = new Set((m.state ?? []).map((x) => x.name));
  const outputs = new Set(m.outputs.map((o) => (typeof o.ref === 'string' ? o.ref : '')));
  const gradResults = new Set([...grads.values()].filter((x): x is string => x !== null));

  const shapeOf = (n: IRNode<Dim>): string =>
    `[${n.type.shape.map((d) => dimToString(d).replace('*', '·')).join(', ')}]`;

  const nodes: PictureNode[] = [];
  const edges: PictureEdge[] = [];
  const seen = new Set<string>();
  for (const name of g.order) {
    const n = g.node(name);
    // Optimizer state belongs to the update step, not drawn here; the model's state (running
    // statistics) is read by the forward graph, drawn as its parameters are.
    if (n.op === 'state' && !modelState.has(name)) continue;
    // The seed constant (d loss / d loss = 1) carries grad info too; it is still drawn as a constant.
    const kind: PictureNodeKind =
      n.op === 'input' || n.op === 'param' || n.op === 'const' || n.op === 'state' ? n.op : n.grad ? 'grad' : 'op';
    let cluster: Cluster = n.grad ? 'backward' : lossNames.has(name) ? 'loss' : 'forward';
    if (n.op === 'const') {
      // A constant sits with its readers; one read only by gradient nodes (the seed, the 2 of
      // d x^2 = 2x dx) belongs to the reverse graph.
      const readers = g.consumers(name);
      if (readers.length && readers.every((r) => g.node(r).grad)) cluster = 'backward';
      else if (readers.length && readers.every((r) => lossNames.has(r))) cluster = 'loss';
    }
    const at = where(n);
    const label =
      n.op === 'const'
        ? [constLabel(n) + (n.grad && n.grad.of === lossNode ? ` (seed: d ${n.grad.of} / d ${n.grad.of})` : '')]
        : kind === 'grad'
          ? [name, `${n.op}${n.grad?.total ? ` (d ${n.grad.of})` : ''}`, `${shapeOf(n)} ${n.type.dtype} · ${at}`]
          : [name, n.op, `${shapeOf(n)} ${n.type.dtype} · ${at}`];
    const extra = opts.annotate?.(name);
    if (extra) label.push(...extra);
    const node: PictureNode = { id: name, kind, cluster, label };
    if (outputs.has(name)) node.role = 'output';
    if (name === lossNode && m.loss) node.role = 'loss';
    if (gradResults.has(name)) node.role = 'gradient';
    if (n.grad) node.gradOf = n.grad.from ?? n.grad.of;
    nodes.push(node);
    seen.add(name);
    n.inputs.forEach((i, slot) => edges.push({ from: i, to: name, kind: 'data', slot }));
    if (node.gradOf !== undefined) edges.push({ from: name, to: node.gradOf, kind: 'grad' });
  }
  const title = `${m.name}${opts.backward ? ' (forward and reverse graph)' : ''}`;
  return { title, nodes, edges: edges.filter((e) => seen.has(e.from) && seen.has(e.to)) };
}

/**
 * Where each node would run: the scheduler's own placement for the device (nodes without a
 * WGSL kernel, or f64, fall back to the CPU and say so), or "cpu" for a CPU session.
 */
function placementOf(session: Session, sym: IRGraph<Dim>, device?: DeviceChoice): (n: IRNode<Dim>) => string {
  const { choice, requests, wantsGpu } = deviceWish(session.model, device);
  if (!wantsGpu) return () => 'cpu';
  const dev = choice === 'auto' ? 'webgpu' : choice;
  // Placement reads sizes: the graph as a plan at the session's batch size would.
  const g = sym.bind(session.batchSize);
  const order = g.order.filter((n) => g.node(n).op !== 'state');
  // No device limits here: a picture shows the intended placement, not whether it fits.
  const p = place(g, order, {
    device: dev,
    main: session.float === 'f64' ? 'cpu' : dev,
    requests,
    gpu: { maxBindingBytes: Infinity },
  });
  return (n) => {
    const np = p.nodes.get(n.name);
    return !np ? dev : np.fallback ? 'cpu (fallback)' : np.device;
  };
}

function constLabel(n: IRNode<Dim>): string {
  const v = n.attrs.value;
  const s =
    typeof v === 'number' || v instanceof BatchDim
      ? dimToString(v)
      : Array.isArray(v)
        ? `[${(v as number[]).slice(0, 4).join(', ')}${v.length > 4 ? ', ...' : ''}]`
        : '?';
  return n.type.shape.length ? `${s} (filled [${n.type.shape.map(dimToString).join(', ')}])` : s;
}
