// Evaluation in batches: the loss and the metrics (training.metrics) over a data set, with
// dropout off, `eval_batch_size` rows at a time, and the records logged after an epoch.

import { DataError, type GraphError } from '../errors.js';
import type { IRGraph } from '../ir/graph.js';
import type { Column } from '../data/index.js';
import { checkLabels } from '../train/labels.js';
import { addMetric, type MetricLayout, metricLayout, metricValue, type MetricSum } from '../train/metrics.js';
import type { MetricDecl } from '../load/model.js';
import type { TypedArray } from '../ir/types.js';
import type { PlanSpec } from './runner.js';
import { fail, type Job, type JobContext, wait } from './job.js';
import type { LossRecord } from './types.js';

/** Rows to evaluate: columns (in data order) and how many rows they hold. */
export interface EvalData {
  columns: Map<string, Column> | null;
  rows: number;
}

/** Loss and metrics over a data set: the loss averaged over its rows, each metric by name. */
export interface Evaluation {
  loss: number;
  rows: number;
  metrics: Record<string, number>;
}

/** Rows per evaluation batch: `training.eval_batch_size`, else the training batch size (256 without training). */
export function evalBatchSize(c: JobContext<unknown>): number {
  const t = c.program.model.training;
  return t?.evalBatchSize ?? t?.batchSize ?? 256;
}

/** What to read after an evaluation batch: the loss, then each metric's prediction and target. */
export interface EvalReads {
  names: string[];
  /** Per metric (declaration order): its layout, or null when the metric reads nothing. */
  layouts: (MetricLayout | null)[];
}

/**
 * One evaluation's sums, batch by batch: which batches to run, what to read after each, and
 * the result. evaluateOn reads after every batch; a chunk of GPU steps (train-chunked.ts)
 * keeps the same values on the device and adds them up once they are read back.
 */
export class EvalSums {
  readonly batches: { start: number; count: number }[] = [];
  private readonly decls: MetricDecl[];
  private readonly sums: MetricSum[];
  private lossSum = 0;

  constructor(
    private readonly c: JobContext<unknown>,
    private readonly data: EvalData,
    batch: number,
  ) {
    checkRows(c.program.eval(Math.max(1, Math.min(batch, data.rows))).built.graph, data, 'data');
    this.decls = c.program.model.training?.metrics ?? [];
    this.sums = this.decls.map(() => ({ sum: 0, count: 0 }));
    const bs = Math.max(1, batch);
    for (let start = 0; start < data.rows; start += bs)
      this.batches.push({ start, count: Math.min(bs, data.rows - start) });
  }

  /** The values to read after a batch of `count` rows ran on the eval plan `spec` (a metric that cannot apply fails here). */
  reads(spec: PlanSpec, count: number): EvalReads {
    const names = [spec.outputs[0]!];
    const nodes = this.c.program.eval(count).metrics;
    const layouts = this.decls.map((d, i) => {
      const { pred, target } = nodes[i]!;
      if (pred === undefined || target === undefined) return null;
      const g = spec.graph;
      const layout = metricLayout(d, g.node(pred).type.shape, g.node(target).type.shape, count);
      if (typeof layout === 'string') fail([new DataError(layout, d.loc)]);
      names.push(pred, target);
      return layout;
    });
    return { names, layouts };
  }

  /** Add a batch of `count` rows, given the values `reads` named (in its order). */
  add(count: number, r: EvalReads, values: TypedArray[]): void {
    this.lossSum += values[0]![0]! * count;
    let at = 1;
    r.layouts.forEach((layout, i) => {
      if (!layout) return;
      addMetric(this.sums[i]!, this.decls[i]!, layout, count, values[at]!, values[at + 1]!);
      at += 2;
    });
  }

  result(): Evaluation {
    const rows = this.data.rows;
    const loss = rows === 0 ? NaN : this.lossSum / rows;
    const metrics: Record<string, number> = {};
    this.decls.forEach((m, i) => {
      metrics[m.name] = metricValue(m, this.sums[i]!, loss);
    });
    return { loss, rows, metrics };
  }
}

/**
 * Loss and metrics over `data` with dropout off, `batch` rows at a time (a short last batch
 * gets a plan of its own), so memory follows the batch, not the data. The loss is the mean of
 * the batch losses weighted by their rows: for a loss that averages over the batch, the loss of
 * the whole data set in one batch. Metrics add up decisions (metrics.ts) over every batch.
 */
export function* evaluateOn<H>(c: JobContext<H>, data: EvalData, batch = evalBatchSize(c)): Job<Evaluation> {
  const sums = new EvalSums(c as JobContext<unknown>, data, batch);
  const src = { columns: data.columns, order: null };
  for (const { start, count } of sums.batches) {
    const { run, spec } = c.runner.prepare('eval', count);
    // Step 0: not a training step, so dropout is the identity.
    c.runner.feedRows(run, start, count, src, { epoch: c.clock.epoch, step: 0 });
    yield* wait(c.runner.execute(run));
    const r = sums.reads(spec, count);
    const values: TypedArray[] = [];
    for (const name of r.names) values.push(yield* wait(c.runner.read(run, name)));
    sums.add(count, r, values);
  }
  return sums.result();
}

/** Fail with a positioned error for every label in `data` outside the classes of the node it reaches in `g`. */
export function checkRows(g: IRGraph, data: EvalData, what: string): void {
  const errors: GraphError[] = [];
  checkLabels(g, data.columns, what, errors);
  if (errors.length) fail(errors);
}

/** Loss and metrics over the training data or the validation data, with dropout off. */
export function* evaluate<H>(c: JobContext<H>, validation: boolean, batch = evalBatchSize(c)): Job<Evaluation> {
  const d = c.data;
  return yield* evaluateOn(c, validation ? { columns: d.valColumns, rows: d.valRows } : d, batch);
}

/** The metrics logged after an epoch: training loss and metrics, and on validation data. */
export function* metrics<H>(c: JobContext<H>, epoch: number, batch = evalBatchSize(c)): Job<LossRecord> {
  const e = yield* evaluate(c, false, batch);
  return lossRecord(epoch, e, c.data.valColumns ? yield* evaluate(c, true, batch) : null);
}

/** The record logged after `epoch`: the training data's evaluation, and the validation data's as `val_…`. */
export function lossRecord(epoch: number, e: Evaluation, v: Evaluation | null): LossRecord {
  const r: LossRecord = { epoch, loss: e.loss, ...e.metrics };
  if (v) {
    r.val_loss = v.loss;
    for (const [k, x] of Object.entries(v.metrics)) r[`val_${k}`] = x;
  }
  return r;
}
