// Predictions as files (`graph-run predict --out`): CSV with a header naming each output value's
// column, one line per row; or a NumPy .npy array of one output. Pure: bytes and text, no file
// system (the CLI writes them atomically).

import type { Tensor } from '../ir/types.js';

/** Column names of an output's values per row: `name` for one value, else `name_i` (`name_i_j` for more axes). */
export function outputColumns(name: string, rowShape: readonly number[]): string[] {
  const n = rowShape.reduce((a, d) => a * d, 1);
  if (rowShape.length === 0 || (rowShape.length === 1 && n === 1)) return [name];
  const cols: string[] = [];
  for (let k = 0; k < n; k++) {
    const idx: number[] = [];
    let r = k;
    for (let a = rowShape.length - 1; a >= 0; a--) {
      idx.unshift(r % rowShape[a]!);
      r = Math.floor(r / rowShape[a]!);
    }
    cols.push(`${name}_${idx.join('_')}`);
  }
  return cols;
}

/** A value as text: f32 with the fewest digits that read back as the same f32, f64 and i32 exactly. */
export function formatValue(v: number, dtype: Tensor['dtype']): string {
  if (dtype !== 'f32' || Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  for (let p = 6; p < 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(Number(v.toPrecision(9)));
}

/**
 * Outputs with the same number of rows (their first axis) as CSV lines: a header naming each
 * column, then one line per row, `rows` lines from row `from` (default all).
 * @example predictionsCsv({ p: { shape: [2, 1], dtype: 'f32', data: Float32Array.of(0.5, 1) } }) // 'p\n0.5\n1\n'
 */
export function predictionsCsv(outputs: Record<string, Tensor>, from = 0, rows?: number): string {
  const entries = Object.entries(outputs);
  const total = entries.length ? entries[0]![1].shape[0]! : 0;
  const to = Math.min(total, from + (rows ?? total));
  const header = entries.flatMap(([name, t]) => outputColumns(name, t.shape.slice(1)));
  const lines = [header.join(',')];
  const per = entries.map(([, t]) => t.data.length / Math.max(1, t.shape[0]!));
  for (let r = from; r < to; r++) {
    const fields: string[] = [];
    entries.forEach(([, t], i) => {
      const n = per[i]!;
      for (let k = 0; k < n; k++) fields.push(formatValue(t.data[r * n + k]!, t.dtype));
    });
    lines.push(fields.join(','));
  }
  return `${lines.join('\n')}\n`;
}

const NPY_DTYPE = { f32: '<f4', f64: '<f8', i32: '<i4' } as const;

/**
 * A tensor as a NumPy .npy file (format 1.0, little-endian, C order).
 * @example encodeTensorNpy({ shape: [2], dtype: 'f32', data: Float32Array.of(1, 2) }) // np.load reads [1., 2.]
 */
export function encodeTensorNpy(t: Tensor): Uint8Array {
  const descr = NPY_DTYPE[t.dtype as keyof typeof NPY_DTYPE] ?? '<f4';
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + header length (2) + header + newline, padded to a multiple of 64.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = `${header}${' '.repeat(pad % 64)}\n`;
  const bytes = t.dtype === 'f64' ? 8 : 4;
  const out = new Uint8Array(10 + header.length + t.data.length * bytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i]!;
    if (t.dtype === 'f64') view.setFloat64(i * 8, v, true);
    else if (t.dtype === 'i32') view.setInt32(i * 4, v, true);
    else view.setFloat32(i * 4, v, true);
  }
  return out;
}
