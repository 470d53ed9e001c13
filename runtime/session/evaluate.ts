// Evaluation in batches: the loss and the metrics (training.metrics) over a data set, with
// dropout off, `eval_batch_size` rows at a time, and the records logged after an epoch.

import { DataError, type GraphError } from '../errors.js';
import type { IRGraph } from '../ir/graph.js';
import type { Column } from '../data/index.js';
import { checkLabels } from '../train/labels.js';
import { addMetric, metricLayout, metricValue, type MetricSum } from '../train/metrics.js';
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

/**
 * Loss and metrics over `data` with dropout off, `batch` rows at a time (a short last batch
 * gets a plan of its own), so memory follows the batch, not the data. The loss is the mean of
 * the batch losses weighted by their rows: for a loss that averages over the batch, the loss of
 * the whole data set in one batch. Metrics add up decisions (metrics.ts) over every batch.
 */
export function* evaluateOn<H>(c: JobContext<H>, data: EvalData, batch = evalBatchSize(c)): Job<Evaluation> {
  checkRows(c.program.eval(Math.max(1, Math.min(batch, data.rows))).built.graph, data, 'data');
  const decls = c.program.model.training?.metrics ?? [];
  const sums: MetricSum[] = decls.map(() => ({ sum: 0, count: 0 }));
  const src = { columns: data.columns, order: null };
  let lossSum = 0;
  const bs = Math.max(1, batch);
  for (let start = 0; start < data.rows; start += bs) {
    const count = Math.min(bs, data.rows - start);
    const { run, spec } = c.runner.prepare('eval', count);
    // Step 0: not a training step, so dropout is the identity.
    c.runner.feedRows(run, start, count, src, { epoch: c.clock.epoch, step: 0 });
    yield* wait(c.runner.execute(run));
    lossSum += (yield* wait(c.runner.read(run, spec.outputs[0]!)))[0]! * count;
    const nodes = c.program.eval(count).metrics;
    for (let i = 0; i < decls.length; i++) {
      const { pred, target } = nodes[i]!;
      if (pred === undefined || target === undefined) continue;
      const g = spec.graph;
      const layout = metricLayout(decls[i]!, g.node(pred).type.shape, g.node(target).type.shape, count);
      if (typeof layout === 'string') fail([new DataError(layout, decls[i]!.loc)]);
      const p = yield* wait(c.runner.read(run, pred));
      const t = yield* wait(c.runner.read(run, target));
      addMetric(sums[i]!, decls[i]!, layout, count, p, t);
    }
  }
  const loss = data.rows === 0 ? NaN : lossSum / data.rows;
  const metrics: Record<string, number> = {};
  decls.forEach((m, i) => {
    metrics[m.name] = metricValue(m, sums[i]!, loss);
  });
  return { loss, rows: data.rows, metrics };
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
  const r: LossRecord = { epoch, loss: e.loss, ...e.metrics };
  if (c.data.valColumns) {
    const v = yield* evaluate(c, true, batch);
    r.val_loss = v.loss;
    for (const [k, x] of Object.entries(v.metrics)) r[`val_${k}`] = x;
  }
  return r;
}
