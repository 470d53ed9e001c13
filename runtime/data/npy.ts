// NumPy's .npy format (numpy.lib.format, versions 1-3): a magic string, a header dict giving the
// element type, the memory order and the shape, then the elements. The header is read and
// checked on its own first (readers check the file holds what it claims before allocating),
// then the data is decoded in place where it can be (elements.ts).

import { decode, type Decoded, type Elem, supported } from './elements.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Bytes enough to hold any header this reader takes (a header longer than this is refused). */
export const NPY_HEADER_MAX = 65536;

export interface NpyHeader {
  shape: number[];
  elem: Elem;
  /** Byte offset of the data. */
  offset: number;
  /** Elements (product of the shape). */
  count: number;
}

/** The header of a .npy file from its first bytes, or why it is not one this reader takes. */
export function readNpyHeader(head: Uint8Array): NpyHeader | string {
  if (head.length < 10 || MAGIC.some((b, i) => head[i] !== b)) return 'it is not a .npy file (no \\x93NUMPY magic)';
  const major = head[6]!;
  if (major < 1 || major > 3) return `it is .npy version ${major}, this reader takes versions 1 to 3`;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const start = major === 1 ? 10 : 12;
  if (head.length < start) return 'its header is cut short';
  const len = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (start + len > head.length)
    return start + len > NPY_HEADER_MAX ? `its header is ${len} bytes long, over the limit` : 'its header is cut short';
  const text = new TextDecoder('latin1').decode(head.subarray(start, start + len));
  const descr = /'descr'\s*:\s*'([<>|=])([a-zA-Z])(\d+)'/.exec(text);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shapeM)
    return "its header is not a plain array's (it needs 'descr', 'fortran_order' and 'shape'; structured arrays are not read)";
  const dims = shapeM[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!dims.every((d) => /^\d+$/.test(d))) return `its shape (${shapeM[1]}) is not a list of sizes`;
  const shape = dims.map(Number);
  const kind = { f: 'f', i: 'i', u: 'u', b: 'b', '?': 'b' }[descr[2]!] as Elem['kind'] | undefined;
  const elem: Elem = {
    kind: kind ?? 'f',
    size: Number(descr[3]),
    little: descr[1] !== '>',
    name: `${descr[1]}${descr[2]}${descr[3]}`,
  };
  if (!kind || !supported(elem))
    return `its dtype ${elem.name} is not one this reader takes (floats f2/f4/f8, integers i1-i8 and u1-u8, bool)`;
  if (fortran[1] === 'True' && shape.filter((d) => d > 1).length > 1)
    return 'it is stored in Fortran (column-major) order; save it with np.ascontiguousarray';
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * elem.size)) return `its shape (${shape.join(', ')}) is too large`;
  return { shape, elem, offset: start + len, count };
}

/** The elements of a .npy file whose header is `h`, from the bytes after the header. */
export function decodeNpy(h: NpyHeader, data: Uint8Array): Decoded {
  return decode(data, h.elem, h.count);
}

/** A whole .npy file in memory: its header and elements, or why it cannot be read. */
export function readNpy(bytes: Uint8Array): (NpyHeader & Decoded) | string {
  const h = readNpyHeader(bytes.subarray(0, NPY_HEADER_MAX));
  if (typeof h === 'string') return h;
  const want = h.offset + h.count * h.elem.size;
  if (bytes.length < want)
    return `its header claims ${want - h.offset} bytes of data for shape (${h.shape.join(', ')}), the file holds ${Math.max(0, bytes.length - h.offset)}`;
  return { ...h, ...decodeNpy(h, bytes.subarray(h.offset, want)) };
}

/** Typed arrays encodeNpy writes, and their NumPy dtype. */
const DESCR: [new (...a: never[]) => ArrayLike<number>, string][] = [
  [Float32Array, '<f4'],
  [Float64Array, '<f8'],
  [Int32Array, '<i4'],
  [Uint8Array, '|u1'],
  [Int8Array, '|i1'],
  [Int16Array, '<i2'],
  [Uint16Array, '<u2'],
  [Uint32Array, '<u4'],
];

/**
 * A .npy file (version 1.0, or 2.0 for a header over 64 KiB) holding `data` with `shape`, in
 * the typed array's own dtype (little-endian). `np.load` reads it.
 * @example writeFileSync('preds.npy', encodeNpy([2, 3], new Float32Array(6)))
 */
export function encodeNpy(
  shape: readonly number[],
  data: Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array,
): Uint8Array {
  const descr = DESCR.find(([C]) => data instanceof C)?.[1];
  if (!descr) throw new Error('encodeNpy takes a Float32Array, Float64Array or integer typed array');
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new Error(`shape [${shape.join(', ')}] holds ${count} values, the data ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  let start = 10;
  if (dict.length + 11 > 65535) start = 12;
  // Pad with spaces so the data starts at a multiple of 64 bytes; the header ends in a newline.
  const pad = (64 - ((start + dict.length + 1) % 64)) % 64;
  dict = `${dict}${' '.repeat(pad)}\n`;
  const out = new Uint8Array(start + dict.length + data.byteLength);
  out.set(MAGIC);
  out[6] = start === 10 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (start === 10) dv.setUint16(8, dict.length, true);
  else dv.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[start + i] = dict.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), start + dict.length);
  return out;
}
