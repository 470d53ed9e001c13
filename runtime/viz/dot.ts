// Picture -> Graphviz DOT. Clusters for the forward graph, the loss and the reverse graph;
// reverse-graph nodes are filled red-pink with a dashed outline and class "grad", and each has
// a dotted "grad" edge to the forward node it came from. Node ids are the IR names, quoted.

import type { Picture, PictureEdge, PictureNode } from './picture.js';

/** A DOT double-quoted string: backslashes and quotes escaped, newlines as \n. */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const clusterStyle = {
  forward: { label: 'forward', color: '#4a6fa5' },
  loss: { label: 'loss', color: '#a58a4a' },
  backward: { label: 'reverse graph (gradients)', color: '#b2182b' },
} as const;

function nodeAttrs(n: PictureNode): Record<string, string> {
  const a: Record<string, string> = { label: n.label.join('\n'), class: n.kind };
  switch (n.kind) {
    case 'input':
      Object.assign(a, { shape: 'ellipse', style: 'filled', fillcolor: '#dbe9f6' });
      break;
    case 'param':
      Object.assign(a, { shape: 'box', style: 'filled', fillcolor: '#fff2cc' });
      break;
    case 'state':
      Object.assign(a, { shape: 'box', style: 'filled', fillcolor: '#eeeeee' });
      break;
    case 'const':
      Object.assign(a, { shape: 'plaintext', fontsize: '10' });
      break;
    case 'op':
      Object.assign(a, { shape: 'box', style: 'rounded' });
      break;
    case 'grad':
      Object.assign(a, { shape: 'box', style: 'rounded,filled,dashed', fillcolor: '#fde0dd', color: '#b2182b' });
      break;
    default:
      n.kind satisfies never;
  }
  if (n.role) {
    a.class += ` ${n.role}`;
    a.penwidth = '2';
  }
  return a;
}

function edgeAttrs(e: PictureEdge, multiInput: boolean): Record<string, string> {
  if (e.kind === 'grad') {
    // constraint=false: the link must not pull the reverse graph's layout into the forward one.
    return {
      class: 'grad',
      style: 'dotted',
      color: '#b2182b',
      arrowhead: 'onormal',
      constraint: 'false',
      tooltip: 'gradient of',
    };
  }
  return multiInput && e.slot !== undefined
    ? { class: 'data', headlabel: String(e.slot), labelfontsize: '8' }
    : { class: 'data' };
}

function attrList(a: Record<string, string>): string {
  const parts = Object.entries(a)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${dotString(v)}`);
  return parts.length ? ` [${parts.join(', ')}]` : '';
}

/**
 * Graphviz DOT text for a picture.
 * @example process.stdout.write(toDot(graphPicture(session, { backward: true })));
 */
export function toDot(p: Picture): string {
  const lines = [
    `digraph ${dotString(p.title)} {`,
    `  graph [rankdir=TB, fontname="Helvetica", label=${dotString(p.title)}, labelloc=t];`,
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", color="#555555"];',
  ];
  const arity = new Map<string, number>();
  for (const e of p.edges) if (e.kind === 'data') arity.set(e.to, (arity.get(e.to) ?? 0) + 1);
  for (const c of ['forward', 'loss', 'backward'] as const) {
    const ns = p.nodes.filter((n) => n.cluster === c);
    if (!ns.length) continue;
    const s = clusterStyle[c];
    lines.push(
      `  subgraph ${dotString(`cluster_${c}`)} {`,
      `    label=${dotString(s.label)}; color=${dotString(s.color)}; style="rounded";`,
    );
    for (const n of ns) lines.push(`    ${dotString(n.id)}${attrList(nodeAttrs(n))};`);
    lines.push('  }');
  }
  for (const e of p.edges)
    lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${attrList(edgeAttrs(e, (arity.get(e.to) ?? 0) > 1))};`);
  lines.push('}');
  return lines.join('\n') + '\n';
}
