// Training on data in memory (arrays, typed arrays, or a data set read with readDataset) with
// the options of the YAML `training:` section: the same loop, the same seeded shuffles, the
// same metrics and callbacks as `session.train()`. An option left out takes the graph's
// training section's value, so trainOn() on a graph's own data reproduces its YAML run exactly.

import { DataError, GraphErrors, type SourceLoc } from '../errors.js';
import { arrayDataset, type ArrayValues, type Dataset } from '../data/dataset.js';
import type { Column } from '../data/index.js';
import type { Session } from '../session.js';
import { checkRows, type TrainSettings } from './jobs.js';
import { TrainingData } from './state.js';
import type { LossRecord, TrainOptions } from './types.js';

/** Training data for trainOn(): a data set, or arrays by input name (flat row-major, typed, or nested rows). */
export type TrainOnData = Dataset | Record<string, ArrayValues>;

export interface TrainOnOptions extends TrainOptions {
  /** Rows per optimizer step (default: training.batch_size, else 32; at most the rows). */
  batchSize?: number;
  /** Visit the rows in a new seeded order every epoch (default: training.shuffle, else false). */
  shuffle?: boolean;
  /** Seed of the shuffled orders (default: the graph's `seed`, else 0). */
  seed?: number;
  /** Log the loss and metrics after epochs 0, N, 2N, ... (default: training.log_every, else 1). */
  logEvery?: number;
  /** Rows per evaluation batch for the logged metrics (default: training.eval_batch_size, else batchSize). */
  evalBatchSize?: number;
  /** Held-out data: the last `split` fraction of the rows, or a data set of its own. */
  validation?: { split: number } | TrainOnData;
}

const isDataset = (d: TrainOnData): d is Dataset => d.columns instanceof Map && typeof d.rows === 'number';

function dataset(session: Session, d: TrainOnData, what: string): Dataset {
  return isDataset(d)
    ? d
    : arrayDataset(session.model, d as Record<string, ArrayValues>, { what, float: session.float });
}

/** Rows [from, to) of a data set (views of typed arrays, no copy). */
function rowsOf(d: Dataset, from: number, to: number): Dataset {
  const columns = new Map<string, Column>();
  for (const [k, c] of d.columns) {
    const values = c.values.subarray(from * c.rowSize, to * c.rowSize);
    columns.set(k, c.batched ? { ...c, rows: to - from, values, loc: (r) => c.loc(r + from) } : c);
  }
  return { columns, rows: to - from };
}

/** The settings and the training and validation data of a trainOn() call, checked. */
function prepare(
  session: Session,
  data: TrainOnData,
  o: TrainOnOptions,
): { settings: TrainSettings; sets: TrainingData } {
  const m = session.model;
  const t = m.training;
  const loc: SourceLoc = t?.loc ?? { file: m.file, line: 1, col: 1 };
  const fail = (msg: string, hint?: string): never => {
    throw new GraphErrors([new DataError(`trainOn(): ${msg}`, loc, undefined, hint)]);
  };
  let train = dataset(session, data, 'trainOn() data');
  let val: Dataset | null = null;
  const v = o.validation;
  if (v && 'split' in v && typeof v.split === 'number') {
    const n = train.rows;
    const cut = Math.floor(n * (1 - v.split));
    if (!(v.split > 0 && v.split < 1) || cut < 1 || cut >= n)
      fail(
        `a validation split of ${v.split} leaves ${cut} of ${n} rows for training and ${n - cut} for validation; both need at least one`,
      );
    val = rowsOf(train, cut, n);
    train = rowsOf(train, 0, cut);
  } else if (v) val = dataset(session, v as TrainOnData, 'trainOn() validation data');
  if (train.rows === 0) fail('the training data has no rows');
  const batchSize = o.batchSize ?? t?.batchSize ?? Math.min(32, train.rows);
  const whole = (x: number | undefined, name: string, min: number) => {
    if (x !== undefined && !(Number.isInteger(x) && x >= min))
      fail(`${name} must be a whole number >= ${min}, got ${x}`);
  };
  whole(o.batchSize, 'batchSize', 1);
  whole(o.epochs, 'epochs', 0);
  whole(o.logEvery, 'logEvery', 1);
  whole(o.evalBatchSize, 'evalBatchSize', 1);
  if (batchSize > train.rows) fail(`batchSize ${batchSize} is larger than the training data (${train.rows} rows)`);
  const settings: TrainSettings = {
    epochs: o.epochs ?? t?.epochs ?? 1,
    batchSize,
    shuffle: o.shuffle ?? t?.shuffle === true,
    logEvery: o.logEvery ?? t?.logEvery ?? 1,
    seed: o.seed ?? m.seed ?? 0,
    evalBatchSize: o.evalBatchSize ?? t?.evalBatchSize ?? batchSize,
    loc,
  };
  // A label outside its classes would stop a step half-way: every row is checked first.
  const g = session.program.typed(batchSize).graph;
  checkRows(g, train, 'trainOn() data');
  if (val) checkRows(g, val, 'trainOn() validation data');
  const sets = new TrainingData(() => ({
    train: train.columns,
    val: val?.columns ?? null,
    rows: train.rows,
    valRows: val?.rows ?? 0,
  }));
  return { settings, sets };
}

/**
 * Train on data in memory with the options of a `training:` section (each defaults to the
 * graph's own): batches, seeded shuffling, validation data or split, metrics, and the callbacks
 * onStep, onLog and onEpoch. Returns the logged records, as train() does. CPU; trainOnAsync on any device.
 * @example const log = trainOn(session, { x: Float32Array.of(-2, -1, 25, 6), y: [1, 0] }, { epochs: 100, batchSize: 1 });
 */
export function trainOn(session: Session, data: TrainOnData, opts: TrainOnOptions = {}): LossRecord[] {
  const { settings, sets } = prepare(session, data, opts);
  return session.trainLoop(sets, settings, opts);
}

/**
 * trainOn() on any device: on WebGPU the steps queue without a read each, as trainAsync's do.
 * @example const log = await trainOnAsync(await Session.create(model, { device: 'auto' }), { x, y }, { epochs: 5 });
 */
export async function trainOnAsync(
  session: Session,
  data: TrainOnData,
  opts: TrainOnOptions = {},
): Promise<LossRecord[]> {
  const { settings, sets } = prepare(session, data, opts);
  return session.trainLoopAsync(sets, settings, opts);
}
