// The picture of the graph in the playground: the library's graphPicture -> toDot (the same DOT
// as `graph-run dot`), laid out by the library's renderSvg (Graphviz compiled to WebAssembly,
// loaded on the first drawing so the page itself stays small), with the values of one traced training step
// (the library's trace, as `graph-run dot --trace`) shown when the pointer is over a node.

import {
  compile,
  formatValue,
  graphPicture,
  type Model,
  renderSvg,
  type TraceNodeInfo,
  toDot,
  trace,
  traceByNode,
} from '../runtime/index.js';

export interface DrawOptions {
  /** Draw the reverse graph too (when the graph has a loss or a gradients request). */
  backward: boolean;
  /** The training step whose values are shown on hover (from 1). */
  step: number;
}

export interface Drawn {
  /** The drawn nodes' names (IR names), in the order the picture lists them. */
  nodes: string[];
  /** Nodes with a traced value. */
  traced: number;
  /** Why there are no values (no loss, no training, a step past the end), if there are none. */
  note?: string;
}

/** One line per fact about a node: what the hover panel and the SVG tooltip show. */
export function describeNode(name: string, label: string[], info: TraceNodeInfo | undefined): string[] {
  const lines = [name, ...label.slice(1)];
  if (info) {
    if (info.label) lines.push(info.label);
    if (info.rule) lines.push(`rule: ${info.rule}`);
    if (info.formula && info.formula !== label[1]) lines.push(`= ${info.formula}`);
    lines.push(`value: ${formatValue(info.value)}`);
  }
  return lines;
}

/**
 * Draw `model` into `into` (an SVG replaces what was there); `panel` shows the node under the
 * pointer. Throws what compiling or Graphviz throws; a graph that cannot be traced is still drawn.
 */
export async function drawGraph(
  model: Model,
  into: HTMLElement,
  panel: HTMLElement,
  opts: DrawOptions,
): Promise<Drawn> {
  // A CPU session for the picture and the trace: the shapes and names are the same on any device.
  const session = compile(model);
  try {
    let values: Map<string, TraceNodeInfo> | undefined;
    let note: string | undefined;
    if (model.loss && model.training) {
      try {
        values = traceByNode(trace(session, { step: opts.step }));
      } catch (e) {
        note = (e as Error).message;
      }
    } else note = 'no training step to trace (the graph has no loss or no training section)';
    const backward = opts.backward && (model.loss !== undefined || model.gradients !== undefined);
    const picture = graphPicture(session, { backward });
    const text = await renderSvg(toDot(picture));
    const svg = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement as unknown as SVGSVGElement;
    // Fit to the box (the whole graph at a glance); a click shows it at Graphviz's own size.
    const natural = svg.getAttribute('width') ?? '';
    svg.removeAttribute('height');
    svg.setAttribute('width', '100%');
    svg.addEventListener('click', () =>
      svg.setAttribute('width', svg.getAttribute('width') === '100%' ? natural : '100%'),
    );
    const byId = new Map(picture.nodes.map((n) => [n.id, n]));
    const show = (lines: string[]) => {
      panel.replaceChildren();
      lines.forEach((l, i) => {
        const div = document.createElement('div');
        div.textContent = l;
        if (i === 0) div.className = 'name';
        panel.append(div);
      });
    };
    let traced = 0;
    for (const g of Array.from(svg.querySelectorAll<SVGGElement>('g.node'))) {
      const title = g.querySelector('title');
      const name = title?.textContent ?? '';
      const node = byId.get(name);
      if (!node) continue;
      const info = values?.get(name);
      if (info) traced++;
      const lines = describeNode(name, node.label, info);
      // The native tooltip shows the same lines; the panel keeps them while you read.
      if (title) title.textContent = lines.join('\n');
      g.dataset.node = name;
      g.addEventListener('mouseenter', () => {
        show(lines);
        g.classList.add('hover');
      });
      g.addEventListener('mouseleave', () => g.classList.remove('hover'));
    }
    into.replaceChildren(svg);
    show([
      values
        ? `Point at a node: its value in training step ${opts.step}.`
        : `Point at a node to see it. ${note ? `No values: ${note}` : ''}`,
    ]);
    return { nodes: picture.nodes.map((n) => n.id), traced, ...(note ? { note } : {}) };
  } finally {
    session.dispose();
  }
}
