// DOT -> SVG through Graphviz's `dot` program (Node only; Debian: apt-get install graphviz).
// graph-run does not lay graphs out itself: Graphviz does it well, and is one install away.

import { spawnSync } from 'node:child_process';
import { ToolError } from '../index.js';

/** Render DOT text to SVG with Graphviz; throws a ToolError when `dot` is missing or fails. */
export function renderSvg(dot: string, program = process.env.GRAPH_RUN_DOT ?? 'dot'): string {
  const r = spawnSync(program, ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) {
    const missing = (r.error as { code?: string }).code === 'ENOENT';
    throw new ToolError(
      missing
        ? `cannot render SVG: Graphviz's "${program}" program is not installed`
        : `cannot run Graphviz's "${program}": ${r.error.message}`,
      'install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), or print DOT and render it elsewhere',
    );
  }
  if (r.status !== 0) throw new ToolError(`Graphviz failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}
