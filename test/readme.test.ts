// The README's library example runs: the first ```ts block under "## Library" is written to
// a temporary file with its `from 'graph-run'` imports pointed at runtime/index.ts, and run
// with tsx from the repository root (the example's relative paths start there).

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The first ```ts block in the section headed `## Library` (up to the next `## ` heading). */
function libraryExample(markdown: string): string | undefined {
  const start = markdown.search(/^## Library\s*$/m);
  if (start < 0) return undefined;
  const rest = markdown.slice(start).replace(/^## Library\s*$/m, '');
  const next = rest.search(/^## /m);
  const section = next < 0 ? rest : rest.slice(0, next);
  return /^```(?:ts|typescript)\s*\n([\s\S]*?)^```\s*$/m.exec(section)?.[1];
}

describe('README', () => {
  it('finds the ts block of the Library section only', () => {
    const md =
      '# x\n```ts\nnot this\n```\n## Library\ntext\n```js\nnor this\n```\n```ts\nthis();\n```\n## Next\n```ts\nnot\n```\n';
    expect(libraryExample(md)).toBe('this();\n');
    expect(libraryExample('## Library\nno code\n## Next\n```ts\nx\n```\n')).toBeUndefined();
  });

  it('the Library example runs against the runtime source', async () => {
    const code = libraryExample(readFileSync('README.md', 'utf8'));
    expect(code, 'README.md needs a ```ts block under "## Library"').toBeTruthy();
    expect(code).toMatch(/from ['"]graph-run['"]/);
    const entry = pathToFileURL(resolve('runtime/index.ts')).href;
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-readme-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, code!.replace(/from ['"]graph-run['"]/g, `from '${entry}'`));
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, ['--import', 'tsx', file], { timeout: 60_000 }, (err, stdout, stderr) => {
          done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
        });
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
