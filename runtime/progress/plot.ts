// Training curves as a standalone SVG (`--plot loss.svg`, and the playground's chart): loss
// (and validation loss) against epoch on the left axis, accuracy on a right axis when logged,
// with ticks, grid, axis labels and a legend. A log loss axis when the loss spans more than
// two decades. Pure string building: no DOM, no Node built-ins.

import type { LossRecord } from '../session.js';
import { fmtTick, logTicks, niceTicks, seriesOf, wantsLog } from './series.js';

/** Options of `plotSvg`, the SVG training curve. */
export interface PlotOptions {
  title?: string;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const f = (x: number) => Number(x.toFixed(2));

/**
 * An SVG line chart of logged training records.
 * @example writeFileSync('loss.svg', plotSvg(session.train(), { title: 'gender' }))
 */
export function plotSvg(records: readonly LossRecord[], opts: PlotOptions = {}): string {
  const W = opts.width ?? 640,
    H = opts.height ?? 400;
  const series = seriesOf(records).filter((s) => s.points.length);
  const left = series.filter((s) => s.axis === 'left');
  const right = series.filter((s) => s.axis === 'right');
  const m = { top: 40, right: right.length ? 64 : 24, bottom: 52, left: 72 };
  const pw = W - m.left - m.right,
    ph = H - m.top - m.bottom;

  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const x0 = Math.min(...xs, 0);
  let x1 = Math.max(...xs, 1);
  let xTicks = niceTicks(x0, x1, 6);
  // End the axis on a tick, so the last epoch is not past the last label.
  const xStep = xTicks.length > 1 ? xTicks[1]! - xTicks[0]! : 1;
  if (xTicks[xTicks.length - 1]! < x1)
    xTicks = [...xTicks, Number((xTicks[xTicks.length - 1]! + xStep).toPrecision(12))];
  x1 = xTicks[xTicks.length - 1]!;
  const X = (e: number) => m.left + ((e - x0) / (x1 - x0)) * pw;

  const lv = left.flatMap((s) => s.points.map((p) => p[1]));
  const log = wantsLog(lv);
  let y0 = lv.length ? Math.min(...lv) : 0,
    y1 = lv.length ? Math.max(...lv) : 1;
  if (log) {
    // Whole decades, so the axis has a labelled power of ten at each end.
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  } else {
    y0 = Math.min(0, y0); // a linear loss axis starts at 0, so the drop is not exaggerated
    if (y1 === y0) y1 = y0 + (y0 === 0 ? 1 : Math.abs(y0));
    const t = niceTicks(y0, y1, 5);
    const step = t.length > 1 ? t[1]! - t[0]! : y1 - y0;
    if (t[t.length - 1]! < y1) y1 = Number((t[t.length - 1]! + step).toPrecision(12));
  }
  const tr = (v: number) => (log ? Math.log10(v) : v);
  const Y = (v: number) => m.top + ph - ((tr(v) - tr(y0)) / (tr(y1) - tr(y0))) * ph;
  const yTicks = log ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  const R = (v: number) => m.top + ph - v * ph; // accuracy axis: 0..1

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  if (opts.title)
    out.push(`<text class="title" x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  // Grid and ticks.
  out.push('<g class="x-axis">');
  for (const t of xTicks) {
    out.push(`<line class="grid" x1="${f(X(t))}" y1="${m.top}" x2="${f(X(t))}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(
      `<text class="tick" x="${f(X(t))}" y="${m.top + ph + 16}" text-anchor="middle" data-value="${t}">${fmtTick(t)}</text>`,
    );
  }
  out.push(`<text class="label" x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">epoch</text>`);
  out.push('</g>');
  out.push(`<g class="y-axis" data-scale="${log ? 'log' : 'linear'}">`);
  for (const t of yTicks) {
    out.push(
      `<line class="grid" x1="${m.left}" y1="${f(Y(t))}" x2="${m.left + pw}" y2="${f(Y(t))}" stroke="#e5e5e5"/>`,
    );
    out.push(
      `<text class="tick" x="${m.left - 8}" y="${f(Y(t) + 4)}" text-anchor="end" data-value="${t}">${fmtTick(t)}</text>`,
    );
  }
  const yLabel = `${left.map((s) => s.name).join(', ') || 'loss'}${log ? ' (log scale)' : ''}`;
  out.push(
    `<text class="label" transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  out.push('</g>');
  if (right.length) {
    out.push('<g class="y2-axis" data-scale="linear">');
    for (const t of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
      out.push(`<text class="tick" x="${m.left + pw + 8}" y="${f(R(t) + 4)}" data-value="${t}">${fmtTick(t)}</text>`);
    }
    out.push(
      `<text class="label" transform="translate(${W - 14} ${m.top + ph / 2}) rotate(90)" text-anchor="middle">${esc(right.map((s) => s.name).join(', '))}</text>`,
    );
    out.push('</g>');
  }
  out.push(`<rect class="frame" x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  // The curves.
  series.forEach((s, i) => {
    const pts = s.points.map(([e, v]) => `${f(X(e))},${f(s.axis === 'right' ? R(v) : Y(v))}`).join(' ');
    const dash = /val/i.test(s.name) ? ' stroke-dasharray="6 3"' : '';
    out.push(
      `<polyline class="series" data-name="${esc(s.name)}" data-axis="${s.axis}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"${dash} points="${pts}"/>`,
    );
  });
  // Legend.
  series.forEach((s, i) => {
    const y = m.top + 14 + i * 16,
      x = m.left + pw - 130;
    out.push(
      `<g class="legend"><line x1="${x}" y1="${y - 4}" x2="${x + 20}" y2="${y - 4}" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/><text x="${x + 26}" y="${y}">${esc(s.name)}</text></g>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
