// The generated API reference (docs/reference/api.md, `npm run docs:api`): TypeDoc's model of
// runtime/index.ts rendered again must equal the checked-in file, every export must have a doc
// comment, the main entry points must carry a runnable example, and every example that imports
// from 'graph-run' runs (as a user's module, against the runtime source, from the repository
// root, in one child process: nothing on stderr, exit 0).

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ProjectReflection } from 'typedoc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allExamples, convert, REFERENCE, render, undocumented } from '../../scripts/api-docs.js';

/** The entry points a new user starts from: each needs an example that runs as written. */
const MAIN = [
  'loadGraph',
  'parseGraph',
  'compile',
  'predict',
  'Session.create',
  'exportOnnx',
  'checkpointBytes',
  'restoreCheckpoint',
  'renderSvg',
  'graphSvg',
];

const runnable = (code: string) => /from ['"]graph-run['"]/.test(code);

let project: ProjectReflection;
const dir = mkdtempSync(join(tmpdir(), 'graph-run-examples-'));
beforeAll(async () => {
  project = await convert();
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the API reference', () => {
  it(`${REFERENCE} is up to date (npm run docs:api)`, () => {
    expect(render(project) === readFileSync(REFERENCE, 'utf8'), `${REFERENCE} is stale: run npm run docs:api`).toBe(
      true,
    );
  });

  it('every export of the package root has a doc comment', () => {
    expect(undocumented(project)).toEqual([]);
  });

  it('the main entry points each have an example that imports graph-run', () => {
    const examples = allExamples(project);
    for (const name of MAIN) {
      expect(
        examples.some((e) => e.name === name && runnable(e.code)),
        `${name} needs a runnable @example`,
      ).toBe(true);
    }
  });

  it('every runnable example runs', async () => {
    const examples = allExamples(project).filter((e) => runnable(e.code));
    const entry = pathToFileURL(resolve('runtime/index.ts')).href;
    const files = examples.map((e, i) => {
      const file = join(dir, `example-${i}.mts`);
      writeFileSync(file, `${e.code.replace(/from ['"]graph-run['"]/g, `from '${entry}'`)}\nexport {};\n`);
      return { name: e.name, url: pathToFileURL(file).href };
    });
    // One process for all: each example is imported in turn, a failure names its export.
    const runner = join(dir, 'run.mts');
    writeFileSync(
      runner,
      `for (const [name, url] of ${JSON.stringify(files.map((f) => [f.name, f.url]))}) {
  try { await import(url); } catch (e) { console.error(\`example of \${name} failed: \${(e as Error).stack}\`); process.exitCode = 1; }
}\n`,
    );
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      execFile(process.execPath, ['--import', 'tsx', runner], { timeout: 240_000 }, (err, stdout, stderr) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(files.length).toBeGreaterThanOrEqual(MAIN.length);
  }, 300_000);
});
