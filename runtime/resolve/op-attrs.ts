// An op's attributes checked against the op's own JSON Schema (OpDef.attrs), each problem an
// AttrError at the attribute. Kept in one function here: the op modules may come to carry the
// published schema's per-op `attrs` and take this check into the load stage's validation.

import Ajv, { type ValidateFunction } from 'ajv';
import { AttrError, type SourceLoc } from '../errors.js';
import type { OpDef } from '../ops/op.js';
import type { Path } from '../load/source.js';

const validators = new Map<string, ValidateFunction>();
// One ajv instance for every op: creating an instance costs as much as compiling a schema.
let ajv: InstanceType<typeof Ajv.default> | undefined;

function validator(op: string, schema: object): ValidateFunction {
  let v = validators.get(op);
  if (!v) {
    ajv ??= new Ajv.default({ allErrors: true, strict: false });
    v = ajv.compile(schema);
    validators.set(op, v);
  }
  return v;
}

/**
 * Errors in one node's `attrs` for op `def`, or null when they are valid (invalid attributes
 * may yield no message of their own: a failed oneOf reports through its branches, or not at
 * all). `path` is the node's path in its file and `L` positions a path there.
 */
export function checkOpAttrs(
  def: OpDef,
  attrs: Record<string, unknown>,
  path: Path,
  L: (p: Path, key?: boolean) => SourceLoc,
  node: string,
): AttrError[] | null {
  const validate = validator(def.name, def.attrs);
  if (validate(attrs)) return null;
  const errors: AttrError[] = [];
  for (const e of validate.errors ?? []) {
    if (e.keyword === 'oneOf') continue;
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    const sub = e.instancePath.split('/').filter(Boolean);
    const at = extra ? L([...path, 'attrs', extra], true) : L([...path, 'attrs', ...sub]);
    // `stride[1]`, and "must be integer or array" rather than ajv's "integer,array".
    const name = sub.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i ? `.${p}` : p)).join('') || 'attrs';
    const message =
      e.keyword === 'type'
        ? `must be ${[(e.params as { type: string | string[] }).type].flat().join(' or ')}`
        : e.message;
    const what = extra ? `unknown attribute "${extra}" for op ${def.name}` : `attribute ${name} ${message}`;
    const allowed = Object.keys((def.attrs as { properties?: object }).properties ?? {});
    const hint = extra
      ? allowed.length
        ? `${def.name} takes: ${allowed.join(', ')}`
        : `${def.name} takes no attributes`
      : undefined;
    errors.push(new AttrError(what, at, node, hint));
  }
  return errors;
}
