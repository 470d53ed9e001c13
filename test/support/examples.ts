// The example graphs as tests load them. Most read data committed beside them; the MNIST and
// character-model examples read data that `npm run data:mnist` / `npm run data:charlm` write and
// the repository does not hold, so tests load a copy of the graph next to a small slice written
// by the same script (once per process).

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Example graphs whose data the repository does not hold: the slice tests write, and its folder under data/. */
const generated: Record<string, { script: string[]; data: string }> = {
  'mnist_mlp.yaml': { script: ['scripts/data-mnist.ts', '--train', '200', '--test', '50'], data: 'mnist' },
  // 84 training windows of 64 characters (3 batches of 32) and 9 held out.
  'mnist_cnn.yaml': { script: ['scripts/data-mnist.ts', '--train', '200', '--test', '50'], data: 'mnist' },
  'charlm.yaml': { script: ['scripts/data-charlm.ts', '--chars', '6000'], data: 'charlm' },
};

/** The arguments of the script writing `file`'s slice (a path under graphs/), without --out; undefined when its data is committed. */
export function exampleSlice(file: string): { script: string[]; data: string } | undefined {
  return generated[basename(file)];
}

let dir: string | undefined;

/** The path a test loads for the example graph `file` (a path under graphs/). */
export function exampleGraph(file: string): string {
  const slice = generated[basename(file)];
  if (!slice) return file;
  dir ??= mkdtempSync(join(tmpdir(), 'graph-run-examples-'));
  const copy = join(dir, basename(file));
  execFileSync(join('node_modules', '.bin', 'tsx'), [...slice.script, '--out', join(dir, 'data', slice.data)], {
    stdio: 'pipe',
  });
  copyFileSync(file, copy);
  return copy;
}
