// Predictions as CSV (`graph-run predict --out p.csv`): a header naming each output value's
// column, one line per row (a .npy file of one output is the data stage's encodeNpy). Pure:
// text, no file system (the CLI writes it atomically).

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
