// How graph-run reads files: one small interface, so the loader and the data readers run
// unchanged in Node (node-io.ts) and in a browser (browser-io.ts, files held in memory).

/** File access: Node's fs by default, anything else in a browser. */
export interface LoaderIO {
  /** The text of a file; throws when it cannot be read. */
  read(path: string): string;
  /** The path `spec` names when written in the file `from` (relative paths, `std:`). */
  resolve(from: string, spec: string): string;
}
