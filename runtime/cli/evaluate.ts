// `graph-run eval` and `graph-run predict`: a data file named on the command line (read with the
// graph's column spec, checked like training data), the parameters of a checkpoint (--load) or
// the initial ones, and the graph run over every row in batches. eval prints the loss and the
// metrics; predict writes the outputs (--out .csv or .npy) or prints the first rows.

import { statSync } from 'node:fs';
import {
  DataError,
  encodeNpy,
  GraphErrors,
  type LoaderIO,
  type Model,
  predictionsCsv,
  readDataset,
  Session,
  type Tensor,
  UsageError,
} from '../index.js';
import { openCheckpoints } from './checkpoints.js';
import { ensureWritable, writeFileAtomic } from './files.js';
import type { RunOptions } from './run.js';

export interface DataOptions extends RunOptions {
  data?: string;
  /** Input -> the data file's column(s), replacing training.data's `columns:`. */
  columns?: Record<string, string | string[]>;
  batchSize?: number;
  out?: string;
}

/** One output as a .npy file of [rows, ...]. */
const npyOf = (t: Tensor) => encodeNpy(t.shape, t.data);

/** Rows predict prints without --out. */
const SHOWN = 10;

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6));

/**
 * --data: one file, or one binary array file per input (`image=test-images.idx,label=test-labels.idx`),
 * each checked to exist first (a missing file is a data error, not a usage error).
 */
function dataOf(command: string, o: DataOptions): string | Record<string, string> {
  if (o.data === undefined)
    throw new UsageError(
      `graph-run ${command} needs --data FILE: the rows to ${command === 'eval' ? 'evaluate' : 'predict'}`,
    );
  const perInput = /^[A-Za-z_][\w.]*=/.test(o.data) && !statIsFile(o.data);
  const files: Record<string, string> = {};
  if (perInput)
    for (const part of o.data.split(',')) {
      const m = /^([A-Za-z_][\w.]*)=(.+)$/.exec(part.trim());
      if (!m) throw new UsageError(`--data takes FILE or input=FILE pairs separated by commas, got "${o.data}"`);
      files[m[1]!] = m[2]!;
    }
  for (const f of perInput ? Object.values(files) : [o.data]) {
    let why: string | undefined;
    try {
      if (!statSync(f).isFile()) why = 'it is not a regular file';
    } catch {
      why = 'no such file';
    }
    if (why)
      throw new GraphErrors([
        new DataError(
          `cannot read data file "${f}": ${why}`,
          { file: f, line: 1, col: 1 },
          undefined,
          'the path is relative to the working directory',
        ),
      ]);
  }
  return perInput ? files : o.data;
}

function statIsFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** How --data reads in messages. */
const dataName = (d: string | Record<string, string>) =>
  typeof d === 'string'
    ? d
    : Object.entries(d)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');

/** The session with --load's parameters (or the initial ones), on the device the options ask for. */
async function sessionFor(model: Model, o: DataOptions, note: (s: string) => void): Promise<Session> {
  const s = await Session.create(model, {
    dtype: o.dtype,
    ...(o.device ? { device: o.device } : {}),
    strictDevice: o.strictDevice === true,
  });
  try {
    openCheckpoints(s, o.load ? { load: o.load } : {}, note);
    return s;
  } catch (e) {
    s.dispose();
    throw e;
  }
}

/** `graph-run eval`: loss and metrics over every row of --data. */
export async function evalCommand(model: Model, o: DataOptions, io: LoaderIO, out: (s: string) => void): Promise<void> {
  const file = dataOf('eval', o);
  // The loss is what eval reports: the forward graph alone cannot be evaluated.
  if (!model.loss) throw new UsageError(`${model.file} declares no loss: graph-run eval reports the loss and metrics`);
  const s = await sessionFor(model, o, o.json ? () => {} : out);
  try {
    if (o.explain) (o.json ? () => {} : out)(s.explain());
    const data = readDataset(model, file, io, { float: s.float, ...(o.columns ? { columns: o.columns } : {}) });
    const r = await s.evaluateDataAsync(data, o.batchSize);
    if (o.json) {
      out(
        JSON.stringify({ data: dataName(file), rows: r.rows, loss: r.loss, ...r.metrics, params: o.load ?? 'initial' }),
      );
      return;
    }
    const metrics = Object.entries(r.metrics).map(([k, v]) => `  ${k} ${fmt(v)}`);
    out(
      `${dataName(file)}: ${r.rows} rows (${o.load ? `parameters from ${o.load}` : 'initial parameters'}, ${s.float})`,
    );
    out(`  loss ${fmt(r.loss)}`);
    for (const m of metrics) out(m);
  } finally {
    s.dispose();
  }
}

/** The output file's kind, from its extension: checked before anything runs. */
function outKind(path: string | undefined, model: Model): 'csv' | 'npy' | undefined {
  if (path === undefined) return undefined;
  const kind = /\.csv$/i.test(path) ? 'csv' : /\.npy$/i.test(path) ? 'npy' : undefined;
  if (!kind) throw new UsageError(`--out "${path}": write predictions to a .csv or a .npy file`);
  if (kind === 'npy' && model.outputs.length !== 1)
    throw new UsageError(
      `--out "${path}": a .npy file holds one array, and the graph has ${model.outputs.length} outputs (${model.outputs.map((x) => x.name).join(', ')}); write a .csv`,
    );
  ensureWritable(path, 'predictions');
  return kind;
}

/** `graph-run predict`: the outputs for every row of --data, written to --out or shown. */
export async function predictCommand(
  model: Model,
  o: DataOptions,
  io: LoaderIO,
  out: (s: string) => void,
): Promise<void> {
  const file = dataOf('predict', o);
  const kind = outKind(o.out, model);
  if (model.outputs.length === 0)
    throw new UsageError(`${model.file} declares no outputs: there is nothing to predict`);
  const s = await sessionFor(model, o, o.json || !o.out ? () => {} : out);
  try {
    if (o.explain) (o.json ? () => {} : out)(s.explain());
    // Predictions need the inputs the outputs read, not the targets.
    const data = readDataset(model, file, io, {
      inputs: s.program.forwardInputs(),
      float: s.float,
      ...(o.columns ? { columns: o.columns } : {}),
    });
    const preds = await s.predictDataAsync(data, o.batchSize);
    const names = Object.keys(preds);
    if (!names.length)
      throw new UsageError(
        `no output of ${model.file} has one row per sample (a leading batch axis): run all ${data.rows} rows as one batch with --batch-size ${data.rows}`,
      );
    if (kind && o.out) {
      writeFileAtomic(o.out, kind === 'csv' ? predictionsCsv(preds) : npyOf(preds[names[0]!]!), 'predictions');
      out(
        o.json
          ? JSON.stringify({ data: dataName(file), rows: data.rows, out: o.out, outputs: names })
          : `${dataName(file)}: ${data.rows} rows -> ${o.out} (${names.join(', ')})`,
      );
      return;
    }
    const shown = Math.min(SHOWN, data.rows);
    if (o.json) {
      const first = (t: Tensor) => {
        const per = t.data.length / Math.max(1, t.shape[0]!);
        return { shape: t.shape, data: Array.from(t.data.subarray(0, per * shown)) };
      };
      out(
        JSON.stringify({
          data: dataName(file),
          rows: data.rows,
          shown,
          outputs: Object.fromEntries(names.map((n) => [n, first(preds[n]!)])),
        }),
      );
      return;
    }
    out(predictionsCsv(preds, 0, shown).trimEnd());
    if (data.rows > shown) out(`... ${data.rows - shown} more rows (${data.rows} in all; --out FILE writes every row)`);
  } finally {
    s.dispose();
  }
}
