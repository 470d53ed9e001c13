// Reading a data file's bytes: whole ranges through a DataFile, with the checks every binary
// reader makes (a header's claim against the file's size before allocating), and the errors.

import type { DataFile, LoaderIO } from '../load/io.js';

/** A problem with a binary file (the caller positions it at the graph's `file:`). */
export class BinaryError extends Error {}

/** The file through the IO's `open`, or its text as bytes when the IO has none. */
export function openData(io: LoaderIO, path: string): DataFile {
  if (io.open) return io.open(path);
  const bytes = new TextEncoder().encode(io.read(path));
  return { size: bytes.length, read: (into, pos) => copyInto(bytes, into, pos), close: () => {} };
}

/** Reports bytes read of a data file through the IO's `progress` (a no-op without one). */
export type Progress = (bytes: number, done?: boolean) => void;

export function progressOf(io: LoaderIO, path: string, total: number): Progress {
  const p = io.progress;
  if (!p) return () => {};
  // The file is open: loading starts now (the listener times from here).
  p.call(io, path, 0, total, false);
  let last = 0;
  return (bytes, done = false) => {
    last = Math.max(last, Math.min(bytes, total));
    p.call(io, path, last, total, done);
  };
}

function copyInto(bytes: Uint8Array, into: Uint8Array, pos: number): number {
  const part = bytes.subarray(pos, pos + into.length);
  into.set(part);
  return part.length;
}

/** Exactly `n` bytes at `pos` (fewer only at the file's end). */
export function readAt(f: DataFile, pos: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = f.read(out.subarray(got), pos + got);
    if (k <= 0) break;
    got += k;
  }
  return got === n ? out : out.subarray(0, got);
}

export function readExactly(f: DataFile, pos: number, n: number, what: string): Uint8Array {
  const b = readAt(f, pos, n);
  if (b.length !== n) throw new BinaryError(`${what}: the file ended early (it changed while being read)`);
  return b;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

/** Check that `need` bytes from `offset` lie within a file of `size` bytes. */
export function fits(size: number, offset: number, need: number, claim: string): void {
  if (offset + need > size)
    throw new BinaryError(
      `${claim} needs ${plural(need, 'byte')} of data, the file holds ${plural(Math.max(0, size - offset), 'byte')} after its header (truncated?)`,
    );
}

/** The array a spec names is not in the file. */
export class MissingArray extends BinaryError {
  constructor(readonly array: string) {
    super(`it has no array "${array}"`);
  }
}

/** An error opening or reading a file (the file system's, a refusal, a missing in-memory file), not a bug. */
export const ioError = (e: unknown): boolean =>
  e instanceof Error && ('code' in e || e.name === 'FileRefused' || /^no file /.test(e.message));
