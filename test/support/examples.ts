// The example graphs as tests load them. Most read data committed beside them; the MNIST
// example reads digits that `npm run data:mnist` writes and the repository does not hold, so
// tests load a copy of it next to a small slice written by the same script (once per process).

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Example graphs whose data the repository does not hold, and the slice of it tests write. */
const generated: Record<string, string[]> = {
  'mnist_mlp.yaml': ['scripts/data-mnist.ts', '--train', '200', '--test', '50'],
  'mnist_cnn.yaml': ['scripts/data-mnist.ts', '--train', '200', '--test', '50'],
};

let dir: string | undefined;

/** The path a test loads for the example graph `file` (a path under graphs/). */
export function exampleGraph(file: string): string {
  const script = generated[basename(file)];
  if (!script) return file;
  dir ??= mkdtempSync(join(tmpdir(), 'graph-run-examples-'));
  const copy = join(dir, basename(file));
  execFileSync(join('node_modules', '.bin', 'tsx'), [...script, '--out', join(dir, 'data', 'mnist')], {
    stdio: 'pipe',
  });
  copyFileSync(file, copy);
  return copy;
}
