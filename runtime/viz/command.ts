// `graph-run dot`: print the graph as Graphviz DOT or Mermaid, or render it to SVG with
// Graphviz (written atomically). Node only (the SVG step runs `dot`); the drawing itself is
// the library's graphPicture / toDot / toMermaid.

import { ensureWritable, writeFileAtomic } from '../checkpoint/files.js';
import { UsageError } from '../errors.js';
import type { Session } from '../session.js';
import { toDot } from './dot.js';
import { toMermaid } from './mermaid.js';
import { graphPicture } from './picture.js';
import { renderSvg } from './svg.js';

export interface DotOptions {
  backward?: boolean;
  mermaid?: boolean;
  /** Render with Graphviz and write this SVG file instead of printing. */
  svg?: string;
}

export function dotCommand(session: Session, opts: DotOptions, out: (s: string) => void): void {
  const m = session.model;
  if (opts.mermaid && opts.svg) throw new UsageError('--svg renders DOT with Graphviz; it cannot be combined with --mermaid');
  if (opts.backward && !m.loss && !m.gradients) {
    throw new UsageError(`${m.file} has neither a loss nor a gradients request: there is no reverse graph to draw`);
  }
  if (opts.svg) ensureWritable(opts.svg, 'SVG file');
  const picture = graphPicture(session, { backward: opts.backward === true });
  if (opts.mermaid) {
    out(toMermaid(picture).trimEnd());
    return;
  }
  const dot = toDot(picture);
  if (!opts.svg) {
    out(dot.trimEnd());
    return;
  }
  writeFileAtomic(opts.svg, renderSvg(dot), 'SVG file');
  out(`${opts.svg}: ${picture.nodes.length} nodes, ${picture.edges.length} edges`);
}
