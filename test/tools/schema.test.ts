// Editor support: every field of the shipped JSON Schema carries a description and examples
// (what the YAML language server shows on hover and offers on completion), every example is
// valid where it stands, node `op` completion lists every op, every example graph names the
// schema on its first line, and the npm package ships the schema.

import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import Ajv from 'ajv';
import { userOpNames } from '../../runtime/index.js';

const schema = JSON.parse(readFileSync('schemas/graph.schema.json', 'utf8')) as Record<string, unknown>;
type S = Record<string, unknown>;

function at(pointer: string): S {
  let n: unknown = schema;
  for (const k of pointer.split('/').slice(1)) n = (n as S)[k.replace(/~1/g, '/').replace(/~0/g, '~')];
  return n as S;
}

/** Every field: each entry of a `properties` object, outside `if` (a condition, not a field). */
function fields(
  node: unknown,
  pointer: string,
  out: { pointer: string; schema: S }[] = [],
): { pointer: string; schema: S }[] {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return out;
  for (const [k, v] of Object.entries(node as S)) {
    if (k === 'if' || k === 'examples' || k === 'default' || k === 'const' || k === 'enum') continue;
    const p = `${pointer}/${k}`;
    if (k === 'properties' && v && typeof v === 'object') {
      for (const [name, sub] of Object.entries(v as S)) out.push({ pointer: `${p}/${name}`, schema: sub as S });
    }
    fields(v, p, out);
  }
  return out;
}

/** A field's own value of `key`, or its $ref target's. */
function doc(s: S, key: 'description' | 'examples'): unknown {
  if (s[key] !== undefined) return s[key];
  if (typeof s.$ref === 'string') return doc(at(s.$ref.slice(1)), key);
  return undefined;
}

describe('schemas/graph.schema.json', () => {
  const all = fields(schema, '');

  it('gives every field a description and examples', () => {
    expect(all.length).toBeGreaterThan(80);
    const missing = all.filter(
      (f) =>
        typeof doc(f.schema, 'description') !== 'string' ||
        !Array.isArray(doc(f.schema, 'examples')) ||
        !(doc(f.schema, 'examples') as unknown[]).length,
    );
    expect(missing.map((f) => f.pointer)).toEqual([]);
  });

  it('every example is valid where it stands', () => {
    const ajv = new Ajv.default({ strict: false, allErrors: true });
    ajv.addSchema(schema, 'graph');
    const bad: string[] = [];
    for (const f of all) {
      const examples = doc(f.schema, 'examples') as unknown[];
      const validate = ajv.compile({ $ref: `graph#${f.pointer}` });
      for (const e of examples)
        if (!validate(e)) bad.push(`${f.pointer}: ${JSON.stringify(e)}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(bad).toEqual([]);
  });

  it("offers every op for a node's `op` (completion), and only ops", () => {
    const op = at('/definitions/node/else/properties/op');
    // A new op needs its name here too (sorted as userOpNames), so editors complete it.
    expect(
      op.examples,
      'schemas/graph.schema.json definitions.node.else.properties.op.examples should list userOpNames',
    ).toEqual([...userOpNames]);
  });

  it('has the $id the docs point editors at', () => {
    expect(schema.$id).toBe('https://graph-run.dev/schemas/graph.schema.json');
  });
});

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(e) ? [p] : [];
  });
}

describe('example graphs', () => {
  for (const file of yamlFiles('graphs')) {
    it(`${file} names the schema on its first line`, () => {
      const first = readFileSync(file, 'utf8').split('\n')[0]!;
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
      expect(m, first).not.toBeNull();
      expect(resolve(dirname(file), m![1]!)).toBe(resolve('schemas/graph.schema.json'));
    });
  }
});

describe('the npm package', () => {
  it('ships the schema and exports it as graph-run/schemas/graph.schema.json', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      files: string[];
      exports: Record<string, unknown>;
    };
    expect(pkg.exports['./schemas/*']).toBe('./schemas/*');
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as { files: { path: string }[] }[];
    expect(packed[0]!.files.map((f) => f.path)).toContain('schemas/graph.schema.json');
  });
});
