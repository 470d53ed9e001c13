// `graph-run sweep net.yaml --set optimizer.with.lr=1e-3,3e-3 --set training.batch_size=32,64`:
// the grid the value lists span, one training run per point. Locally each point runs in a child
// process of this same CLI (`sweep ... --index I --json`), as many at once as there are cores, so
// points share nothing (no state, no thread pool) and a crash loses one row; on Kubernetes each
// completion index of an Indexed Job runs the same command (k8s.ts). One function (gridPoint)
// maps an index to its settings, so the table's order and the Job's indices cannot drift.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DeviceChoice, type FloatDType, type Model, Session, type Setting, UsageError } from '../index.js';
import { ensureWritable, writeFileAtomic } from './files.js';

/** One --set: a key and the values to try. */
export interface Axis {
  key: string;
  values: unknown[];
}

/** Above this many points a sweep needs --yes. */
export const CONFIRM_POINTS = 10_000;

/** Points in the grid (Infinity past 2^53: never run, --yes or not). */
export function gridSize(axes: readonly Axis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** The settings of point `index`: the first --set varies slowest, as nested loops in the order written. */
export function gridPoint(axes: readonly Axis[], index: number): Setting[] {
  const out: Setting[] = [];
  let rest = index;
  for (let i = axes.length - 1; i >= 0; i--) {
    const a = axes[i]!;
    out.unshift({ key: a.key, value: a.values[rest % a.values.length] });
    rest = Math.floor(rest / a.values.length);
  }
  return out;
}

/** The --set options as the command line needs them (a key at most once). */
export function sweepAxes(set: Axis[] | undefined): Axis[] {
  const axes = set ?? [];
  if (axes.length === 0) throw new UsageError('graph-run sweep needs at least one --set KEY=V1,V2,...');
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new UsageError(`--set ${a.key} is given twice: list all its values in one --set`);
    seen.add(a.key);
  }
  return axes;
}

/** A grid's size checked against --yes. */
export function checkGrid(axes: readonly Axis[], yes: boolean): number {
  const n = gridSize(axes);
  if (!Number.isSafeInteger(n)) throw new UsageError(`the grid has ${n} points: too many to run`);
  if (n > CONFIRM_POINTS && !yes)
    throw new UsageError(
      `the grid has ${n.toLocaleString('en-US')} points (over ${CONFIRM_POINTS.toLocaleString('en-US')}): add --yes to run them all`,
    );
  return n;
}

/** A value as --set takes it back (JSON is YAML; plain words stay bare). */
export function valueText(v: unknown): string {
  return typeof v === 'string' && /^[A-Za-z_][\w.-]*$/.test(v) && !/^(true|false|null|yes|no|on|off)$/i.test(v)
    ? v
    : JSON.stringify(v);
}

/** The --set arguments that rebuild the grid in another process. */
export function setArgs(axes: readonly Axis[]): string[] {
  return axes.flatMap((a) => ['--set', `${a.key}=${a.values.map(valueText).join(',')}`]);
}

/** One point's results: its settings, the final logged record's loss and metrics, the wall time. */
export interface SweepRow {
  index: number;
  set: Record<string, unknown>;
  /** The last epoch trained (from 0), as in the training log. */
  epoch?: number;
  loss?: number;
  /** Further metrics of the final record (accuracy, val_loss, training.metrics). */
  metrics?: Record<string, number>;
  /** Seconds from loading the graph to the end of training, in the process that ran the point. */
  wall_s?: number;
  /** Why the point failed (its first error line), when it did. */
  error?: string;
}

export interface SweepOptions {
  dtype: FloatDType;
  device?: DeviceChoice;
  epochs?: number;
  json?: boolean;
  quiet?: boolean;
  out?: string;
  jobs?: number;
  dataRoot?: string[];
}

/** Train the one point the model was loaded with (sweep --index). */
export async function runPoint(
  model: Model,
  index: number,
  point: readonly Setting[],
  o: SweepOptions,
  started: number,
): Promise<SweepRow> {
  if (!model.training)
    throw new UsageError(`${model.file} has no training section: graph-run sweep compares training runs`);
  const s = await Session.create(model, { dtype: o.dtype, ...(o.device ? { device: o.device } : {}) });
  try {
    const losses = await s.trainAsync({ epochs: o.epochs ?? model.training.epochs, logEnds: true });
    const last = losses.at(-1);
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(last ?? {}))
      if (k !== 'epoch' && k !== 'loss' && typeof v === 'number') metrics[k] = v;
    return {
      index,
      set: Object.fromEntries(point.map((p) => [p.key, p.value])),
      ...(last ? { epoch: last.epoch, loss: last.loss } : {}),
      metrics,
      wall_s: round((performance.now() - started) / 1000),
    };
  } finally {
    s.dispose();
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** bin/graph-run.js of this installation (the compiled CLI lies in dist/runtime/cli). */
function executable(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const root of [join(here, '..', '..', '..'), join(here, '..', '..')]) {
    const p = join(root, 'bin', 'graph-run.js');
    if (existsSync(p)) return p;
  }
  throw new UsageError('cannot find bin/graph-run.js beside the compiled CLI to run the grid points');
}

/** The arguments every point's process gets besides its --index (here, and in each pod of a Kubernetes Job). */
export function childArgs(file: string, axes: readonly Axis[], o: SweepOptions): string[] {
  return [
    'sweep',
    file,
    ...setArgs(axes),
    '--dtype',
    o.dtype,
    ...(o.device ? ['--device', o.device] : []),
    ...(o.epochs !== undefined ? ['--epochs', String(o.epochs)] : []),
    ...(o.dataRoot ?? []).flatMap((r) => ['--data-root', r]),
    '--json',
  ];
}

/** Run one point in a child process; its row, or the error it ended with. */
function runChild(args: string[], index: number, axes: readonly Axis[]): Promise<SweepRow> {
  return new Promise((resolve) => {
    const set = Object.fromEntries(gridPoint(axes, index).map((p) => [p.key, p.value]));
    const child = spawn(process.execPath, [executable(), ...args, '--index', String(index)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    // A point prints one line of JSON; a runaway child is cut off rather than held in memory.
    child.stdout.on('data', (d: Buffer) => {
      if (out.length < 1 << 20) out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (err.length < 1 << 16) err += d.toString();
    });
    child.on('error', (e) => resolve({ index, set, error: e.message }));
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) {
        try {
          resolve(JSON.parse(line) as SweepRow);
          return;
        } catch {
          /* reported below */
        }
      }
      const why = err
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l && !l.startsWith('Try graph-run'));
      resolve({ index, set, error: (why ?? `exit code ${code}`).slice(0, 300) });
    });
  });
}

/** The whole grid, `jobs` points at a time; rows in index order. */
export async function runGrid(
  file: string,
  axes: readonly Axis[],
  o: SweepOptions,
  note: (s: string) => void,
): Promise<SweepRow[]> {
  const n = gridSize(axes);
  const jobs = Math.max(1, Math.min(o.jobs ?? availableParallelism(), n));
  const args = childArgs(file, axes, o);
  const rows: SweepRow[] = new Array(n);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      rows[i] = await runChild(args, i, axes);
      done++;
      const r = rows[i]!;
      note(
        `point ${i} (${done}/${n}): ${Object.entries(r.set)
          .map(([k, v]) => `${k}=${valueText(v)}`)
          .join(' ')}: ${r.error ? `failed: ${r.error}` : `loss ${r.loss?.toPrecision(6)}, ${r.wall_s} s`}`,
      );
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return rows;
}

/** The table's columns: index, each key, loss, each metric seen, wall time, error if any failed. */
function columnsOf(axes: readonly Axis[], rows: readonly SweepRow[]): string[] {
  const metrics: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.metrics ?? {})) if (!metrics.includes(k)) metrics.push(k);
  return [
    'index',
    ...axes.map((a) => a.key),
    'epoch',
    'loss',
    ...metrics,
    'wall_s',
    ...(rows.some((r) => r.error) ? ['error'] : []),
  ];
}

function cell(r: SweepRow, c: string, axes: readonly Axis[]): unknown {
  if (axes.some((a) => a.key === c)) return r.set[c];
  if (c === 'index' || c === 'epoch' || c === 'loss' || c === 'wall_s' || c === 'error') return r[c];
  return r.metrics?.[c];
}

const csvField = (v: unknown): string => {
  const s = v === undefined ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The table as CSV: a header, one line per point. */
export function sweepCsv(axes: readonly Axis[], rows: readonly SweepRow[]): string {
  const cols = columnsOf(axes, rows);
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => csvField(cell(r, c, axes))).join(','))].join('\n')}\n`;
}

/** The table as aligned text columns, as printed. */
export function sweepText(axes: readonly Axis[], rows: readonly SweepRow[]): string {
  const cols = columnsOf(axes, rows);
  const text = (v: unknown, c: string) =>
    v === undefined
      ? ''
      : c === 'wall_s'
        ? (v as number).toFixed(2)
        : typeof v === 'number' && !axes.some((a) => a.key === c) && !Number.isInteger(v)
          ? v.toPrecision(6)
          : valueText(v);
  const body = rows.map((r) => cols.map((c) => text(cell(r, c, axes), c)));
  const w = cols.map((c, i) => Math.max(c.length, ...body.map((b) => b[i]!.length)));
  return [cols, ...body]
    .map((line) =>
      line
        .map((s, i) => s.padEnd(w[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Write the table to `path`: .json (the rows) or .csv. */
export function writeTable(path: string, file: string, axes: readonly Axis[], rows: readonly SweepRow[]): void {
  const json = extname(path).toLowerCase() === '.json';
  writeFileAtomic(
    path,
    json
      ? `${JSON.stringify({ graph: file, keys: axes.map((a) => a.key), points: rows }, null, 1)}\n`
      : sweepCsv(axes, rows),
    'sweep results',
  );
}

/** --out's extension, checked before anything runs. */
export function checkTableOut(path: string | undefined): void {
  if (path === undefined) return;
  if (!/\.(csv|json)$/i.test(path)) throw new UsageError(`--out "${path}": a sweep writes its table as .csv or .json`);
  ensureWritable(path, 'sweep results');
}
