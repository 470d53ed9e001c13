// Graph files from Node's file system: paths relative to the file that uses them, `std:` for
// graph-run's own graphs/lib. The loader itself is IO-agnostic (it takes a LoaderIO); this is
// the default in Node. The browser build swaps this module for browser-io.ts.

import { readFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoaderIO } from './io.js';

/** graph-run's own graphs/lib (for `std:` paths), found from this module's location. */
export function stdLibDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'graphs', 'lib')) && existsSync(join(dir, 'package.json')))
      return join(dir, 'graphs', 'lib');
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'graphs', 'lib');
}

/** File access for Node: paths relative to the using file; `std:` is graph-run's graphs/lib. */
export function nodeIO(): LoaderIO {
  const std = stdLibDir();
  const cwd = process.cwd();
  const show = (p: string) => {
    const r = relative(cwd, p);
    return r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  return {
    read: (p) => readFileSync(p, 'utf8'),
    resolve: (from, spec) =>
      spec.startsWith('std:') ? show(join(std, spec.slice(4))) : show(resolvePath(dirname(from), spec)),
  };
}
