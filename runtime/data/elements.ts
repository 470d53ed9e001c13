// Array elements as binary files store them (npy, safetensors, IDX): a kind, a byte size and a
// byte order, decoded into a typed array — a view on the file's bytes where they are already
// little-endian and aligned (no copy), else one pass into a new array.

/** How one element is stored: float, signed or unsigned integer, bool, or bfloat16. */
export interface Elem {
  kind: 'f' | 'i' | 'u' | 'b' | 'bf';
  size: number;
  little: boolean;
  /** The name messages use ('<f4', 'F32', 'ubyte'). */
  name: string;
}

/** Decoded elements: a typed array (numbers), and whether they are whole numbers by type. */
export interface Decoded {
  values: ArrayLike<number>;
  integer: boolean;
}

type View = new (b: ArrayBufferLike, off: number, n: number) => ArrayLike<number>;

const views: Record<string, View | undefined> = {
  f4: Float32Array,
  f8: Float64Array,
  i1: Int8Array,
  i2: Int16Array,
  i4: Int32Array,
  u1: Uint8Array,
  u2: Uint16Array,
  u4: Uint32Array,
  b1: Uint8Array,
};

/** Decoding is supported for this element type. */
export function supported(e: Elem): boolean {
  return e.kind === 'bf' ? e.size === 2 : e.kind === 'f' ? [2, 4, 8].includes(e.size) : [1, 2, 4, 8].includes(e.size);
}

/** `n` elements of type `e` from `bytes` (exactly n * e.size of them). */
export function decode(bytes: Uint8Array, e: Elem, n: number): Decoded {
  const integer = e.kind !== 'f' && e.kind !== 'bf';
  const key = `${e.kind}${e.size}`;
  const View = views[key];
  const le = e.little || e.size === 1;
  if (View && le && (bytes.byteOffset % e.size === 0 || e.size === 1))
    return { values: new View(bytes.buffer, bytes.byteOffset, n), integer };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = e.little;
  const s = e.size;
  if (key === 'f2' || key === 'bf2') {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const h = dv.getUint16(i * 2, little);
      out[i] = key === 'bf2' ? bf16(h) : f16(h);
    }
    return { values: out, integer: false };
  }
  if (s === 8 && e.kind !== 'f') {
    // 64-bit integers as numbers (exact up to 2^53; labels and indices are far below).
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++)
      out[i] = Number(e.kind === 'u' ? dv.getBigUint64(i * 8, little) : dv.getBigInt64(i * 8, little));
    return { values: out, integer };
  }
  const out = s === 8 ? new Float64Array(n) : e.kind === 'f' ? new Float32Array(n) : new Float64Array(n);
  const get = (i: number): number => {
    const o = i * s;
    if (e.kind === 'f') return s === 4 ? dv.getFloat32(o, little) : dv.getFloat64(o, little);
    if (e.kind === 'u' || e.kind === 'b')
      return s === 1 ? dv.getUint8(o) : s === 2 ? dv.getUint16(o, little) : dv.getUint32(o, little);
    return s === 1 ? dv.getInt8(o) : s === 2 ? dv.getInt16(o, little) : dv.getInt32(o, little);
  };
  for (let i = 0; i < n; i++) out[i] = get(i);
  return { values: out, integer };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function bf16(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}

function f16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
