// Watching training: the progress bar on a (fake) terminal, plain lines otherwise, --quiet and
// --json quiet, the terminal loss chart, and --plot's SVG parsed back: labelled axes, one
// point per logged epoch, each point where its tick marks put it. Bad plot paths fail early.

import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../runtime/cli/main.js';
import { formatBar, TrainingReporter, type Terminal } from '../../runtime/progress/reporter.js';
import { lossChart } from '../../runtime/progress/chart.js';
import { plotSvg } from '../../runtime/progress/plot.js';
import { findAll, parseXml, type XmlElement } from './parsers.js';
import { fakeTerminal, withoutCI } from '../support/terminal.js';

const tmp = mkdtempSync(join(tmpdir(), 'graph-run-progress-'));

async function cli(args: string[], term?: Terminal): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(
    args,
    (s) => out.push(...s.split('\n')),
    (s) => err.push(s),
    term,
  );
  return { code, out, err: err.join('\n') };
}

withoutCI();

describe('progress output', () => {
  it('not a terminal: one plain line per logged epoch, no control characters', async () => {
    const r = await cli(['graphs/gender.yaml', '--epochs', '200']);
    expect(r.code).toBe(0);
    const lines = r.out.filter((l) => /^epoch /.test(l));
    // Epochs 0, 10, ..., 190 and the last, 199; the loss before training on a line of its own first.
    expect(lines.length).toBe(21);
    expect(lines[0]).toMatch(/^epoch +0 {2}loss 0\.\d{6}$/);
    expect(lines[20]).toMatch(/^epoch 199 {2}loss 0\.\d{6}$/);
    expect(r.out.filter((l) => l.startsWith('before training'))).toEqual([
      expect.stringMatching(/^before training {2}loss 0\.\d{6}$/),
    ]);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no carriage return or terminal escape may appear
    expect(r.out.join('\n')).not.toMatch(/[\r\u001b]/);
  });

  it('a terminal: a bar redrawn in place (epoch, step, loss, throughput, time left), then a summary and a loss chart', async () => {
    const term = fakeTerminal(80);
    const r = await cli(['graphs/gender.yaml', '--epochs', '3000'], term);
    expect(r.code).toBe(0);
    expect(r.out.some((l) => /^epoch +\d+ {2}loss/.test(l))).toBe(false);
    const draws = term.written.filter((w) => w.startsWith('\r') && w.length > 4);
    expect(draws.length).toBeGreaterThanOrEqual(1);
    for (const d of draws) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's erase-line escape
      const line = d.replace(/^\r/, '').replace(/\u001b\[K$/, '');
      expect([...line].length).toBeLessThanOrEqual(80);
      expect(line).toMatch(
        /^epoch +\d+\/3000 [█░]{5,30} +\d+% step \d\/4 loss [\d.e-]+ [\d.kM-]+ samples\/s (\d+:)?\d+:\d\d left$/,
      );
    }
    // The last draw is the finished state; then the bar is cleared.
    expect(draws[draws.length - 1]).toContain('epoch 3000/3000');
    expect(draws[draws.length - 1]).toContain('100%');
    expect(term.written[term.written.length - 1]).toBe('\r\u001b[K');
    const summary = r.out.findIndex((l) => l.startsWith('trained epochs 0..2999 in '));
    expect(summary).toBeGreaterThan(0);
    expect(r.out[summary + 1]).toContain('loss (log scale)');
    expect(r.out.slice(summary + 2, summary + 10).every((l) => /[\u2800-\u28ff]/.test(l))).toBe(true);
    expect(r.out).toContain('predictions:');
  });

  it('--quiet: no header, bar, lines or chart; results still printed', async () => {
    const term = fakeTerminal();
    const r = await cli(['graphs/gender.yaml', '--epochs', '50', '--quiet'], term);
    expect(r.code).toBe(0);
    expect(term.written).toEqual([]);
    // The final metrics in one line, then the results; no parameter listing (--json has them).
    expect(r.out[0]).toMatch(/^final \(epoch 49\): loss 0\.\d+$/);
    expect(r.out[1]).toBe('predictions:');
    expect(r.out).not.toContain('parameters:');
    expect((await cli(['graphs/gender.yaml', '--epochs', '50', '-q'])).out[1]).toBe('predictions:');
  });

  it('--json on a terminal: stdout is exactly one JSON document', async () => {
    const term = fakeTerminal();
    const r = await cli(['graphs/gender.yaml', '--epochs', '50', '--json'], term);
    expect(term.written).toEqual([]);
    expect(r.out.length).toBe(1);
    // Before training, epochs 0, 10, 20, 30, 40 and the last, 49.
    expect(JSON.parse(r.out[0]!).losses.length).toBe(7);
  });

  it('CI=1 or TERM=dumb: plain lines even on a terminal', async () => {
    process.env.CI = '1';
    const term = fakeTerminal();
    const r = await cli(['graphs/gender.yaml', '--epochs', '20'], term);
    expect(term.written).toEqual([]);
    // Epochs 0, 10 and the last, 19.
    expect(r.out.filter((l) => l.startsWith('epoch ')).length).toBe(3);
  });
});

describe('the progress bar', () => {
  it('fits the terminal, fills with progress and estimates time left', () => {
    const s = { epoch: 499, epochs: 1000, step: 2, steps: 4, loss: 0.0123456, rate: 52_300, left: 75 };
    for (const cols of [40, 60, 80, 120]) expect([...formatBar(s, cols)].length).toBeLessThanOrEqual(cols);
    const line = formatBar(s, 100);
    expect(line).toContain('epoch  500/1000');
    expect(line).toContain(' 49%');
    expect(line).toContain('loss 0.01235 ');
    expect(line).toContain('52k samples/s');
    expect(line).toContain('1:15 left');
    const bar = /[█░]+/.exec(line)![0];
    expect(bar.split('█').length - 1).toBe(Math.floor(0.4995 * bar.length));
  });

  it('redraws at most every interval (a fake clock)', () => {
    let t = 0;
    const term = fakeTerminal();
    const r = new TrainingReporter({
      mode: 'bar',
      out: () => {},
      term,
      epochs: 10,
      from: 0,
      batchSize: 1,
      samples: 4,
      now: () => t,
      interval: 100,
    });
    for (let e = 0; e < 10; e++)
      for (let k = 0; k < 4; k++) {
        t += 10; // 40 steps, 10 ms apart: a draw at the first step, then every 100 ms, and the last
        r.onStep({ epoch: e, step: k, steps: 4, loss: 1 / (e + 1) });
      }
    expect(term.written.length).toBe(5);
    const last = term.written[4]!;
    expect(last).toContain('0:00 left');
    expect(last).toContain('100 samples/s');
  });
});

describe('terminal loss chart', () => {
  it('draws a falling curve: the highest dot of each column never rises left to right', () => {
    const recs = Array.from({ length: 50 }, (_, i) => ({ epoch: i * 10, loss: 0.3 * Math.exp(-i / 8) + 0.001 }));
    const lines = lossChart(recs, { width: 40, height: 8 });
    expect(lines[0]).toContain('loss (log scale)');
    const rows = lines
      .slice(1, 9)
      .map((l) => [...l.slice(l.indexOf('┤') >= 0 ? l.indexOf('┤') + 1 : l.indexOf('│') + 1)]);
    expect(rows.every((r) => r.length === 40)).toBe(true);
    const top = (col: number) => {
      for (let y = 0; y < 32; y++) {
        const cell = rows[Math.floor(y / 4)]![col]!.charCodeAt(0) - 0x2800;
        const bits = [
          [0x01, 0x08],
          [0x02, 0x10],
          [0x04, 0x20],
          [0x40, 0x80],
        ][y % 4]!;
        if (cell & (bits[0]! | bits[1]!)) return y;
      }
      return 99;
    };
    const tops = Array.from({ length: 40 }, (_, c) => top(c));
    expect(tops.every((y) => y < 99)).toBe(true); // connected: every column has a dot
    for (let c = 1; c < 40; c++) expect(tops[c]!).toBeGreaterThanOrEqual(tops[c - 1]!);
    expect(lines[1]).toMatch(/^ *0\.301 ┤/);
    expect(lines[lines.length - 1]).toMatch(/0 +490 {2}epoch$/);
  });
});

/** Polyline points of a series, and the axis maps recovered from the tick labels. */
function readPlot(svgText: string) {
  const svg = parseXml(svgText);
  const ticks = (cls: string) => {
    const g = findAll(svg, (e) => e.name === 'g' && e.attrs.class === cls)[0]!;
    return {
      g,
      ticks: g.children
        .filter((c) => c.name === 'text' && c.attrs.class === 'tick')
        .map((t) => ({
          value: Number(t.attrs['data-value']),
          label: t.text,
          x: Number(t.attrs.x),
          y: Number(t.attrs.y),
        })),
    };
  };
  const series = findAll(svg, (e) => e.name === 'polyline').map((p: XmlElement) => ({
    name: p.attrs['data-name']!,
    axis: p.attrs['data-axis']!,
    points: p.attrs
      .points!.trim()
      .split(/\s+/)
      .map((s) => s.split(',').map(Number) as [number, number]),
  }));
  const labels = findAll(svg, (e) => e.name === 'text' && e.attrs.class === 'label').map((t) => t.text);
  return { svg, x: ticks('x-axis'), y: ticks('y-axis'), series, labels };
}

/** Linear map from two ticks: value -> pixel. */
function linearFit(a: { v: number; p: number }, b: { v: number; p: number }) {
  return (v: number) => a.p + ((v - a.v) / (b.v - a.v)) * (b.p - a.p);
}

describe('--plot', () => {
  it('writes an SVG with labelled axes and one point per logged epoch, where the ticks put it', async () => {
    const file = join(tmp, 'loss.svg');
    const r = await cli(['graphs/gender.yaml', '--plot', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const losses = JSON.parse(r.out[0]!).losses as { epoch: number; loss: number }[];
    const p = readPlot(readFileSync(file, 'utf8'));
    expect(p.svg.name).toBe('svg');
    expect(p.labels).toContain('epoch');
    expect(p.labels).toContain('loss (log scale)');
    expect(p.y.g.attrs['data-scale']).toBe('log');
    expect(p.series.map((s) => s.name)).toEqual(['loss']);
    const pts = p.series[0]!.points;
    expect(pts.length).toBe(losses.length);
    // The tick labels say what their data-value says, and are increasing.
    for (const t of [...p.x.ticks, ...p.y.ticks]) expect(Number(t.label)).toBeCloseTo(t.value, 10);
    const xs = p.x.ticks,
      ys = p.y.ticks;
    expect(xs.length).toBeGreaterThanOrEqual(3);
    expect(ys.length).toBeGreaterThanOrEqual(2);
    const X = linearFit({ v: xs[0]!.value, p: xs[0]!.x }, { v: xs[xs.length - 1]!.value, p: xs[xs.length - 1]!.x });
    // y tick labels sit 4px below their grid line (baseline); log axis: fit log10(value).
    const Y = linearFit(
      { v: Math.log10(ys[0]!.value), p: ys[0]!.y - 4 },
      { v: Math.log10(ys[ys.length - 1]!.value), p: ys[ys.length - 1]!.y - 4 },
    );
    losses.forEach((l, i) => {
      expect(pts[i]![0]).toBeCloseTo(X(l.epoch), 0);
      expect(pts[i]![1]).toBeCloseTo(Y(Math.log10(l.loss)), 0);
    });
    // Every point is inside the frame.
    const frame = findAll(p.svg, (e) => e.name === 'rect' && e.attrs.class === 'frame')[0]!.attrs;
    for (const [x, y] of pts) {
      expect(x).toBeGreaterThanOrEqual(Number(frame.x) - 0.01);
      expect(x).toBeLessThanOrEqual(Number(frame.x) + Number(frame.width) + 0.01);
      expect(y).toBeGreaterThanOrEqual(Number(frame.y) - 0.01);
      expect(y).toBeLessThanOrEqual(Number(frame.y) + Number(frame.height) + 0.01);
    }
  });

  it('draws validation loss on the loss axis and accuracy on a right axis, linear when the range is small', () => {
    const recs = Array.from({ length: 11 }, (_, i) => ({
      epoch: i,
      loss: 1 - i * 0.05,
      val_loss: 1.1 - i * 0.04,
      accuracy: 0.5 + i * 0.04,
    }));
    const p = readPlot(plotSvg(recs as never, { title: 't' }));
    expect(p.series.map((s) => [s.name, s.axis])).toEqual([
      ['loss', 'left'],
      ['val_loss', 'left'],
      ['accuracy', 'right'],
    ]);
    expect(p.y.g.attrs['data-scale']).toBe('linear');
    expect(p.labels).toContain('loss, val_loss');
    expect(p.labels).toContain('accuracy');
    const ys = p.y.ticks;
    expect(ys[0]!.value).toBe(0); // a linear loss axis starts at 0
    const Y = linearFit(
      { v: ys[0]!.value, p: ys[0]!.y - 4 },
      { v: ys[ys.length - 1]!.value, p: ys[ys.length - 1]!.y - 4 },
    );
    recs.forEach((r, i) => {
      expect(p.series[0]!.points[i]![1]).toBeCloseTo(Y(r.loss), 0);
      expect(p.series[1]!.points[i]![1]).toBeCloseTo(Y(r.val_loss), 0);
    });
    const y2 = findAll(p.svg, (e) => e.name === 'g' && e.attrs.class === 'y2-axis')[0]!;
    const t2 = y2.children
      .filter((c) => c.attrs.class === 'tick')
      .map((t) => ({ v: Number(t.attrs['data-value']), p: Number(t.attrs.y) - 4 }));
    const A = linearFit(t2[0]!, t2[t2.length - 1]!);
    recs.forEach((r, i) => expect(p.series[2]!.points[i]![1]).toBeCloseTo(A(r.accuracy), 0));
  });

  it('after --resume, the plot shows the whole run, the resumed part included', async () => {
    const ck = join(tmp, 'half.safetensors');
    expect((await cli(['graphs/gender.yaml', '--epochs', '500', '--save', ck, '-q'])).code).toBe(0);
    const file = join(tmp, 'resumed.svg');
    expect((await cli(['graphs/gender.yaml', '--resume', ck, '--plot', file, '-q'])).code).toBe(0);
    // Before training, 0, 10, ..., 990, the first run's last epoch (499) and the last (999).
    expect(readPlot(readFileSync(file, 'utf8')).series[0]!.points.length).toBe(103);
  });

  it('an unwritable plot path fails before training starts', async () => {
    const bad = join(tmp, 'missing-folder', 'loss.svg');
    const save = join(tmp, 'never.safetensors');
    const r = await cli(['graphs/gender.yaml', '--plot', bad, '--save', save]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`cannot write plot "${bad}"`);
    expect(r.out.join('')).toBe('');
    expect(existsSync(save)).toBe(false);
    expect((await cli(['graphs/gender.yaml', '--plot', tmp])).err).toContain('is a directory');
  });

  it('--plot needs a training run', async () => {
    expect((await cli(['graphs/autograd.yaml', '--plot', join(tmp, 'x.svg')])).code).toBe(2);
    expect((await cli(['validate', 'graphs/gender.yaml', '--plot', join(tmp, 'x.svg')])).code).toBe(2);
  });
});
