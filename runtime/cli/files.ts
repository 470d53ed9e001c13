// Writing output files safely (Node only): atomic writes (a temporary file beside the
// target, then rename, so a crash never leaves half a checkpoint or SVG) and an early check
// that a path can be written, so `--plot` or `--save` fail before training, not after it.

import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  readdirSync,
  readSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { safetensorsHead, ToolError } from '../index.js';

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

/** Throw a ToolError unless `path` can be created or replaced (tries a temporary file beside it). */
export function ensureWritable(path: string, what: string): void {
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    /* does not exist yet: fine, if its folder takes a new file */
  }
  if (st?.isDirectory()) throw new ToolError(`cannot write ${what} "${path}": it is a directory`);
  const tmp = tempPath(path);
  try {
    closeSync(openSync(tmp, 'wx'));
  } catch (e) {
    throw new ToolError(`cannot write ${what} "${path}": ${reason(e)}`, 'check that the folder exists and is writable');
  }
  unlinkSync(tmp);
}

/**
 * Remove the temporary files of earlier writes to `path` whose process is gone (a `kill -9`
 * during a save leaves `.NAME.PID.XXXX.tmp`, up to a whole checkpoint's size). A process that
 * still runs (or that we may not signal) keeps its file.
 */
export function removeStaleTemps(path: string): number {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const m = /^(\d+)\.[0-9a-z]+\.tmp$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || alive(pid)) continue;
    const p = join(dir, name);
    try {
      if (!lstatSync(p).isFile()) continue;
      unlinkSync(p);
      removed++;
    } catch {
      /* gone already, or not ours to remove */
    }
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** Write `data` to `path` atomically: a temporary file, fsync, then rename over the target. */
export function writeFileAtomic(path: string, data: Uint8Array | string, what = 'file'): void {
  removeStaleTemps(path);
  const tmp = tempPath(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw new ToolError(`cannot write ${what} "${path}": ${reason(e)}`);
  }
}

/** The bytes of a file the user named; a ToolError when it cannot be read. */
export function readFileBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ToolError(`cannot read ${what} "${path}": ${reason(e)}`);
  }
}

/**
 * A checkpoint the user named: a regular file (a FIFO or /dev/stdin is refused without waiting),
 * its 8-byte length and header read and checked first, then the rest only when the file's size
 * is what the header describes (a 1.5 GB file of anything costs no 1.5 GB read).
 */
export function readCheckpointFile(path: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ToolError(`cannot read checkpoint "${path}": it is not a regular file`);
    const size = st.size;
    const readInto = (buf: Uint8Array, from: number) => {
      let n = from;
      for (let k = 1; k > 0 && n < buf.length; n += k) k = readSync(fd!, buf, n, buf.length - n, n);
      return n;
    };
    const first = new Uint8Array(Math.min(size, 8));
    readInto(first, 0);
    let head = safetensorsHead(first, size, path);
    let bytes = first;
    if (head.total === undefined) {
      bytes = new Uint8Array(head.headBytes);
      bytes.set(first);
      readInto(bytes, first.length);
      head = safetensorsHead(bytes, size, path);
    }
    if (head.total !== undefined && size > head.total)
      throw new ToolError(
        `cannot read checkpoint "${path}": it holds ${size - head.total} bytes after the data its header describes: damaged or not a safetensors file`,
      );
    const all = new Uint8Array(size);
    all.set(bytes);
    if (readInto(all, bytes.length) !== size)
      throw new ToolError(`cannot read checkpoint "${path}": it changed while being read`);
    return all;
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw new ToolError(`cannot read checkpoint "${path}": ${reason(e)}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function reason(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'EISDIR':
      return 'it is a directory';
    case 'EROFS':
      return 'read-only file system';
    default:
      return (e as Error).message;
  }
}
