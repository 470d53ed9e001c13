// Graph files from Node's file system: paths relative to the file that uses them, `std:` for
// graph-run's own graphs/lib. The loader itself is IO-agnostic (it takes a LoaderIO); this is
// the default in Node. The browser build swaps this module for browser-io.ts.
//
// A graph may come from anyone, so what it may read is contained (docs/format.md): a file must
// resolve (symbolic links followed) inside the top-level graph's folder tree, the working
// directory's tree, the standard library or a root the user names; no hidden file or folder
// below that root; only regular files (no FIFO, device or /dev/stdin), no larger than a limit
// checked before reading.

import { closeSync, constants, existsSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, parse, relative, resolve as resolvePath, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { type DataFile, FileRefused, type LoaderIO, MAX_DATA_BYTES, MAX_STREAM_BYTES, MAX_YAML_BYTES } from './io.js';

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

export interface NodeIOOptions {
  /** Further folders whose files a graph may read (the CLI's --data-root). */
  roots?: string[];
  /** Largest file parsed as YAML (.yaml, .yml, .json), in bytes. */
  maxYamlBytes?: number;
  /** Largest other file read whole (CSV initial values), in bytes. */
  maxDataBytes?: number;
  /** Largest data file read in parts (training data: binary arrays, CSV and JSON streamed), in bytes. */
  maxStreamBytes?: number;
}

const real = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return resolvePath(p);
  }
};

const mib = (n: number) => `${(n / 1048576).toFixed(n < 1048576 ? 2 : 0)} MiB`;

/** File access for Node: paths relative to the using file; `std:` is graph-run's graphs/lib. */
export function nodeIO(opts: NodeIOOptions = {}): LoaderIO {
  const std = stdLibDir();
  const cwd = process.cwd();
  // A working directory at the file system's root (a service started from /) would contain
  // everything: it does not count then (the graph's own folder and the named roots still do).
  const here = real(cwd);
  const roots = new Set([...(parse(here).root === here ? [] : [here]), real(std), ...(opts.roots ?? []).map(real)]);
  const show = (p: string) => {
    const r = relative(cwd, p);
    return r.startsWith('..') || isAbsolute(r) ? p : r;
  };
  /** The path below the first root holding `p` without a hidden part; undefined when none does. */
  const contained = (p: string): boolean => {
    for (const root of roots) {
      const r = relative(root, p);
      if (r === '' || r.startsWith(`..${sep}`) || r === '..' || isAbsolute(r)) continue;
      if (!r.split(sep).some((part) => part.startsWith('.'))) return true;
    }
    return false;
  };
  /** A contained regular file, opened, and its size checked against `cap`. */
  const openFile = (p: string, kind: 'yaml' | 'data' | 'stream'): { fd: number; size: number } => {
    const path = realpathSync(resolvePath(p));
    if (!contained(path)) throw new FileRefused('it lies outside the folders a graph may read (or in a hidden folder)');
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new FileRefused('it is not a regular file');
      const cap =
        kind === 'yaml'
          ? (opts.maxYamlBytes ?? MAX_YAML_BYTES)
          : kind === 'data'
            ? (opts.maxDataBytes ?? MAX_DATA_BYTES)
            : (opts.maxStreamBytes ?? MAX_STREAM_BYTES);
      if (st.size > cap)
        throw new FileRefused(
          `it holds ${mib(st.size)}, over the ${mib(cap)} limit for ${kind === 'yaml' ? 'YAML and JSON' : 'data'} files`,
        );
      return { fd, size: st.size };
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  };
  /** A whole file's bytes (YAML and JSON under their own limit, other files under the data limit). */
  const readBuffer = (p: string): Buffer => {
    const { fd, size } = openFile(p, /\.(ya?ml|json)$/i.test(p) ? 'yaml' : 'data');
    const st = { size };
    try {
      // Read at most the size stat gave (plus one byte, to see a file growing past it).
      const buf = Buffer.alloc(st.size + 1);
      let n = 0;
      for (let k = 1; k > 0 && n < buf.length; n += k) k = readSync(fd, buf, n, buf.length - n, null);
      if (n > st.size) throw new FileRefused('it grew while being read');
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  };
  const open = (p: string): DataFile => {
    const { fd, size } = openFile(p, 'stream');
    let closed = false;
    return {
      size,
      read: (into, position) => readSync(fd, into, 0, into.length, position),
      close: () => {
        if (!closed) closeSync(fd);
        closed = true;
      },
    };
  };
  return {
    read: (p) => readBuffer(p).toString('utf8'),
    readBytes: readBuffer,
    open,
    gunzip: (data, size) => {
      const out = gunzipSync(data, { maxOutputLength: Math.max(1, size) });
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    },
    // A `std:` path stays inside the library: `..` stops at its top, as in a URL.
    resolve: (from, spec) =>
      spec.startsWith('std:')
        ? show(join(std, normalize(`/${spec.slice(4)}`)))
        : show(resolvePath(dirname(from), spec)),
    allow: (p) => {
      roots.add(real(dirname(resolvePath(p))));
    },
  };
}
