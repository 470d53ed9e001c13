// A graph's attributes (`attrs:`): numbers bound by the use's `with:` or their defaults,
// checked against their declared ranges; a `with:` naming no attribute is an error too.

import { AttrError, type SourceLoc } from '../errors.js';
import type { Loaded } from '../load/doc.js';
import { suggest } from '../load/hint.js';
import type { Path } from '../load/source.js';
import type { Ctx, Use } from './context.js';

/** Attribute name -> value for one expansion of `g`. */
export function bindAttrs(
  ctx: Ctx,
  g: Loaded,
  use: Use | null,
  L: (p: Path, key?: boolean) => SourceLoc,
): Map<string, number> {
  const { file, doc } = g;
  const env = new Map<string, number>();
  const attrDecls = doc.attrs ?? {};
  for (const [name, spec] of Object.entries(attrDecls)) {
    const v = use?.with[name] ?? spec.default;
    if (v === undefined) {
      ctx.errors.push(
        new AttrError(
          `${file.path} needs a value for attribute "${name}"`,
          use?.loc ?? L(['attrs', name], true),
          undefined,
          `add it under with:, e.g. with: {${name}: ...}`,
        ),
      );
      continue;
    }
    const at = use && use.with[name] !== undefined ? use.withLoc(name) : L(['attrs', name], true);
    const bad =
      (spec.minimum !== undefined && v < spec.minimum && `at least ${spec.minimum}`) ||
      (spec.exclusiveMinimum !== undefined && v <= spec.exclusiveMinimum && `greater than ${spec.exclusiveMinimum}`) ||
      (spec.maximum !== undefined && v > spec.maximum && `at most ${spec.maximum}`) ||
      (spec.exclusiveMaximum !== undefined && v >= spec.exclusiveMaximum && `less than ${spec.exclusiveMaximum}`);
    if (bad) ctx.errors.push(new AttrError(`attribute "${name}" is ${v}; it must be ${bad}`, at));
    env.set(name, v);
  }
  for (const name of Object.keys(use?.with ?? {})) {
    if (!(name in attrDecls))
      ctx.errors.push(
        new AttrError(
          `${file.path} has no attribute "${name}"`,
          use!.withLoc(name),
          undefined,
          suggest(name, Object.keys(attrDecls), 'attributes'),
        ),
      );
  }
  return env;
}
