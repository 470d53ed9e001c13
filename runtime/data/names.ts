// Which columns (CSV) or fields (JSON records) an input takes: a name, a list of names, a range
// `px0..px783` (px0, px1, ..., px783) or a pattern with `*` (`px*`: every matching column, in
// the file's order). A name the file has literally is always taken literally.

import { NameError, type GraphError, type SourceLoc } from '../errors.js';
import { suggestFrom } from '../load/hint.js';
import { globMatch } from '../resolve/glob.js';

/** Most columns one range may name. */
const MAX_RANGE = 1 << 24;

const RANGE = /^(.*?)(\d+)\.\.(.*?)(\d+)$/;

/**
 * The columns `spec` names (one entry of `columns`, or the input's own name), as indices into
 * `header`; errors at `at(k)` (k: the list item) name the missing column with the closest one.
 * `vector`: the input takes a list of values per sample (a list, a range or a pattern).
 */
export function pickColumns(
  spec: string | string[] | undefined,
  input: string,
  header: string[],
  path: string,
  at: (k?: number) => SourceLoc,
  errors: GraphError[],
): { indices: number[]; names: string[]; vector: boolean } | null {
  const index = new Map<string, number>();
  header.forEach((h, k) => {
    if (!index.has(h)) index.set(h, k);
  });
  const items = spec === undefined ? [input] : Array.isArray(spec) ? spec : [spec];
  const indices: number[] = [];
  const names: string[] = [];
  let vector = Array.isArray(spec);
  let ok = true;
  const missing = (c: string, where: SourceLoc, what = '') => {
    errors.push(
      new NameError(
        `${path} has no column "${c}"${what} (for input "${input}")`,
        where,
        undefined,
        suggestFrom(c, index.keys(), 'columns'),
      ),
    );
    ok = false;
  };
  items.forEach((c, k) => {
    const where = at(Array.isArray(spec) ? k : undefined);
    const j = index.get(c);
    if (j !== undefined) {
      indices.push(j);
      names.push(c);
      return;
    }
    const r = RANGE.exec(c);
    if (r && (r[3] === '' || r[3] === r[1])) {
      vector = true;
      const [from, to] = [Number(r[2]), Number(r[4])];
      if (to < from || to - from >= MAX_RANGE) {
        errors.push(new NameError(`the range "${c}" counts down or is too long; write it low..high`, where));
        ok = false;
        return;
      }
      for (let i = from; i <= to; i++) {
        const name = `${r[1]}${i}`;
        const jj = index.get(name);
        if (jj === undefined) return missing(name, where, ` of the range ${c}`);
        indices.push(jj);
        names.push(name);
      }
      return;
    }
    if (c.includes('*')) {
      vector = true;
      const hits = header.flatMap((h, jj) => (globMatch(c, h) ? [jj] : []));
      if (!hits.length) {
        errors.push(new NameError(`no column of ${path} matches "${c}" (for input "${input}")`, where));
        ok = false;
        return;
      }
      for (const jj of hits) {
        indices.push(jj);
        names.push(header[jj]!);
      }
      return;
    }
    missing(c, where);
  });
  return ok ? { indices, names, vector } : null;
}
