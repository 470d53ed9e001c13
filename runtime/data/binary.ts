// Binary array files: .npy, .npz (stored or deflated members), safetensors and MNIST's IDX
// (gzipped or not). Each reader reads the header first and checks that the file holds what it
// claims before allocating; the data is then read once into a buffer the typed array views
// (elements.ts), so a float array in the program's dtype is used without a copy.

import { Gunzip, gunzipSync, inflateSync } from 'fflate';
import type { DataFile, LoaderIO } from '../load/io.js';
import { BinaryError, fits, MissingArray, openData, readAt, readExactly } from './bytes.js';
import { decode, type Elem, supported } from './elements.js';

export { BinaryError, ioError, MissingArray, openData } from './bytes.js';
import { decodeNpy, NPY_HEADER_MAX, readNpyHeader } from './npy.js';

/** An array read from a file: shape, values, element type; or why it could not be read. */
export interface BinArray {
  shape: number[];
  values: ArrayLike<number>;
  integer: boolean;
  dtype: string;
}

/** Deflate never expands data by more than this factor: a larger claim is a lie (a zip bomb). */
const MAX_RATIO = 1032;

export type BinaryKind = 'npy' | 'npz' | 'safetensors' | 'idx' | 'idx.gz';

/** The binary format a path names by its extension, or undefined (text: CSV, JSON). */
export function binaryKind(path: string): BinaryKind | undefined {
  const p = path.toLowerCase();
  if (p.endsWith('.npy')) return 'npy';
  if (p.endsWith('.npz')) return 'npz';
  if (p.endsWith('.safetensors')) return 'safetensors';
  if (/(\.idx\d?|-ubyte|\.idx\d?-ubyte)\.gz$/.test(p)) return 'idx.gz';
  if (/(\.idx\d?|-ubyte)$/.test(p)) return 'idx';
  return undefined;
}

/** Whether a binary kind holds several named arrays (an `array:` or `columns:` picks one). */
export const holdsMany = (k: BinaryKind): boolean => k === 'npz' || k === 'safetensors';

/** A .npy file (or member) from an open file, at `base`, `size` bytes long. */
function npyAt(f: DataFile, base: number, size: number): BinArray {
  const head = readAt(f, base, Math.min(size, NPY_HEADER_MAX));
  const h = readNpyHeader(head);
  if (typeof h === 'string') throw new BinaryError(h);
  const bytes = h.count * h.elem.size;
  fits(size, h.offset, bytes, `its header's shape (${h.shape.join(', ')}) of ${h.elem.name}`);
  const data = readExactly(f, base + h.offset, bytes, 'reading its data');
  return { shape: h.shape, dtype: h.elem.name, ...decodeNpy(h, data) };
}

/** A .npy array from bytes in memory (an inflated .npz member). */
function npyBytes(b: Uint8Array): BinArray {
  const h = readNpyHeader(b.subarray(0, NPY_HEADER_MAX));
  if (typeof h === 'string') throw new BinaryError(h);
  const bytes = h.count * h.elem.size;
  fits(b.length, h.offset, bytes, `its header's shape (${h.shape.join(', ')}) of ${h.elem.name}`);
  // A copy only when the data is not aligned for a view (a member's own buffer always is).
  let data = b.subarray(h.offset, h.offset + bytes);
  if (data.byteOffset % h.elem.size) data = data.slice();
  return { shape: h.shape, dtype: h.elem.name, ...decodeNpy(h, data) };
}

/**
 * Read the array `name` (for .npz and safetensors; ignored for .npy and IDX) from the file at
 * `path`. Throws BinaryError with the reason, or the IO's error when the file cannot be opened.
 */
export function readArray(io: LoaderIO, path: string, kind: BinaryKind, name: string): BinArray {
  const f = openData(io, path);
  try {
    switch (kind) {
      case 'npy':
        return npyAt(f, 0, f.size);
      case 'npz':
        return npzMember(f, name);
      case 'safetensors':
        return safetensor(f, name);
      case 'idx':
        return idx(readExactly(f, 0, f.size, 'reading it'), f.size);
      case 'idx.gz':
        return idx(gunzip(f, io.gunzip?.bind(io)), f.size);
    }
  } finally {
    f.close();
  }
}

/** What an array's header says: shape and element kind (null: not known without reading the data). */
export type ArrayHead = Omit<BinArray, 'values'> | null;

/**
 * The shape and element type of array `name`, from the file's header alone (what validation
 * checks); the header's claims are checked against the file's size. A deflated .npz member's
 * header is not read (null).
 */
export function readArrayHeader(io: LoaderIO, path: string, kind: BinaryKind, name: string): ArrayHead {
  const f = openData(io, path);
  try {
    const npyHead = (base: number, size: number): ArrayHead => {
      const h = readNpyHeader(readAt(f, base, Math.min(size, NPY_HEADER_MAX)));
      if (typeof h === 'string') throw new BinaryError(h);
      fits(size, h.offset, h.count * h.elem.size, `its header's shape (${h.shape.join(', ')}) of ${h.elem.name}`);
      return { shape: h.shape, dtype: h.elem.name, integer: h.elem.kind !== 'f' };
    };
    switch (kind) {
      case 'npy':
        return npyHead(0, f.size);
      case 'npz': {
        const e = zipEntries(f).get(`${name}.npy`) ?? zipEntries(f).get(name);
        if (!e) throw new MissingArray(name);
        if (e.method !== 0) return null;
        const lh = readExactly(f, e.local, 30, `reading member "${name}"`);
        const l = new DataView(lh.buffer);
        return npyHead(e.local + 30 + l.getUint16(26, true) + l.getUint16(28, true), e.csize);
      }
      case 'safetensors': {
        const a = safetensorHead(f, name);
        return { shape: a.shape, dtype: a.elem.name, integer: a.elem.kind !== 'f' && a.elem.kind !== 'bf' };
      }
      case 'idx':
        return idxHead(readAt(f, 0, Math.min(f.size, 1028)), f.size);
      case 'idx.gz': {
        // The first decompressed bytes hold the header: inflate the start of the file only.
        const parts: Uint8Array[] = [];
        const g = new Gunzip((chunk) => {
          parts.push(chunk);
        });
        // In small pieces, stopping once the header is out: 64 KiB of compressed zeros inflate
        // to 64 MiB.
        const start = readAt(f, 0, Math.min(f.size, 1 << 16));
        let out = 0;
        try {
          for (let k = 0; k < start.length && out < 1028; k += 256) {
            g.push(start.subarray(k, k + 256), false);
            out = parts.reduce((a, p) => a + p.length, 0);
          }
        } catch {
          throw new BinaryError('it is not valid gzip data');
        }
        const head = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
        let k = 0;
        for (const p of parts) {
          head.set(p, k);
          k += p.length;
        }
        return idxHead(head.subarray(0, 1028), Number.POSITIVE_INFINITY);
      }
    }
  } finally {
    f.close();
  }
}

/** Names of the arrays in an .npz or safetensors file (for hints). */
export function arrayNames(io: LoaderIO, path: string, kind: BinaryKind): string[] {
  const f = openData(io, path);
  try {
    if (kind === 'npz') return [...zipEntries(f).keys()].map((n) => n.replace(/\.npy$/, ''));
    if (kind === 'safetensors') return Object.keys(safeHeader(f).header).filter((k) => k !== '__metadata__');
    return [];
  } finally {
    f.close();
  }
}

// --- IDX (http://yann.lecun.com/exdb/mnist/): 0, 0, a type byte, the number of dimensions,
// each dimension a big-endian u32, then the elements, big-endian.

const IDX_TYPES: Record<number, Elem> = {
  8: { kind: 'u', size: 1, little: false, name: 'ubyte' },
  9: { kind: 'i', size: 1, little: false, name: 'byte' },
  11: { kind: 'i', size: 2, little: false, name: 'short' },
  12: { kind: 'i', size: 4, little: false, name: 'int' },
  13: { kind: 'f', size: 4, little: false, name: 'float' },
  14: { kind: 'f', size: 8, little: false, name: 'double' },
};

function idx(b: Uint8Array, _fileSize: number): BinArray {
  const h = idxHead(b, b.length);
  const start = 4 + 4 * h!.shape.length;
  const elem = IDX_TYPES[b[2]!]!;
  const count = h!.shape.reduce((a, c) => a * c, 1);
  return { ...h!, ...decode(b.subarray(start, start + count * elem.size), elem, count) };
}

/** An IDX header from the file's first bytes, its data size checked against `size` bytes. */
function idxHead(b: Uint8Array, size: number): NonNullable<ArrayHead> {
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0) throw new BinaryError('it is not an IDX file (no 0x0000 magic)');
  const elem = IDX_TYPES[b[2]!];
  if (!elem) throw new BinaryError(`its type byte 0x${b[2]!.toString(16)} is not an IDX type`);
  const nd = b[3]!;
  const start = 4 + 4 * nd;
  if (nd === 0 || b.length < start) throw new BinaryError(`its header (${nd} dimensions) is cut short`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const shape = Array.from({ length: nd }, (_, i) => dv.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, c) => a * c, 1);
  const need = count * elem.size;
  if (!Number.isSafeInteger(need)) throw new BinaryError(`its shape (${shape.join(', ')}) is too large`);
  fits(size, start, need, `its header's shape (${shape.join(', ')}) of ${elem.name}`);
  return { shape, dtype: elem.name, integer: elem.kind !== 'f' };
}

/**
 * A gzipped file's contents, its claimed size checked against what deflate can produce; by the
 * IO's native inflater when it has one.
 */
function gunzip(f: DataFile, native?: (data: Uint8Array, size: number) => Uint8Array): Uint8Array {
  if (f.size < 18) throw new BinaryError('it is not a gzip file (too short)');
  const gz = readExactly(f, 0, f.size, 'reading it');
  if (gz[0] !== 0x1f || gz[1] !== 0x8b) throw new BinaryError('it is not a gzip file (no 1f 8b magic)');
  const claimed = new DataView(gz.buffer, gz.byteOffset + gz.length - 4, 4).getUint32(0, true);
  if (claimed > gz.length * MAX_RATIO)
    throw new BinaryError(`its trailer claims ${claimed} bytes, more than its ${gz.length} compressed bytes can hold`);
  try {
    if (native) return native(gz, claimed);
    return gunzipSync(gz, { out: new Uint8Array(claimed) });
  } catch (e) {
    throw new BinaryError(`it is not valid gzip data (${(e as Error).message}; truncated?)`);
  }
}

// --- .npz: a zip archive of .npy members (np.savez stores them, np.savez_compressed deflates).

interface ZipEntry {
  method: number;
  csize: number;
  usize: number;
  local: number;
}

function zipEntries(f: DataFile): Map<string, ZipEntry> {
  const tailLen = Math.min(f.size, 65557);
  const tail = readExactly(f, f.size - tailLen, tailLen, 'reading its directory');
  const dv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--)
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new BinaryError('it is not a zip (.npz) file (no end of central directory)');
  const count = dv.getUint16(eocd + 10, true);
  const cdSize = dv.getUint32(eocd + 12, true);
  const cdOff = dv.getUint32(eocd + 16, true);
  if (cdOff === 0xffffffff || count === 0xffff)
    throw new BinaryError('it is a zip64 archive (over 4 GiB); save the arrays as .npy files');
  fits(f.size, cdOff, cdSize, 'its central directory');
  const cd = readExactly(f, cdOff, cdSize, 'reading its directory');
  const c = new DataView(cd.buffer);
  const out = new Map<string, ZipEntry>();
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.length || c.getUint32(p, true) !== 0x02014b50)
      throw new BinaryError('its central directory is damaged');
    const nameLen = c.getUint16(p + 28, true);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    out.set(name, {
      method: c.getUint16(p + 10, true),
      csize: c.getUint32(p + 20, true),
      usize: c.getUint32(p + 24, true),
      local: c.getUint32(p + 42, true),
    });
    p += 46 + nameLen + c.getUint16(p + 30, true) + c.getUint16(p + 32, true);
  }
  return out;
}

function npzMember(f: DataFile, name: string): BinArray {
  const entries = zipEntries(f);
  const e = entries.get(`${name}.npy`) ?? entries.get(name);
  if (!e) throw new MissingArray(name);
  if (e.csize === 0xffffffff || e.usize === 0xffffffff)
    throw new BinaryError(`member "${name}" is over 4 GiB (zip64); save it as a .npy file`);
  const lh = readExactly(f, e.local, 30, `reading member "${name}"`);
  const l = new DataView(lh.buffer);
  if (l.getUint32(0, true) !== 0x04034b50) throw new BinaryError(`member "${name}": its local header is damaged`);
  const data = e.local + 30 + l.getUint16(26, true) + l.getUint16(28, true);
  fits(f.size, data, e.csize, `member "${name}"`);
  if (e.method === 0) {
    if (e.usize !== e.csize) throw new BinaryError(`member "${name}" is damaged (stored with two sizes)`);
    return npyAt(f, data, e.csize);
  }
  if (e.method !== 8) throw new BinaryError(`member "${name}" is compressed with method ${e.method}, not deflate`);
  if (e.usize > e.csize * MAX_RATIO)
    throw new BinaryError(
      `member "${name}" claims ${e.usize} bytes, more than its ${e.csize} compressed bytes can hold`,
    );
  const packed = readExactly(f, data, e.csize, `reading member "${name}"`);
  let raw: Uint8Array;
  try {
    raw = inflateSync(packed, { out: new Uint8Array(e.usize) });
  } catch (err) {
    throw new BinaryError(`member "${name}" is not valid deflate data (${(err as Error).message})`);
  }
  if (raw.length !== e.usize) throw new BinaryError(`member "${name}" inflates to fewer bytes than it claims`);
  return npyBytes(raw);
}

// --- safetensors: an 8-byte little-endian header length N, N bytes of JSON, then the data.

const SAFE: Record<string, Elem> = Object.fromEntries(
  (
    [
      ['F64', 'f', 8],
      ['F32', 'f', 4],
      ['F16', 'f', 2],
      ['BF16', 'bf', 2],
      ['I64', 'i', 8],
      ['I32', 'i', 4],
      ['I16', 'i', 2],
      ['I8', 'i', 1],
      ['U64', 'u', 8],
      ['U32', 'u', 4],
      ['U16', 'u', 2],
      ['U8', 'u', 1],
      ['BOOL', 'b', 1],
    ] as const
  ).map(([n, kind, size]) => [n, { kind, size, little: true, name: n }]),
);

function safeHeader(f: DataFile): { header: Record<string, unknown>; start: number } {
  if (f.size < 8) throw new BinaryError('it is not a safetensors file (too short)');
  const n = Number(new DataView(readExactly(f, 0, 8, 'reading its header').buffer).getBigUint64(0, true));
  if (n > 100_000_000 || 8 + n > f.size)
    throw new BinaryError(`its header claims ${n} bytes, the file holds ${f.size - 8} after the length (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readExactly(f, 8, n, 'reading its header')));
  } catch {
    throw new BinaryError('its header is not JSON');
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw new BinaryError('its header is not a JSON object');
  return { header: header as Record<string, unknown>, start: 8 + n };
}

function safetensor(f: DataFile, name: string): BinArray {
  const { shape, elem, count, begin, end } = safetensorHead(f, name);
  const data = readExactly(f, begin, end - begin, `reading tensor "${name}"`);
  return { shape, dtype: elem.name, ...decode(data, elem, count) };
}

/** A tensor's entry in a safetensors header, checked against the file's size. */
function safetensorHead(
  f: DataFile,
  name: string,
): { shape: number[]; elem: Elem; count: number; begin: number; end: number } {
  const { header, start } = safeHeader(f);
  const t = Object.hasOwn(header, name) && name !== '__metadata__' ? header[name] : undefined;
  if (!t) throw new MissingArray(name);
  const { dtype, shape, data_offsets: off } = t as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const elem = typeof dtype === 'string' ? SAFE[dtype] : undefined;
  if (!elem || !supported(elem))
    throw new BinaryError(`tensor "${name}" has dtype ${String(dtype)}, not one this reader takes`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new BinaryError(`tensor "${name}" has no valid shape`);
  if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new BinaryError(`tensor "${name}" has no valid data_offsets`);
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const [b, e] = off as [number, number];
  if (e - b !== count * elem.size)
    throw new BinaryError(
      `tensor "${name}": shape [${shape.join(', ')}] of ${dtype} needs ${count * elem.size} bytes, its data_offsets span ${e - b}`,
    );
  fits(f.size, start + b, e - b, `tensor "${name}"`);
  return { shape: shape as number[], elem, count, begin: start + b, end: start + e };
}
