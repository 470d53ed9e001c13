// The CLI is a thin layer over the library: every file in runtime/cli/ imports only the
// package entry (../index.js), its sibling CLI files, Node built-ins and commander. Anything
// else it needs belongs in the library's public API first (runtime/index.ts).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = 'runtime/cli';
const allowed = (spec: string) =>
  spec === '../index.js' || spec === 'commander' || spec.startsWith('node:') || /^\.\/[\w-]+\.js$/.test(spec);

/** Every module specifier in `import ... from`, `export ... from`, `import('...')` and bare `import '...'`. */
function specifiers(text: string): string[] {
  // Not a quoted word, and a specifier has no spaces: the command name 'import' in a string is no import.
  const re = /(?<!['"])\b(?:from|import)\s*\(?\s*['"]([^'"\s]+)['"]/g;
  return [...text.matchAll(re)].map((m) => m[1]!);
}

describe('runtime/cli imports only the package entry', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  it('has CLI files to check', () => {
    expect(files).toContain('main.ts');
  });
  for (const f of files) {
    it(`${f}: only ../index.js, ./*.js, node:* and commander`, () => {
      const text = readFileSync(join(dir, f), 'utf8');
      const bad = specifiers(text).filter((s) => !allowed(s));
      expect(bad, `${dir}/${f} imports ${bad.join(', ')}`).toEqual([]);
    });
    it(`${f}: under 400 lines`, () => {
      expect(readFileSync(join(dir, f), 'utf8').split('\n').length).toBeLessThanOrEqual(400);
    });
  }
  it('the checker itself catches an import of an internal module', () => {
    expect(specifiers("import { feedValues } from '../train/data.js';").filter((s) => !allowed(s))).toEqual([
      '../train/data.js',
    ]);
    expect(specifiers("const m = await import('../session.js');").filter((s) => !allowed(s))).toEqual([
      '../session.js',
    ]);
  });
});
