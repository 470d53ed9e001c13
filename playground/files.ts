// Files between the playground and the disk: files dropped on the page (or picked) are sorted
// by kind — a graph (YAML) opens in the editor, a data file (CSV, JSON, .npy, .npz, IDX) becomes readable by
// its name next to the graph (so `file: people.csv` finds it), a safetensors file is a
// checkpoint to load — and checkpoints go back to the disk as downloads. Dropped files are
// untrusted: sizes are checked against the library's limits before a byte is read.

import { MAX_DATA_BYTES, MAX_YAML_BYTES } from '../runtime/index.js';

/** Largest checkpoint read (the safetensors decoder checks the header and offsets itself). */
export const MAX_CHECKPOINT_BYTES = 1024 * 1024 * 1024;

export type Dropped =
  | { kind: 'graph'; name: string; text: string }
  | { kind: 'data'; name: string; text: string | Uint8Array }
  | { kind: 'checkpoint'; name: string; bytes: Uint8Array }
  | { kind: 'refused'; name: string; why: string };

const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(n < 1024 * 1024 ? 2 : 0)} MB`;

/** What a dropped file is, by its name; then its content, if its size is within the limit. */
export async function readDropped(file: File): Promise<Dropped> {
  // Only the last part of the name: a dropped file never names a folder.
  const name = file.name.split(/[\\/]/).pop() ?? file.name;
  const big = (limit: number, what: string): Dropped => ({
    kind: 'refused',
    name,
    why: `${name} is ${mb(file.size)}, over the ${mb(limit)} limit for ${what}`,
  });
  if (/\.ya?ml$/i.test(name)) {
    if (file.size > MAX_YAML_BYTES) return big(MAX_YAML_BYTES, 'a graph file');
    return { kind: 'graph', name, text: await file.text() };
  }
  if (/\.(csv|tsv|json)$/i.test(name)) {
    const limit = /\.json$/i.test(name) ? MAX_YAML_BYTES : MAX_DATA_BYTES;
    if (file.size > limit) return big(limit, 'a data file');
    return { kind: 'data', name, text: await file.text() };
  }
  if (/\.safetensors$/i.test(name)) {
    if (file.size > MAX_CHECKPOINT_BYTES) return big(MAX_CHECKPOINT_BYTES, 'a checkpoint');
    return { kind: 'checkpoint', name, bytes: new Uint8Array(await file.arrayBuffer()) };
  }
  // Binary arrays (.npy, .npz, MNIST's IDX files) stay bytes: the library's readers check them.
  if (/\.(npy|npz)$|-ubyte$|\.idx(\.gz)?$|-ubyte\.gz$/i.test(name)) {
    if (file.size > MAX_DATA_BYTES) return big(MAX_DATA_BYTES, 'a data file');
    return { kind: 'data', name, text: new Uint8Array(await file.arrayBuffer()) };
  }
  return {
    kind: 'refused',
    name,
    why: `${name}: drop a graph (.yaml), a data file (.csv, .json, .npy, .npz, IDX) or a checkpoint (.safetensors)`,
  };
}

/** Offer `bytes` as a download named `name`. */
export function download(bytes: Uint8Array, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  // After the click has started the download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Call `take` with every file dropped anywhere on the page; `over` toggles while a drag is over it. */
export function onDrop(take: (files: File[]) => void, over: (on: boolean) => void): void {
  let depth = 0;
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (depth++ === 0) over(true);
  });
  window.addEventListener('dragleave', () => {
    if (depth > 0 && --depth === 0) over(false);
  });
  window.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault(); // allow the drop
  });
  // Capturing, before the editor sees it: CodeMirror would paste a dropped file's text.
  window.addEventListener(
    'drop',
    (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      depth = 0;
      over(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length) take(files);
    },
    { capture: true },
  );
}
