// An input's `vocab:` (the characters its token ids stand for, id k = k-th character): checked
// where it is declared, so `graph-run generate` can rely on it (an i32 input, each character once).

import { SchemaError, type SourceLoc } from '../errors.js';
import type { InputDType } from '../load/model.js';
import type { Path } from '../load/source.js';
import type { Ctx } from './context.js';

/** The input's vocabulary, or undefined when it declares none or a wrong one (an error in ctx). */
export function inputVocab(
  ctx: Ctx,
  spec: { vocab?: string; dtype?: InputDType },
  at: (p: Path) => SourceLoc,
  name: string,
): string | undefined {
  if (spec.vocab === undefined) return undefined;
  const loc = at(['inputs', name, 'vocab']);
  if (spec.dtype !== 'i32') {
    ctx.errors.push(
      new SchemaError(
        `input "${name}" has a vocab: its values are token ids, so its dtype must be i32`,
        loc,
        'add dtype: i32',
      ),
    );
    return undefined;
  }
  const seen = new Map<string, number>();
  let k = 0;
  for (const c of spec.vocab) {
    const first = seen.get(c);
    if (first !== undefined) {
      ctx.errors.push(
        new SchemaError(
          `the vocab of input "${name}" holds ${JSON.stringify(c)} twice (ids ${first} and ${k})`,
          loc,
          'each character stands for one id: list it once',
        ),
      );
      return undefined;
    }
    seen.set(c, k++);
  }
  return spec.vocab;
}
