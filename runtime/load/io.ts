// How graph-run reads files: one small interface, so the loader and the data readers run
// unchanged in Node (node-io.ts) and in a browser (browser-io.ts, files held in memory).
// A graph file is untrusted input (it may come from anyone): node-io.ts contains what it may
// read (docs/format.md, "Files a graph may read"); a refusal is a FileRefused, whose reason the
// loader and the data readers print after "cannot read ...".

/** File access: Node's fs by default, anything else in a browser. */
export interface LoaderIO {
  /** The text of a file; throws when it cannot be read (a FileRefused when it may not be). */
  read(path: string): string;
  /** The bytes of a binary file (safetensors initial values), under the same rules as `read`; absent: none can be read. */
  readBytes?(path: string): Uint8Array;
  /** The path `spec` names when written in the file `from` (relative paths, `std:`). */
  resolve(from: string, spec: string): string;
  /**
   * Trust the folder tree of a top-level graph file the user named: the files it references
   * may lie under it. Called by the resolve stage before the top-level file is read.
   */
  allow?(path: string): void;
  /**
   * A data file opened for reading in parts (binary arrays, text streamed in chunks): its size
   * first, so a reader checks what a header claims before allocating. Optional: without it, data
   * files are read whole as text with `read`.
   */
  open?(path: string): DataFile;
  /**
   * Told how far the reading of a data file streamed in parts has got: `bytes` of `total`, as
   * each part is read, and once more with `done` when the reader stops (read through, or not).
   * For a progress line (the CLI draws one when loading takes over a second); optional.
   */
  progress?(path: string, bytes: number, total: number, done: boolean): void;
  /**
   * gzip data inflated natively (Node's zlib: several times faster than the JavaScript
   * inflater), at most `size` bytes (the trailer's claim, checked beforehand against what
   * deflate can produce); throws on data that is not valid gzip. Optional: without it the data
   * stage inflates with fflate (as in a browser).
   */
  gunzip?(data: Uint8Array, size: number): Uint8Array;
}

/** An open data file: its size, and reads of byte ranges into a caller's buffer. */
export interface DataFile {
  readonly size: number;
  /** Read up to `into.length` bytes at `position` into `into`; returns the bytes read (0 at the end). */
  read(into: Uint8Array, position: number): number;
  close(): void;
}

/** A DataFile over bytes in memory. */
export function memoryFile(bytes: Uint8Array): DataFile {
  return {
    size: bytes.length,
    read: (into, position) => {
      const part = bytes.subarray(position, position + into.length);
      into.set(part);
      return part.length;
    },
    close: () => {},
  };
}

/** A file the containment rule or the limits refuse to read; `reason` says which. */
export class FileRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'FileRefused';
  }
}

/** Largest file parsed as YAML (graph files, JSON data and initial values): YAML costs ~4 s and 250 MB per MB. */
export const MAX_YAML_BYTES = 2 * 1024 * 1024;
/** Largest CSV initial-value file (or data file, with a LoaderIO that has no `open`), read whole. */
export const MAX_DATA_BYTES = 64 * 1024 * 1024;
/**
 * Largest data file read through `open` (binary arrays; CSV and JSON streamed in chunks): these
 * readers hold the values, not the text, so the bound is the memory of the arrays themselves.
 */
export const MAX_STREAM_BYTES = 16 * 1024 * 1024 * 1024;
/** Characters of a file's content an error message quotes before cutting it short. */
export const EXCERPT_CHARS = 40;

/** A value quoted in an error message, cut to a short excerpt (a data file may hold anything). */
export function excerpt(s: string, n = EXCERPT_CHARS): string {
  const one = s.replace(/[\r\n\t]/g, ' ');
  return one.length > n ? `${one.slice(0, n)}…` : one;
}

/** ": why" after a "cannot read" message when the file was refused, else nothing (a missing file). */
export function refusal(e: unknown): string {
  return e instanceof FileRefused ? `: ${e.reason}` : '';
}

/** The hint for a file that could not be read. */
export function readHint(e: unknown, plain: string): string {
  return e instanceof FileRefused && e.reason.startsWith('it lies outside')
    ? "a graph reads files under its own folder, the working directory, graph-run's library (std:) and folders named with --data-root (the roots option)"
    : plain;
}
