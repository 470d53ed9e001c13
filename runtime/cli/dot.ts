// `graph-run dot`: print the graph as Graphviz DOT or Mermaid, or render it to SVG with
// Graphviz in WebAssembly (renderSvg; written atomically); --trace labels every node with its value in one training
// step. The drawing itself is the library's graphPicture / toDot / toMermaid.

import {
  formatValue,
  graphPicture,
  renderSvg,
  type Session,
  toDot,
  toMermaid,
  trace,
  traceByNode,
  UsageError,
} from '../index.js';
import { ensureWritable, writeFileAtomic } from './files.js';

export interface DotOptions {
  backward?: boolean;
  mermaid?: boolean;
  /** Render with Graphviz and write this SVG file instead of printing. */
  svg?: string;
  /** Label nodes with their values in one traced training step (graph-run trace's). */
  trace?: boolean;
  step?: number;
  sample?: number;
}

/** Label lines from a traced step: each value, and for gradients what they are the gradient of. */
export function traceLabels(
  session: Session,
  opts: { step?: number; sample?: number } = {},
): (name: string) => string[] | undefined {
  const t = traceByNode(trace(session, opts));
  return (name) => {
    const n = t.get(name);
    if (!n) return undefined;
    return n.section === 'reverse' && n.label ? [n.label, `= ${formatValue(n.value)}`] : [`= ${formatValue(n.value)}`];
  };
}

export async function dotCommand(session: Session, opts: DotOptions, out: (s: string) => void): Promise<void> {
  const m = session.model;
  if (opts.mermaid && opts.svg)
    throw new UsageError('--svg renders DOT with Graphviz; it cannot be combined with --mermaid');
  if (opts.backward && !m.loss && !m.gradients) {
    throw new UsageError(`${m.file} has neither a loss nor a gradients request: there is no reverse graph to draw`);
  }
  if (opts.svg) ensureWritable(opts.svg, 'SVG file');
  // The trace trains the session up to the traced step; the picture needs only its graphs.
  const annotate = opts.trace ? traceLabels(session, { step: opts.step, sample: opts.sample }) : undefined;
  const picture = graphPicture(session, { backward: opts.backward === true, ...(annotate ? { annotate } : {}) });
  if (opts.mermaid) {
    out(toMermaid(picture).trimEnd());
    return;
  }
  const dot = toDot(picture);
  if (!opts.svg) {
    out(dot.trimEnd());
    return;
  }
  writeFileAtomic(opts.svg, await renderSvg(dot), 'SVG file');
  out(`${opts.svg}: ${picture.nodes.length} nodes, ${picture.edges.length} edges`);
}
