// A small loss chart for the terminal, drawn with Braille characters (2 x 4 dots per cell,
// so a 56 x 8 cell chart has 112 x 32 points of resolution). Printed at the end of training on
// a terminal. Log scale when the loss spans more than two decades, as the SVG plot.

import type { LossRecord } from '../session.js';
import { fmtTick, seriesOf, wantsLog } from './series.js';

/** Options of `lossChart`, the terminal chart of the logged losses. */
export interface ChartOptions {
  /** Width and height of the plotting area in characters. */
  width?: number;
  height?: number;
}

// Braille dot bits by (column 0..1, row 0..3) within a cell (Unicode U+2800 block).
const DOT = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
];

/**
 * The loss curve of logged records as lines of text (empty when there are fewer than 2 points).
 * @example console.log(lossChart(session.train()).join('\n'))
 */
export function lossChart(records: readonly LossRecord[], opts: ChartOptions = {}): string[] {
  const s = seriesOf(records).find((x) => x.name === 'loss');
  if (!s || s.points.length < 2) return [];
  const w = Math.max(8, opts.width ?? 56),
    h = Math.max(2, opts.height ?? 8);
  const pxW = w * 2,
    pxH = h * 4;
  const vals = s.points.map((p) => p[1]);
  const log = wantsLog(vals);
  const tr = (v: number) => (log ? Math.log10(v) : v);
  const lo = Math.min(...vals),
    hi = Math.max(...vals);
  const e0 = s.points[0]![0],
    e1 = s.points[s.points.length - 1]![0];
  const span = tr(hi) - tr(lo) || 1;
  const py = (v: number) => Math.round((1 - (tr(v) - tr(lo)) / span) * (pxH - 1));
  const cells = Array.from({ length: h }, () => new Array<number>(w).fill(0));
  const set = (x: number, y: number) => {
    cells[Math.floor(y / 4)]![Math.floor(x / 2)]! |= DOT[x % 2]![y % 4]!;
  };
  // Value at each pixel column by linear interpolation between logged epochs; vertical runs
  // join consecutive columns so steep drops stay connected.
  let k = 0,
    prev: number | undefined;
  for (let x = 0; x < pxW; x++) {
    const e = e0 + ((e1 - e0) * x) / (pxW - 1);
    while (k < s.points.length - 2 && s.points[k + 1]![0] < e) k++;
    const [ea, va] = s.points[k]!,
      [eb, vb] = s.points[k + 1]!;
    const t = eb === ea ? 0 : Math.min(1, Math.max(0, (e - ea) / (eb - ea)));
    const y = py(log ? 10 ** (Math.log10(va) * (1 - t) + Math.log10(vb) * t) : va * (1 - t) + vb * t);
    const from = prev ?? y;
    for (let yy = Math.min(from, y); yy <= Math.max(from, y); yy++) set(x, yy);
    prev = y;
  }
  const top = fmtTick(hi),
    bottom = fmtTick(lo);
  const lw = Math.max(top.length, bottom.length);
  const lines = [`${' '.repeat(lw)}  loss${log ? ' (log scale)' : ''}`];
  cells.forEach((row, i) => {
    const label = i === 0 ? top : i === h - 1 ? bottom : '';
    const axis = i === 0 || i === h - 1 ? '┤' : '│';
    lines.push(`${label.padStart(lw)} ${axis}${row.map((b) => String.fromCharCode(0x2800 + b)).join('')}`);
  });
  const first = String(e0),
    last = String(e1);
  lines.push(`${' '.repeat(lw)} └${'─'.repeat(w)}`);
  lines.push(`${' '.repeat(lw)}  ${first}${' '.repeat(Math.max(1, w - first.length - last.length))}${last}  epoch`);
  return lines;
}
