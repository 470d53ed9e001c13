// JSON Schema validation of a parsed graph file (schemas/graph.schema.json, compiled once by
// ajv), with every error turned into a SchemaError at the offending key or value.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { SchemaError } from '../errors.js';
import graphSchema from '../../schemas/graph.schema.json' with { type: 'json' };
import type { Path, SourceFile } from './source.js';
import { suggest } from './hint.js';
import { MAX_REPEAT } from './limits.js';

let compiled: ValidateFunction | undefined;

/**
 * The published schema less each op's attributes (definitions/attrs.<op> and the node's allOf
 * choosing one, generated from the registry for editors): the resolver checks attributes from the
 * same source, as AttrErrors with the op's hint, and compiling them here would cost every load ~0.1 s.
 */
function withoutOpAttrs(schema: object): object {
  const s = structuredClone(schema) as { definitions: Record<string, { else?: { allOf?: unknown } }> };
  delete s.definitions.node?.else?.allOf;
  for (const k of Object.keys(s.definitions)) if (k.startsWith('attrs.')) delete s.definitions[k];
  return s;
}

/** The compiled validator; compiled on first use and kept (ajv compilation is the slow part). */
function validator(): ValidateFunction {
  if (!compiled) {
    // verbose: errors carry their schema, so an unknown key's hint can list the allowed ones.
    const ajv = new Ajv.default({ allErrors: true, strict: false, verbose: true });
    compiled = ajv.compile(withoutOpAttrs(graphSchema));
  }
  return compiled;
}

function pathOf(instancePath: string): Path {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(path: Path): string {
  return path.length
    ? path
        .map((p) => (typeof p === 'number' ? `[${p}]` : p))
        .join('.')
        .replace(/\.\[/g, '[')
    : 'the document';
}

const REPEAT_HINT = `repeat: is how many copies of the subgraph to stack, a whole number from 1 to ${MAX_REPEAT}`;

function toError(file: SourceFile, e: ErrorObject): SchemaError {
  const path = pathOf(e.instancePath);
  const where = describe(path);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const opNode = allowed.includes('op') && !allowed.includes('graph');
      return new SchemaError(
        `unknown key "${key}" in ${where}`,
        file.loc([...path, key], true),
        opNode && (key === 'repeat' || key === 'chain')
          ? `${key}: is for subgraph uses (graph:): an op node cannot be repeated; put the ops in a graph file and use it with repeat:`
          : allowed.length
            ? suggest(key, allowed, 'keys here')
            : undefined,
      );
    }
    case 'required': {
      const miss = (e.params as { missingProperty: string }).missingProperty;
      return new SchemaError(`missing field "${miss}" in ${where}`, file.loc(path));
    }
    case 'type':
      return new SchemaError(
        `${where} must be ${(e.params as { type: string | string[] }).type.toString().replace(',', ' or ')}`,
        file.loc(path),
        path[path.length - 1] === 'repeat' ? REPEAT_HINT : undefined,
      );
    case 'enum':
      return new SchemaError(
        `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`,
        file.loc(path),
      );
    case 'pattern':
      return new SchemaError(
        `${where} is not a valid name: ${JSON.stringify(valueAt(file.value, path))}`,
        file.loc(path),
        'names start with a letter or _ and contain letters, digits and _',
      );
    case 'propertyNames': {
      const name = (e.params as { propertyName: string }).propertyName;
      return new SchemaError(
        `"${name}" in ${where} is not a valid name`,
        file.loc([...path, name], true),
        'names start with a letter or _ and contain letters, digits and _',
      );
    }
    default:
      return new SchemaError(
        `${where} ${e.message ?? 'is invalid'}`,
        file.loc(path),
        path[path.length - 1] === 'repeat' ? REPEAT_HINT : undefined,
      );
  }
}

function valueAt(v: unknown, path: Path): unknown {
  for (const p of path) v = (v as Record<string | number, unknown> | undefined)?.[p];
  return v;
}

/** Validate a parsed graph file; returns every schema error, positioned. */
export function checkSchema(file: SourceFile): SchemaError[] {
  const validate = validator();
  if (validate(file.value)) return [];
  const errs = (validate.errors ?? []).filter(
    (e) => e.keyword !== 'if' && e.keyword !== 'oneOf' && e.keyword !== 'allOf',
  );
  // A oneOf failure reports one error per branch; keep the first error per position and keyword.
  const seen = new Set<string>();
  const out: SchemaError[] = [];
  for (const e of errs) {
    if (e.propertyName !== undefined && e.keyword === 'pattern') continue; // reported as propertyNames
    const k = e.instancePath + '|' + e.keyword + '|' + JSON.stringify(e.params);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(toError(file, e));
  }
  // Several alternatives failing at one position say the same thing: keep the first per position.
  const byPos = new Map<string, SchemaError>();
  for (const e of out) {
    const k = `${e.line}:${e.col}:${e.message.startsWith('unknown key') ? e.message : ''}`;
    if (!byPos.has(k)) byPos.set(k, e);
  }
  return [...byPos.values()];
}
