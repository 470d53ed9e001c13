// Completion from the schema where codemirror-json-schema's YAML mode offers nothing: on an
// empty indented line of a block mapping (Ctrl-Space under `training:`) and for a value whose
// schema is a $ref (`dtype: ` -> float, f32, f64, i32). It reads the path to the cursor from the
// indentation of the lines above (block YAML only; flow `{...}` is left to the library) and
// walks the schema along it, through $ref, oneOf/anyOf/allOf, if/then/else, items and
// additionalProperties.
// Pure (no DOM): the unit test runs it in Node.

export interface SchemaNode {
  $ref?: string;
  type?: string | string[];
  description?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode | SchemaNode[];
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  then?: SchemaNode;
  else?: SchemaNode;
  enum?: unknown[];
  const?: unknown;
  examples?: unknown[];
  definitions?: Record<string, SchemaNode>;
}

export interface Suggestion {
  label: string;
  /** What to insert (a key gets ": "). */
  apply: string;
  type: 'property' | 'enum';
  detail?: string;
  info?: string;
}

/** A path segment: a mapping key, or "[]" for an item of a sequence. */
type Path = string[];

const KEY_LINE = /^([\w.-]+):\s*(#.*)?$/;

/**
 * The block-mapping path of a line at `indent` (the column its key starts at; for a line that
 * starts a sequence item, `item` and the dash's column), from the lines above it; null when the
 * way there is not plain block YAML.
 */
export function pathAt(lines: string[], row: number, indent: number, item = false): Path | null {
  const path: Path = [];
  let cur = indent;
  let inItem = item; // a `- ` item: the sequence's key may sit at the dash's column
  for (let r = row - 1; r >= 0 && (cur > 0 || inItem); r--) {
    const l = lines[r]!;
    if (/^\s*(#.*)?$/.test(l)) continue;
    const m = /^(\s*)(- +)?(.*)$/.exec(l)!;
    const ind = m[1]!.length;
    const content = ind + (m[2]?.length ?? 0);
    if (m[2] && content === cur) {
      // A sibling key on the item's first line (`- name: a` above `  op: b`): we are in that item.
      path.unshift('[]');
      cur = ind;
      inItem = true;
      continue;
    }
    if (content < cur || (inItem && ind <= cur && !m[2])) {
      const k = KEY_LINE.exec(m[3]!);
      if (!k) return null;
      path.unshift(k[1]!);
      if (m[2]) path.unshift('[]');
      cur = ind;
      inItem = !!m[2];
    }
  }
  return path;
}

function resolve(root: SchemaNode, s: SchemaNode | undefined, seen = 0): SchemaNode[] {
  if (!s || seen > 20) return [];
  if (s.$ref?.startsWith('#/definitions/')) {
    const target = root.definitions?.[s.$ref.slice('#/definitions/'.length)];
    // A $ref's siblings (description, examples) stay with it.
    const { $ref: _, ...rest } = s;
    return [rest, ...resolve(root, target, seen + 1)];
  }
  const out = [s];
  // Alternatives, and both branches of an if (a node with `graph:` is a subgraph, else an op).
  const alts = [
    ...(s.oneOf ?? []),
    ...(s.anyOf ?? []),
    ...(s.allOf ?? []),
    ...(s.then ? [s.then] : []),
    ...(s.else ? [s.else] : []),
  ];
  for (const alt of alts) out.push(...resolve(root, alt, seen + 1));
  return out;
}

/** The schemas a path leads to (several, through alternatives). */
export function schemaAt(root: SchemaNode, path: Path): SchemaNode[] {
  let here = resolve(root, root);
  for (const seg of path) {
    const next: SchemaNode[] = [];
    for (const s of here) {
      if (seg === '[]') {
        const it = Array.isArray(s.items) ? s.items[0] : s.items;
        next.push(...resolve(root, it));
      } else if (s.properties?.[seg]) next.push(...resolve(root, s.properties[seg]));
      else if (s.additionalProperties && typeof s.additionalProperties === 'object')
        next.push(...resolve(root, s.additionalProperties));
    }
    here = next;
    if (!here.length) return [];
  }
  return here;
}

const typeName = (s: SchemaNode) => (Array.isArray(s.type) ? s.type.join(' | ') : s.type);

/** Keys of a mapping at `path` (those in `present` left out). */
export function keySuggestions(root: SchemaNode, path: Path, present: Set<string>): Suggestion[] {
  const out = new Map<string, Suggestion>();
  for (const s of schemaAt(root, path))
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      if (present.has(k) || out.has(k)) continue;
      const r = resolve(root, p);
      const t = r.map(typeName).find(Boolean) ?? (r.some((x) => x.enum) ? 'enum' : undefined);
      const d = r.map((x) => x.description).find(Boolean);
      out.set(k, {
        label: k,
        apply: `${k}: `,
        type: 'property',
        ...(t ? { detail: t } : {}),
        ...(d ? { info: d } : {}),
      });
    }
  return [...out.values()];
}

/** Values for the key at the end of `path`: enum members, constants, booleans, scalar examples. */
export function valueSuggestions(root: SchemaNode, path: Path): Suggestion[] {
  const out = new Map<string, Suggestion>();
  const add = (v: unknown, info?: string) => {
    if (v === null || typeof v === 'object') return;
    const label = String(v);
    if (!out.has(label)) out.set(label, { label, apply: label, type: 'enum', ...(info ? { info } : {}) });
  };
  const all = schemaAt(root, path);
  const info = all.map((s) => s.description).find(Boolean);
  for (const s of all) {
    for (const v of s.enum ?? []) add(v, info);
    if (s.const !== undefined) add(s.const, info);
    if (s.type === 'boolean') for (const v of [true, false]) add(v, info);
  }
  if (!out.size) for (const s of all) for (const v of s.examples ?? []) add(v, info);
  return [...out.values()];
}

/** Keys already in the mapping whose keys start at column `indent` around `row`. */
function keysAround(lines: string[], row: number, indent: number): Set<string> {
  const keys = new Set<string>();
  for (const dir of [-1, 1]) {
    for (let r = row + dir; r >= 0 && r < lines.length; r += dir) {
      const l = lines[r]!;
      if (/^\s*(#.*)?$/.test(l)) continue;
      const m = /^(\s*)(- +)?([\w.-]+):/.exec(l);
      const ind = /^\s*/.exec(l)![0].length;
      const content = m ? m[1]!.length + (m[2]?.length ?? 0) : ind;
      if (content < indent || (m?.[2] && content === indent && dir === 1)) break; // the mapping ends (or the next item starts)
      if (m && content === indent) keys.add(m[3]!);
      if (m?.[2] && content === indent) break; // the item's first line: the mapping starts here
    }
  }
  return keys;
}

/**
 * Completions at `pos` of `text`: `from` is where the typed word starts. Null where this
 * source has nothing to say (flow collections, comments, a path it cannot follow).
 */
export function completeAt(
  root: SchemaNode,
  text: string,
  pos: number,
): { from: number; options: Suggestion[] } | null {
  const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
  const before = text.slice(lineStart, pos);
  const lines = text.split('\n');
  const row = text.slice(0, lineStart).split('\n').length - 1;
  // The path to the line: a line that starts an item (`- `) is an item of the sequence above.
  const linePath = (m: RegExpExecArray) => {
    const path = m[2] ? pathAt(lines, row, m[1]!.length, true) : pathAt(lines, row, m[1]!.length);
    if (path && m[2]) path.push('[]');
    return path;
  };
  let m = /^(\s*)(- +)?([\w.-]*)$/.exec(before);
  if (m) {
    const indent = m[1]!.length + (m[2]?.length ?? 0);
    const path = linePath(m);
    if (!path) return null;
    const present = m[2] ? new Set<string>() : keysAround(lines, row, indent);
    return { from: pos - m[3]!.length, options: keySuggestions(root, path, present) };
  }
  m = /^(\s*)(- +)?([\w.-]+):\s+([\w:./-]*)$/.exec(before);
  if (m) {
    const path = linePath(m);
    if (!path) return null;
    path.push(m[3]!);
    return { from: pos - m[4]!.length, options: valueSuggestions(root, path) };
  }
  return null;
}
