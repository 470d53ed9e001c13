// The playground's own completion from the schema (playground/schema-complete.ts), where
// codemirror-json-schema's YAML mode offers nothing: keys on an empty indented line, values of a
// $ref'd enum. Pure functions over the published schema; the browser test drives the editor.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { completeAt, pathAt, type SchemaNode } from '../../playground/schema-complete.js';

const schema = JSON.parse(readFileSync('schemas/graph.schema.json', 'utf8')) as SchemaNode;
const gender = readFileSync('graphs/gender.yaml', 'utf8');

/** Completions where `|` stands in `text`. */
function at(text: string): string[] | null {
  const pos = text.indexOf('|');
  const r = completeAt(schema, text.slice(0, pos) + text.slice(pos + 1), pos);
  return r ? r.options.map((o) => o.label) : null;
}

describe('completion from the schema in block YAML', () => {
  it('follows the indentation to the path of a line', () => {
    const lines = ['nodes:', '  - name: a', '    op: b', '    ', 'training:', '  data:', '    x: [1]', '  '];
    expect(pathAt(lines, 3, 4)).toEqual(['nodes', '[]']);
    expect(pathAt(lines, 7, 2)).toEqual(['training']);
    expect(pathAt(['nodes:', '- name: a', '  '], 2, 2)).toEqual(['nodes', '[]']);
    expect(pathAt(['a: {b: 1}', '  '], 1, 2)).toBeNull(); // a flow mapping: not followed
  });

  it('offers the keys a mapping may still take, with the schema description', () => {
    const keys = at(gender.replace('  epochs: 1000\n', '  epochs: 1000\n  |\n'))!;
    expect(keys).toContain('shuffle');
    expect(keys).not.toContain('epochs'); // already there
    expect(keys).not.toContain('data');
    const top = at(`${gender}|`)!;
    expect(top).toContain('device');
    expect(top).not.toContain('nodes');
    const r = completeAt(schema, 'graph-run: 1\n', 'graph-run: 1\n'.length)!;
    expect(r.options.find((o) => o.label === 'seed')).toMatchObject({ apply: 'seed: ', detail: 'integer' });
    expect(r.options.find((o) => o.label === 'seed')!.info).toMatch(/Seed of every random choice/);
  });

  it('offers the keys of a sequence item, on its first line and below it', () => {
    expect(at('nodes:\n  - name: a\n    |')).toEqual(expect.arrayContaining(['op', 'inputs', 'attrs']));
    expect(at('nodes:\n  - name: a\n    |')).not.toContain('name');
    expect(at('nodes:\n  - |')).toEqual(expect.arrayContaining(['name', 'op']));
  });

  it("offers a value's choices through a $ref: dtype, and booleans", () => {
    expect(at('inputs:\n  q:\n    shape: [2]\n    dtype: |')).toEqual(['float', 'f32', 'f64', 'i32']);
    expect(at('inputs:\n  q:\n    dtype: f|')).toEqual(['float', 'f32', 'f64', 'i32']);
    expect(at('training:\n  shuffle: |')).toEqual(['true', 'false']);
  });

  it('stays out of flow collections and comments', () => {
    expect(at('nodes:\n  - {name: a, op: |}')).toBeNull();
    expect(at('# a comment |')).toBeNull();
  });
});
