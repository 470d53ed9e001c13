// Running the real executable, `node bin/graph-run.js` (the compiled CLI in dist/), from test/cli:
// dist/ is rebuilt first when a runtime source is newer (after `npm run build` nothing is).

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const compiled = 'dist/runtime/cli/main.js';

function newest(dir: string, ext: RegExp): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, ext));
    else if (ext.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Build dist/ unless it is newer than every runtime source (for beforeAll). */
export function ensureBuilt(): void {
  const sources = Math.max(newest('runtime', /\.ts$/), newest('schemas', /\.json$/));
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= sources) return;
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'pipe' });
  } catch (e) {
    // Type errors still emit JavaScript; the tests then say whether it runs.
    if (!existsSync(compiled)) throw new Error(`could not build dist/: ${String((e as { stdout?: Buffer }).stdout)}`);
  }
}

/** `node bin/graph-run.js ...args` with extra environment variables: its exit code and output. */
export function graphRun(
  args: string[],
  env: Record<string, string> = {},
  timeout = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/graph-run.js', ...args],
      // A --json run prints every parameter: a model's can pass execFile's 1 MiB default.
      { timeout, env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
      },
    );
  });
}
