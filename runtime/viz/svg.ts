// Picture -> SVG: Graphviz compiled to WebAssembly (@viz-js/viz) lays out the DOT text, so
// `graph-run dot --svg` and the playground need no system package. Pure: no Node built-ins.
// The Graphviz module (about 1 MB of JavaScript with the WASM inlined) is imported on first
// use, so loading graph-run does not pay for it.

import type { Viz } from '@viz-js/viz';
import { ToolError } from '../checkpoint/errors.js';
import type { Session } from '../session.js';
import { toDot } from './dot.js';
import { graphPicture, type PictureOptions } from './picture.js';

let viz: Promise<Viz> | undefined;

/** The one Graphviz instance of this process (made on first use; making it takes ~30 ms). */
function graphviz(): Promise<Viz> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return viz;
}

/**
 * Lay out Graphviz DOT text and return the picture as SVG text (Graphviz's own SVG: one
 * `<g class="node">` per node with its name as `<title>`, one `<g class="edge">` per edge).
 * Throws a ToolError carrying Graphviz's messages when the DOT text is not valid.
 * @example
 * import { renderSvg } from 'graph-run';
 * const svg = await renderSvg('digraph { x -> y }');
 * console.log(svg.includes('<title>x&#45;&gt;y</title>')); // true
 */
export async function renderSvg(dot: string): Promise<string> {
  const r = (await graphviz()).render(dot, { format: 'svg', engine: 'dot' });
  if (r.status !== 'success') {
    // Warnings (e.g. a missing glyph width for a non-ASCII label) do not stop the layout.
    const errors = r.errors.filter((e) => e.level !== 'warning').map((e) => e.message.trim());
    throw new ToolError(`Graphviz could not lay out the graph: ${errors.join('; ') || 'unknown error'}`);
  }
  return r.output;
}

/**
 * A session's graph drawn as SVG: `graphPicture` (with `{ backward: true }` the reverse graph
 * too) turned into DOT by `toDot` and laid out by `renderSvg`. Works in Node and in a browser.
 * @example
 * import { compile, graphSvg, loadGraph } from 'graph-run';
 * const svg = await graphSvg(compile(loadGraph('graphs/gender.yaml')), { backward: true });
 * console.log(svg.startsWith('<?xml')); // true
 */
export function graphSvg(session: Session, opts: PictureOptions = {}): Promise<string> {
  return renderSvg(toDot(graphPicture(session, opts)));
}
