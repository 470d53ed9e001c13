// Picture -> Mermaid flowchart (renders on GitHub and in Markdown previews). Node ids are
// n0, n1, ... because Mermaid ids cannot hold "/" or "#"; the IR name is the label's first
// line. Reverse-graph nodes get class `grad`, and a dotted link to their forward node.

import type { Picture, PictureNode } from './picture.js';

/** Text inside a quoted Mermaid label: quotes and angle brackets as entities, lines as <br/>. */
function mermaidText(s: string): string {
  return s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function shape(n: PictureNode, id: string): string {
  const label = `"${n.label.map(mermaidText).join('<br/>')}"`;
  switch (n.kind) {
    case 'input':
      return `${id}([${label}])`;
    case 'param':
      return `${id}[(${label})]`;
    case 'state':
      return `${id}[(${label})]`;
    case 'const':
      return `${id}>${label}]`;
    case 'op':
      return `${id}(${label})`;
    case 'grad':
      return `${id}(${label})`;
    default:
      return n.kind satisfies never;
  }
}

/**
 * Mermaid flowchart text for a picture.
 * @example toMermaid(graphPicture(session)) // "flowchart TB\n  subgraph forward ..."
 */
export function toMermaid(p: Picture): string {
  const ids = new Map(p.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ['flowchart TB'];
  const titles = { forward: 'forward', loss: 'loss', backward: 'reverse graph (gradients)' } as const;
  for (const c of ['forward', 'loss', 'backward'] as const) {
    const ns = p.nodes.filter((n) => n.cluster === c);
    if (!ns.length) continue;
    lines.push(`  subgraph ${c} ["${titles[c]}"]`);
    for (const n of ns) lines.push(`    ${shape(n, ids.get(n.id)!)}`);
    lines.push('  end');
  }
  for (const e of p.edges) {
    const a = ids.get(e.from)!,
      b = ids.get(e.to)!;
    lines.push(e.kind === 'grad' ? `  ${a} -. "grad of" .-> ${b}` : `  ${a} --> ${b}`);
  }
  lines.push('  classDef grad fill:#fde0dd,stroke:#b2182b,stroke-dasharray:4 2;');
  lines.push('  classDef param fill:#fff2cc;');
  lines.push('  classDef input fill:#dbe9f6;');
  for (const kind of ['grad', 'param', 'input'] as const) {
    const members = p.nodes.filter((n) => n.kind === kind).map((n) => ids.get(n.id)!);
    if (members.length) lines.push(`  class ${members.join(',')} ${kind};`);
  }
  return lines.join('\n') + '\n';
}
