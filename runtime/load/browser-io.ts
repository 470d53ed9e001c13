// Graph files without a file system (the browser build puts this module in node-io.ts's
// place): an in-memory LoaderIO. graph-run's own graphs/lib is built in (the bundler defines
// __GRAPH_RUN_STDLIB__), so `std:` paths resolve in a browser with no setup; other files are
// whatever the caller hands to memoryIO.

import { type LoaderIO, memoryFile } from './io.js';

declare const __GRAPH_RUN_STDLIB__: Record<string, string> | undefined;

/** graph-run's graphs/lib, by path under it ("losses/mse.yaml"), where the bundle carries it. */
export function stdLib(): Record<string, string> {
  return typeof __GRAPH_RUN_STDLIB__ === 'undefined' ? {} : __GRAPH_RUN_STDLIB__;
}

/** Join and normalise POSIX-style paths ("a/b/../c" -> "a/c"); a `std:` prefix is kept. */
export function joinPath(dir: string, rel: string): string {
  const std = dir.startsWith('std:') ? 'std:' : '';
  const parts: string[] = [];
  for (const p of `${dir.slice(std.length)}/${rel}`.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..' && parts.length && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(p);
  }
  return std + parts.join('/');
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? (p.startsWith('std:') ? 'std:' : '.') : p.slice(0, i);
}

/**
 * A LoaderIO over files held in memory (path -> text, or bytes for binary data files such as
 * .npy), with `std:` from the built-in library.
 * @example parseGraph(text, 'net.yaml', memoryIO({ 'layers/block.yaml': blockText }))
 */
export function memoryIO(files: Record<string, string | Uint8Array> = {}): LoaderIO {
  const std = stdLib();
  const get = (p: string): string | Uint8Array => {
    const t = p.startsWith('std:') ? std[p.slice(4)] : (files[p] ?? files[joinPath('.', p)]);
    if (t === undefined) throw new Error(`no file "${p}" in memory`);
    return t;
  };
  return {
    read: (p) => {
      const t = get(p);
      return typeof t === 'string' ? t : new TextDecoder().decode(t);
    },
    open: (p) => {
      const t = get(p);
      return memoryFile(typeof t === 'string' ? new TextEncoder().encode(t) : t);
    },
    resolve: (from, spec) =>
      spec.startsWith('std:') ? 'std:' + joinPath('', spec.slice(4)) : joinPath(dirOf(from), spec),
  };
}

/** The browser's default LoaderIO (node-io.ts's nodeIO in Node): graph-run's library only. */
export function nodeIO(_opts: { roots?: string[] } = {}): LoaderIO {
  return memoryIO();
}

/** Where `std:` paths live: inside the bundle. */
export function stdLibDir(): string {
  return 'std:';
}
