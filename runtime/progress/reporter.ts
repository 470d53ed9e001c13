// What a training run shows while it trains: on a terminal a progress bar (epoch, step, loss,
// throughput, time left) redrawn in place, then a summary and a loss chart; otherwise one plain
// line per logged epoch; nothing with --quiet or --json. Pure: the terminal is passed in.

import type { LossRecord, StepRecord } from '../session.js';
import { lossChart } from './chart.js';

/** Where the bar is drawn: a terminal that takes raw text (no newline added). */
export interface Terminal {
  isTTY: boolean;
  columns?: number;
  write(s: string): void;
}

/** How training progress is shown: a progress bar, log lines, or nothing. */
export type ProgressMode = 'bar' | 'lines' | 'quiet';

/** Options of `TrainingReporter`: the mode, where it prints and the run's size. */
export interface ReporterOptions {
  mode: ProgressMode;
  /** Whole lines (a newline is added). */
  out: (line: string) => void;
  /** Needed for 'bar'. */
  term?: Terminal;
  /** Train until this epoch (exclusive), starting at `from`. */
  epochs: number;
  from: number;
  batchSize: number;
  samples: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
  /** Least time between redraws, ms (default 100: smooth, and cheap next to fast steps). */
  interval?: number;
}

/** The progress mode for a run: a bar on a real terminal, lines elsewhere, quiet on request. */
export function progressMode(
  opts: { quiet?: boolean; json?: boolean },
  term: Terminal | undefined,
  env: Record<string, string | undefined> = {},
): ProgressMode {
  if (opts.quiet || opts.json) return 'quiet';
  return term?.isTTY && env.TERM !== 'dumb' && !env.CI ? 'bar' : 'lines';
}

export interface BarState {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number | undefined;
  /** The last logged record's other metrics (accuracy, validation), shown after the loss. */
  logged?: LossRecord;
  /** Samples per second so far. */
  rate: number;
  /** Seconds left, estimated from the rate so far. */
  left: number;
}

function fmtTime(sec: number): string {
  if (!Number.isFinite(sec)) return '--:--';
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

function fmtRate(r: number): string {
  if (!Number.isFinite(r) || r <= 0) return '-';
  return r >= 1e6
    ? `${(r / 1e6).toFixed(1)}M`
    : r >= 1e4
      ? `${(r / 1e3).toFixed(0)}k`
      : r >= 1e3
        ? `${(r / 1e3).toFixed(1)}k`
        : r.toFixed(r >= 10 ? 0 : 1);
}

/** One progress line, at most `columns` characters wide. */
export function formatBar(s: BarState, columns = 80): string {
  const frac = s.epochs > 0 ? Math.min(1, (s.epoch + s.step / Math.max(1, s.steps)) / s.epochs) : 1;
  const epochW = String(s.epochs).length;
  const head = `epoch ${String(Math.min(s.epoch + 1, s.epochs)).padStart(epochW)}/${s.epochs}`;
  const loss = s.loss === undefined ? '-' : String(Number(s.loss.toPrecision(4)));
  const more = s.logged ? otherMetrics(s.logged, (v) => String(Number(v.toPrecision(4)))) : '';
  const tail = ` ${String(Math.floor(frac * 100)).padStart(3)}% step ${s.step}/${s.steps} loss ${loss}${more} ${fmtRate(s.rate)} samples/s ${fmtTime(s.left)} left`;
  const barW = Math.max(0, Math.min(30, columns - head.length - tail.length - 1));
  // Too narrow for a bar: the numbers matter more.
  if (barW < 5) return (head + tail).slice(0, columns);
  const full = Math.floor(frac * barW);
  const bar = '█'.repeat(full) + (full < barW ? '░'.repeat(barW - full) : '');
  return `${head} ${bar}${tail}`;
}

/** The metrics of a record besides its loss, as ` accuracy 0.95 val_loss 0.0051 val_accuracy 0.93` (those it has). */
export function otherMetrics(r: LossRecord, fmt: (v: number, digits: number) => string, sep = ' '): string {
  // Every metric the record holds (training.metrics, validation), in record order; losses with
  // six digits, the rest (accuracies, perplexity) with four.
  return Object.entries(r)
    .filter(([k, v]) => k !== 'epoch' && k !== 'loss' && typeof v === 'number')
    .map(([k, v]) => `${sep}${k} ${fmt(v as number, k.endsWith('loss') ? 6 : 4)}`)
    .join('');
}

/** How a logged record's epoch reads: `epoch 10`, or `before training` for the record before it (-1). */
export function epochLabel(epoch: number, width = 0): string {
  return epoch < 0 ? 'before training' : `epoch ${String(epoch).padStart(width)}`;
}

/**
 * Reports a training run: pass its callbacks to Session.train, then call finish().
 * @example const r = new TrainingReporter({ mode: 'lines', out: console.log, epochs: 10, from: 0, batchSize: 1, samples: 4 });
 *          session.train({ epochs: 10, onStep: (s) => r.onStep(s), onLog: (l) => r.onLog(l) }); r.finish([]);
 */
export class TrainingReporter {
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = -Infinity;
  private stepsDone = 0;
  private lastLoss: number | undefined;
  private lastLog: LossRecord | undefined;
  private drawn = false;

  constructor(private readonly o: ReporterOptions) {
    this.now = o.now ?? (() => Date.now());
    this.started = this.now();
  }

  onStep(s: StepRecord): void {
    if (this.o.mode !== 'bar') return;
    this.stepsDone++;
    // NaN: a step whose loss was not read (on a GPU); the bar shows the logged losses then.
    if (this.lastLoss === undefined && !Number.isNaN(s.loss)) this.lastLoss = s.loss;
    const t = this.now();
    const lastStep = s.epoch === this.o.epochs - 1 && s.step === s.steps - 1;
    if (t - this.lastDraw < (this.o.interval ?? 100) && !lastStep) return;
    this.lastDraw = t;
    const elapsed = Math.max(1e-3, (t - this.started) / 1000);
    const total = (this.o.epochs - this.o.from) * s.steps;
    const perStep = elapsed / this.stepsDone;
    this.o.term!.write(
      `\r${formatBar(
        {
          epoch: s.epoch,
          epochs: this.o.epochs,
          step: s.step + 1,
          steps: s.steps,
          loss: this.lastLoss,
          ...(this.lastLog ? { logged: this.lastLog } : {}),
          rate: (this.stepsDone * this.o.batchSize) / elapsed,
          left: perStep * (total - this.stepsDone),
        },
        this.o.term!.columns || 80,
      )}\x1b[K`,
    );
    this.drawn = true;
  }

  onLog(r: LossRecord): void {
    this.lastLoss = r.loss;
    this.lastLog = r;
    if (this.o.mode !== 'lines') return;
    // Metrics and validation values, where the graph asks for them (training.metrics, validation).
    const tail = otherMetrics(r, (v, d) => v.toFixed(d), '  ');
    this.o.out(`${epochLabel(r.epoch, String(this.o.epochs).length)}  loss ${r.loss.toFixed(6)}${tail}`);
  }

  /** End of training: clear the bar, print a summary and the loss chart of `history` (bar mode). */
  finish(history: readonly LossRecord[]): void {
    if (this.o.mode !== 'bar') return;
    if (this.drawn) this.o.term!.write('\r\x1b[K');
    const sec = (this.now() - this.started) / 1000;
    const rate = sec > 0 ? (this.stepsDone * this.o.batchSize) / sec : Infinity;
    const last = history[history.length - 1];
    const done =
      this.o.epochs > this.o.from
        ? `trained epochs ${this.o.from}..${this.o.epochs - 1} in ${sec.toFixed(2)} s (${fmtRate(rate)} samples/s)`
        : `no epochs left to train (${this.o.from} done)`;
    const metrics = last ? `, loss ${last.loss.toFixed(6)}${otherMetrics(last, (v, d) => v.toFixed(d))}` : '';
    this.o.out(`${done}${last ? `${metrics} ${last.epoch < 0 ? 'before training' : `at epoch ${last.epoch}`}` : ''}`);
    const chart = lossChart(history, { width: Math.max(20, Math.min(60, (this.o.term!.columns || 80) - 16)) });
    for (const l of chart) this.o.out(l);
  }
}
