// Training curves as series: every numeric field of the logged records other than `epoch`
// (loss, and validation loss or accuracy where a graph logs them) becomes one named series of
// (epoch, value) points. Shared by the terminal chart and the SVG plot. Also the axis helpers
// both use: "nice" tick values and when a log scale reads better.

import type { LossRecord } from '../session.js';

export interface Series {
  name: string;
  points: [number, number][];
  /** Accuracies (0..1) get their own axis, on the right. */
  axis: 'left' | 'right';
}

/** One series per numeric field of the records (`loss` first), non-finite values dropped. */
export function seriesOf(records: readonly LossRecord[]): Series[] {
  const names: string[] = [];
  for (const r of records)
    for (const [k, v] of Object.entries(r))
      if (k !== 'epoch' && typeof v === 'number' && !names.includes(k)) names.push(k);
  names.sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : 0));
  return names.map((name) => ({
    name,
    axis: /acc/i.test(name) ? 'right' : 'left',
    points: records
      .map((r) => [r.epoch, (r as unknown as Record<string, number>)[name]] as [number, number | undefined])
      .filter((p): p is [number, number] => typeof p[1] === 'number' && Number.isFinite(p[1])),
  }));
}

/** Log scale when the values are all positive and span more than two decades. */
export function wantsLog(values: number[]): boolean {
  if (!values.length || values.some((v) => v <= 0)) return false;
  return Math.max(...values) / Math.min(...values) > 100;
}

/** About `count` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  // The epsilon keeps the last tick when (hi - lo) / step is a whole number up to rounding.
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks for a log axis: every power of ten in range (and 2x, 5x when there are few). */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo)),
    b = Math.ceil(Math.log10(hi));
  const out: number[] = [];
  const mults = b - a <= 2 ? [1, 2, 5] : [1];
  for (let e = a; e <= b; e++)
    for (const m of mults) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  return out;
}

/** A short number for labels: 0.00123 -> "0.00123", 12345 -> "12345", 1e-7 -> "1e-7". */
export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(4)));
  return v.toExponential(a >= 1e-3 ? 1 : 0).replace('e+', 'e');
}
