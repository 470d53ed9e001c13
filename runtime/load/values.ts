// Values written in YAML (or JSON) as nested lists: their shape and flat contents. Shared by
// the resolver (initial values) and the data readers (rows, feeds), so it lives at the start
// of the pipeline where both can import it.

/** The nested-list value's shape and flat contents, or an error message. */
export function flatten(v: unknown): { shape: number[]; values: number[] } | string {
  if (typeof v === 'number') return { shape: [], values: [v] };
  if (!Array.isArray(v)) return `expected a number or a list, got ${v === null ? 'null' : typeof v}`;
  if (v.length === 0) return { shape: [0], values: [] };
  const parts = v.map(flatten);
  const bad = parts.find((p) => typeof p === 'string');
  if (bad !== undefined) return bad as string;
  const first = parts[0] as { shape: number[]; values: number[] };
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] as { shape: number[] };
    if (p.shape.join(',') !== first.shape.join(','))
      return `ragged list: item ${i} has shape [${p.shape.join(', ')}], item 0 has [${first.shape.join(', ')}]`;
  }
  return { shape: [v.length, ...first.shape], values: parts.flatMap((p) => (p as { values: number[] }).values) };
}
