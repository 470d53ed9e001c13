// The safetensors format (https://huggingface.co/docs/safetensors), read and written without
// dependencies: an 8-byte little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}} padded
// with spaces to a multiple of 8, then the tensors' little-endian bytes, contiguous, in order.
// In the load stage: checkpoints (runtime/checkpoint) and initial values (`init: {file:
// w.safetensors}`, runtime/data/init-file.ts) read it; each turns a SafetensorsError into its own.

/** A damaged, truncated or unreadable safetensors file; `tensor` names the culprit when there is one. */
export class SafetensorsError extends Error {
  constructor(
    message: string,
    readonly tensor?: string,
  ) {
    super(message);
    this.name = 'SafetensorsError';
  }
}

export type SafeDType = 'F32' | 'F64' | 'I32';

/** One tensor of a safetensors file: name, dtype, shape and data. */
export interface SafeTensor {
  name: string;
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

/** A decoded safetensors file: its tensors and its string metadata. */
export interface SafeFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafeDType, number> = { F32: 4, F64: 8, I32: 4 };
/** Header sizes past this are not a checkpoint (the reference reader's limit is 100 MB too). */
const MAX_HEADER = 100_000_000;
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(t: SafeTensor): Uint8Array {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (littleEndian) return raw;
  // Big-endian hosts: swap each element's bytes (the format is little-endian).
  const out = new Uint8Array(raw.length);
  const w = BYTES[t.dtype];
  for (let i = 0; i < raw.length; i += w) for (let j = 0; j < w; j++) out[i + j] = raw[i + w - 1 - j]!;
  return out;
}

/**
 * Encode tensors and string metadata as a safetensors file.
 * @example encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }], { epoch: '3' })
 */
export function encodeSafetensors(tensors: SafeTensor[], metadata: Record<string, string> = {}): Uint8Array {
  // Null prototype: a tensor named `__proto__` (or `constructor`) is an own key like any other.
  const header = Object.create(null) as Record<string, unknown>;
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`tensor "${t.name}": shape [${t.shape.join(', ')}] holds ${n} values, data has ${t.data.length}`);
    const len = n * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8; // data starts 8-byte aligned, as the reference writer does
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    const b = bytesOf(t);
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** The header's length from the first 8 bytes, checked against the file's size. */
function headerLength(bytes: Uint8Array, size: number, file: string): number {
  if (size < 8)
    throw new SafetensorsError(
      `${file} is not a safetensors file: ${size} bytes, shorter than its 8-byte header length`,
    );
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER))
    throw new SafetensorsError(`${file} is not a safetensors file: header length ${n} is implausible`);
  const hlen = Number(n);
  if (8 + hlen > size)
    throw new SafetensorsError(
      `${file} is truncated: its header needs ${hlen} bytes, the file has ${size - 8} after the length`,
    );
  return hlen;
}

/** The JSON header (a null-prototype object: a tensor may be named `__proto__`). */
function parseHeader(bytes: Uint8Array, hlen: number, file: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new SafetensorsError(`${file} has a damaged header: ${(e as Error).message.slice(0, 80)}`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw new SafetensorsError(`${file} has a damaged header: not a JSON object`);
  return header as Record<string, unknown>;
}

/**
 * The bytes a safetensors file must have, from its first bytes (at least the 8-byte length and
 * the header it gives; `size` is the whole file's): a reader checks the header, and the file's
 * size against it, before reading the data. `headBytes` says how many first bytes it needs.
 */
export function safetensorsHead(
  head: Uint8Array,
  size: number,
  file = 'checkpoint',
): { headBytes: number; total?: number } {
  const hlen = headerLength(head, size, file);
  if (head.length < 8 + hlen) return { headBytes: 8 + hlen };
  const header = parseHeader(head, hlen, file);
  let data = 0;
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const off = (v as { data_offsets?: unknown } | null)?.data_offsets;
    if (Array.isArray(off) && typeof off[1] === 'number' && off[1] > data) data = off[1];
  }
  return { headBytes: 8 + hlen, total: 8 + hlen + data };
}

/** Decode and check a safetensors file; a damaged or truncated one throws a SafetensorsError naming the tensor. */
export function decodeSafetensors(bytes: Uint8Array, file = 'checkpoint'): SafeFile {
  const hlen = headerLength(bytes, bytes.length, file);
  const header = parseHeader(bytes, hlen, file);
  const dataStart = 8 + hlen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const tensors = new Map<string, SafeTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object' || Array.isArray(v))
        throw new SafetensorsError(`${file}: "__metadata__" is not an object of strings`);
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') throw new SafetensorsError(`${file}: metadata "${k}" is not a string`);
        metadata[k] = s;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype;
    if (dtype !== 'F32' && dtype !== 'F64' && dtype !== 'I32') {
      throw new SafetensorsError(
        `${file}: tensor "${name}" has dtype ${JSON.stringify(dtype)}; graph-run reads F32, F64 and I32`,
        name,
      );
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      throw new SafetensorsError(`${file}: tensor "${name}" has a bad shape`, name);
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((d) => Number.isInteger(d) && d >= 0) ||
      off[1] < off[0]
    ) {
      throw new SafetensorsError(`${file}: tensor "${name}" has bad data_offsets`, name);
    }
    const [begin, end] = off as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype]) {
      throw new SafetensorsError(
        `${file}: tensor "${name}" spans ${end - begin} bytes, but ${dtype} [${shape.join(', ')}] needs ${count * BYTES[dtype]}`,
        name,
      );
    }
    if (end > dataLen) {
      throw new SafetensorsError(
        `${file} is truncated: tensor "${name}" needs data bytes [${begin}, ${end}), the file has ${dataLen}`,
        name,
      );
    }
    spans.push([begin, end, name]);
    // Copy out: the data may not be aligned for a typed-array view, and the caller keeps it.
    // (An explicit copy: a Node Buffer's slice() is a view into a shared pool.)
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    if (!littleEndian) {
      const w = BYTES[dtype];
      for (let i = 0; i < raw.length; i += w) raw.subarray(i, i + w).reverse();
    }
    const data =
      dtype === 'F32'
        ? new Float32Array(raw.buffer)
        : dtype === 'F64'
          ? new Float64Array(raw.buffer)
          : new Int32Array(raw.buffer);
    tensors.set(name, { name, dtype, shape: [...(shape as number[])], data });
  }
  // The format requires the tensors to tile the data exactly: no overlaps, no holes.
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [b, e, name] of spans) {
    if (b !== at)
      throw new SafetensorsError(
        `${file}: tensor "${name}" ${b < at ? 'overlaps the one before it' : 'leaves a hole before it'} in the data`,
        name,
      );
    at = e;
  }
  if (at !== dataLen)
    throw new SafetensorsError(
      `${file} has ${dataLen - at} bytes after its last tensor: damaged or not a safetensors file`,
    );
  return { tensors, metadata };
}
