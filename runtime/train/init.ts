// Parameter initialisers: the values themselves, from what the resolver described (a constant,
// explicit values, a file, or a seeded uniform/normal distribution; resolve/init.ts reduces the
// YAML forms). Random values are drawn from the named stream "init:<parameter>" (docs/init.md),
// so a seed gives the same numbers everywhere; a file is read now, not when the graph loads.

import { initFileValues } from '../data/init-file.js';
import type { ParamDecl } from '../load/model.js';
import { Stream } from '../ops/random.js';
import { sizeOf } from '../ir/types.js';

export type { RandomInitSpec } from '../load/doc.js';
export { randomInit, randomInitKinds } from '../resolve/init.js';

/**
 * A parameter's initial values (in f64; an f32 buffer rounds each to nearest on store).
 * @example initialValues(model.params[0], model.seed ?? 0)
 */
export function initialValues(p: ParamDecl, seed: number): ArrayLike<number> {
  const n = sizeOf(p.shape);
  const init = p.init;
  switch (init.kind) {
    case 'constant':
      return new Float64Array(n).fill(init.value);
    case 'values':
      return init.values;
    case 'file':
      return initFileValues(p);
    case 'random': {
      const s = new Stream(seed, `init:${p.name}`);
      const out = new Float64Array(n);
      if (init.dist === 'uniform') for (let i = 0; i < n; i++) out[i] = init.a + (init.b - init.a) * s.uniform(i, 0);
      else for (let i = 0; i < n; i++) out[i] = init.a + init.b * s.normal(i);
      return out;
    }
    default:
      return init satisfies never;
  }
}
