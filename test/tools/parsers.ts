// Independent readers for the tools' outputs, so tests check structure rather than bytes:
// a strict little XML parser (for SVG), a DOT parser for the subset of the language any DOT
// writer uses (quoted/bare ids, attribute lists, subgraphs, edges) and a Mermaid flowchart reader.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const entities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e[0] === '#')
      return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    const v = entities[e];
    if (v === undefined) throw new Error(`unknown entity ${m}`);
    return v;
  });
}

/** Parse an XML document; throws on mismatched or unclosed tags and on bad attributes. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  while (i < src.length) {
    if (src.startsWith('<?', i)) {
      i = src.indexOf('?>', i) + 2;
      continue;
    }
    if (src.startsWith('<!--', i)) {
      i = src.indexOf('-->', i) + 3;
      continue;
    }
    if (src.startsWith('<!', i)) {
      i = src.indexOf('>', i) + 1;
      continue;
    }
    if (src[i] === '<' && src[i + 1] === '/') {
      const end = src.indexOf('>', i);
      const name = src.slice(i + 2, end).trim();
      const top = stack.pop()!;
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}> at ${i}`);
      i = end + 1;
      continue;
    }
    if (src[i] === '<') {
      const m = /^<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(src.slice(i));
      if (!m) throw new Error(`bad tag at ${i}: ${src.slice(i, i + 40)}`);
      const el: XmlElement = { name: m[1]!, attrs: {}, children: [], text: '' };
      for (const a of m[2]!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
        el.attrs[a[1]!] = unescapeXml(a[2] ?? a[3] ?? '');
      stack[stack.length - 1]!.children.push(el);
      if (!m[3]) stack.push(el);
      i += m[0].length;
      continue;
    }
    const next = src.indexOf('<', i);
    const text = src.slice(i, next < 0 ? src.length : next);
    stack[stack.length - 1]!.text += unescapeXml(text);
    i = next < 0 ? src.length : next;
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('an XML document has exactly one root element');
  return root.children[0]!;
}

/** Every element (depth first) for which `pred` holds. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean, out: XmlElement[] = []): XmlElement[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) findAll(c, pred, out);
  return out;
}

export interface DotGraph {
  name: string;
  nodes: Map<string, { attrs: Record<string, string>; subgraph?: string }>;
  edges: { from: string; to: string; attrs: Record<string, string> }[];
  subgraphs: Map<string, Record<string, string>>;
}

/** Parse DOT (digraph, quoted or bare ids, attribute lists, subgraphs, `a -> b` edges). */
export function parseDot(src: string): DotGraph {
  const toks: string[] = [];
  const re = /\s+|\/\/[^\n]*|#[^\n]*|"((?:[^"\\]|\\.)*)"|(->|[{}[\];=,])|([A-Za-z_0-9.\u0080-\uffff-]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < src.length) {
    re.lastIndex = pos;
    m = re.exec(src);
    if (!m) throw new Error(`DOT: unexpected character at ${pos}: ${src.slice(pos, pos + 20)}`);
    pos = re.lastIndex;
    if (m[1] !== undefined) toks.push('\u0000' + m[1].replace(/\\(["\\])/g, '$1').replace(/\\n/g, '\n'));
    else if (m[2] !== undefined) toks.push(m[2]);
    else if (m[3] !== undefined) toks.push('\u0000' + m[3]);
  }
  let t = 0;
  const peek = () => toks[t];
  const next = () => {
    if (t >= toks.length) throw new Error('DOT: unexpected end');
    return toks[t++]!;
  };
  const expect = (s: string) => {
    const x = next();
    if (x !== s) throw new Error(`DOT: expected ${s}, got ${x}`);
  };
  const id = () => {
    const x = next();
    if (!x.startsWith('\u0000')) throw new Error(`DOT: expected an id, got ${x}`);
    return x.slice(1);
  };
  const attrList = (): Record<string, string> => {
    const a: Record<string, string> = {};
    while (peek() === '[') {
      next();
      while (peek() !== ']') {
        const k = id();
        expect('=');
        a[k] = id();
        if (peek() === ',' || peek() === ';') next();
      }
      next();
    }
    return a;
  };
  const g: DotGraph = { name: '', nodes: new Map(), edges: [], subgraphs: new Map() };
  const kw = id();
  if (kw !== 'digraph') throw new Error(`DOT: expected digraph, got ${kw}`);
  if (peek() !== '{') g.name = id();
  const body = (sub: string | undefined) => {
    expect('{');
    while (peek() !== '}') {
      const x = peek()!;
      if (x === ';') {
        next();
        continue;
      }
      const word = id();
      if (word === 'subgraph') {
        const name = peek() === '{' ? `#${g.subgraphs.size}` : id();
        g.subgraphs.set(name, {});
        body(name);
        continue;
      }
      if ((word === 'graph' || word === 'node' || word === 'edge') && peek() === '[') {
        attrList();
        continue;
      }
      if (peek() === '=') {
        next();
        const v = id();
        if (sub) g.subgraphs.get(sub)![word] = v;
        continue;
      }
      const chain = [word];
      while (peek() === '->') {
        next();
        chain.push(id());
      }
      const attrs = attrList();
      if (chain.length === 1) {
        const prev = g.nodes.get(word);
        g.nodes.set(word, { attrs: { ...prev?.attrs, ...attrs }, subgraph: sub ?? prev?.subgraph });
      } else {
        for (let k = 0; k + 1 < chain.length; k++) g.edges.push({ from: chain[k]!, to: chain[k + 1]!, attrs });
      }
    }
    next();
  };
  body(undefined);
  if (t !== toks.length) throw new Error('DOT: text after the graph');
  return g;
}

export interface MermaidChart {
  nodes: Map<string, { label: string[]; shape: string; subgraph?: string }>;
  edges: { from: string; to: string; dotted: boolean; label?: string }[];
  classes: Map<string, Set<string>>;
}

/** Read the flowchart subset graph-run writes: node definitions, subgraphs, links, classes. */
export function parseMermaid(src: string): MermaidChart {
  const lines = src
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (!/^flowchart (TB|TD|LR|BT|RL)$/.test(lines[0] ?? ''))
    throw new Error(`Mermaid: expected a flowchart header, got ${lines[0]}`);
  const chart: MermaidChart = { nodes: new Map(), edges: [], classes: new Map() };
  let sub: string | undefined;
  const shapes: [RegExp, string][] = [
    [/^(\w+)\(\["(.*)"\]\)$/, 'stadium'],
    [/^(\w+)\[\("(.*)"\)\]$/, 'cylinder'],
    [/^(\w+)>"(.*)"\]$/, 'flag'],
    [/^(\w+)\("(.*)"\)$/, 'round'],
  ];
  for (const line of lines.slice(1)) {
    let m: RegExpExecArray | null;
    if ((m = /^subgraph (\w+)/.exec(line))) {
      sub = m[1];
      continue;
    }
    if (line === 'end') {
      sub = undefined;
      continue;
    }
    if (line.startsWith('classDef ')) continue;
    if ((m = /^class ([\w,]+) (\w+);$/.exec(line))) {
      chart.classes.set(m[2]!, new Set(m[1]!.split(',')));
      continue;
    }
    if ((m = /^(\w+) --> (\w+)$/.exec(line))) {
      chart.edges.push({ from: m[1]!, to: m[2]!, dotted: false });
      continue;
    }
    if ((m = /^(\w+) -\. "([^"]*)" \.-> (\w+)$/.exec(line))) {
      chart.edges.push({ from: m[1]!, to: m[3]!, dotted: true, label: m[2]! });
      continue;
    }
    const shape = shapes.find(([r]) => r.test(line));
    if (!shape) throw new Error(`Mermaid: cannot read line: ${line}`);
    const sm = shape[0].exec(line)!;
    if (/"/.test(sm[2]!)) throw new Error(`Mermaid: unescaped quote in ${line}`);
    const label = sm[2]!.split('<br/>').map((s) =>
      s
        .replace(/#quot;/g, '"')
        .replace(/#lt;/g, '<')
        .replace(/#gt;/g, '>')
        .replace(/#amp;/g, '&'),
    );
    chart.nodes.set(sm[1]!, { label, shape: shape[1], subgraph: sub });
  }
  return chart;
}
