// docs/api.md's example of training on arrays runs: the first ```ts block under "## Training on
// arrays" is written to a temporary file with its `from 'graph-run'` imports pointed at
// runtime/index.ts, and run with tsx from the repository root; it throws if the model did not learn.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The first ```ts block in the section headed `## <heading>` (up to the next `## ` heading). */
function example(markdown: string, heading: string): string | undefined {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) return undefined;
  const rest = markdown.slice(start + heading.length + 5);
  const next = rest.search(/^## /m);
  const section = next < 0 ? rest : rest.slice(0, next);
  return /^```ts\s*\n([\s\S]*?)^```\s*$/m.exec(section)?.[1];
}

describe('docs/api.md', () => {
  it('the "Training on arrays" example runs and learns', { timeout: 120_000 }, async () => {
    const code = example(readFileSync('docs/api.md', 'utf8'), 'Training on arrays');
    expect(code, 'docs/api.md needs a ```ts block under "## Training on arrays"').toBeTruthy();
    const entry = pathToFileURL(resolve('runtime/index.ts')).href;
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-api-doc-'));
    try {
      const file = join(dir, 'example.ts');
      writeFileSync(file, code!.replace(/from ['"]graph-run['"]/g, `from '${entry}'`));
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, ['--import', 'tsx', file], { timeout: 100_000 }, (err, stdout, stderr) => {
          done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
        });
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.slice(0, 4).map((l) => l.replace(/:.*/, ''))).toEqual([
        'epoch 0',
        'epoch 50',
        'epoch 100',
        'epoch 150',
      ]);
      expect(lines[4]).toBe("[ 2, 1 ] [ '2.50', '-0.50' ]");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
