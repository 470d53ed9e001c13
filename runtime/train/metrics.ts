// Metrics beyond the loss (training.metrics): accuracy, top-k accuracy and perplexity of a
// prediction against a target, both any node with a leading batch axis. A prediction's last
// axis holds the classes; every other position is one decision, so [batch, T, classes] logits
// against [batch, T] labels score T positions per sample, not one flattened row. A target is a
// label per position, or a one-hot (or probability) row per position. One value per position
// (no classes axis, or one of size 1) is a binary decision: class 1 when it exceeds the
// threshold, against targets above 0.5. Each batch adds to a running sum, so metrics over
// batches equal the metric over the whole data set.

import { DataError, type GraphError } from '../errors.js';
import type { Shape } from '../ir/types.js';
import type { MetricDecl } from '../load/model.js';

/** How a prediction and a target line up, per sample. */
export interface MetricLayout {
  /** Decisions per sample (T for [batch, T, classes]). */
  positions: number;
  /** Classes per decision (1: binary, thresholded). */
  classes: number;
  /** The target holds a row of `classes` values per position (one-hot or probabilities), not a label. */
  oneHot: boolean;
}

const size = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * The layout of a metric's pred and target shapes (at a bound batch size), or a message saying
 * why they do not fit.
 */
export function metricLayout(m: MetricDecl, pred: Shape, target: Shape, batch: number): MetricLayout | string {
  if (pred[0] !== batch || target[0] !== batch)
    return `${m.name} compares one value per sample: pred has shape ${fmt(pred)} and target ${fmt(target)} at batch size ${batch}, and both need the batch axis first`;
  const row = pred.slice(1);
  const classes = row.length === 0 ? 1 : row[row.length - 1]!;
  const per = size(row);
  const positions = classes === 0 ? 0 : per / classes;
  const t = size(target.slice(1));
  const oneHot = classes > 1 && t === per;
  if (t !== positions && !oneHot)
    return `${m.name}: pred has shape ${fmt(pred)} (${positions} position${positions === 1 ? '' : 's'} of ${classes} class${classes === 1 ? '' : 'es'} per sample), so the target needs a label per position or a row of ${classes} per position, but has shape ${fmt(target)}`;
  if (m.kind !== 'accuracy' && classes < 2)
    return `${m.name} needs a classes axis: pred's last axis holds scores per class, but pred has shape ${fmt(pred)}`;
  return { positions, classes, oneHot };
}

/** Shape errors of the model's metrics, at the position of each metric; `type` gives a node's shape. */
export function metricShapeErrors(
  metrics: readonly MetricDecl[] | undefined,
  batch: number,
  shapeOf: (ref: string | number) => Shape | undefined,
): GraphError[] {
  const errors: GraphError[] = [];
  for (const m of metrics ?? []) {
    if (m.pred === undefined || m.target === undefined) continue;
    const p = shapeOf(m.pred),
      t = shapeOf(m.target);
    if (!p || !t) continue;
    const l = metricLayout(m, p, t, batch);
    if (typeof l === 'string') errors.push(new DataError(l, m.loc));
  }
  return errors;
}

function argmaxRow(a: ArrayLike<number>, off: number, n: number): number {
  let best = a[off]!,
    bi = 0;
  for (let k = 1; k < n; k++) if (a[off + k]! > best) [best, bi] = [a[off + k]!, k];
  return bi;
}

/** A metric's running sum over batches: value = finish(sum, count). */
export interface MetricSum {
  sum: number;
  count: number;
}

/**
 * Add one batch of `rows` samples to `acc`: for accuracy and top-k the decisions right, for
 * perplexity the cross-entropy summed over positions (pred taken as logits).
 */
export function addMetric(
  acc: MetricSum,
  m: MetricDecl,
  l: MetricLayout,
  rows: number,
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
): void {
  const { classes: C, oneHot } = l;
  const n = rows * l.positions;
  acc.count += n;
  if (C === 1) {
    for (let i = 0; i < n; i++) if (pred[i]! > m.threshold === target[i]! > 0.5) acc.sum++;
    return;
  }
  for (let i = 0; i < n; i++) {
    const off = i * C;
    if (m.kind === 'perplexity') {
      acc.sum += crossEntropy(pred, off, C, target, oneHot ? off : i, oneHot);
      continue;
    }
    const label = oneHot ? argmaxRow(target, off, C) : target[i]!;
    if (m.kind === 'accuracy') {
      if (argmaxRow(pred, off, C) === label) acc.sum++;
      continue;
    }
    // top-k: right when fewer than k classes score strictly higher than the true one.
    const s = pred[off + label]!;
    let higher = 0;
    for (let c = 0; c < C && higher < m.k; c++) if (pred[off + c]! > s) higher++;
    if (higher < m.k) acc.sum++;
  }
}

/** -log softmax(logits)[label], or -sum t log softmax(logits) for a row of target probabilities. */
function crossEntropy(
  logits: ArrayLike<number>,
  off: number,
  C: number,
  target: ArrayLike<number>,
  at: number,
  row: boolean,
): number {
  let mx = -Infinity;
  for (let c = 0; c < C; c++) mx = Math.max(mx, logits[off + c]!);
  let z = 0;
  for (let c = 0; c < C; c++) z += Math.exp(logits[off + c]! - mx);
  const lse = mx + Math.log(z);
  if (!row) return lse - logits[off + target[at]!]!;
  let ce = 0;
  for (let c = 0; c < C; c++) {
    const t = target[at + c]!;
    if (t !== 0) ce -= t * (logits[off + c]! - lse);
  }
  return ce;
}

/** A metric's value from its sum over every batch (`meanLoss`: the loss averaged over the rows). */
export function metricValue(m: MetricDecl, acc: MetricSum, meanLoss: number): number {
  if (m.kind === 'perplexity') return Math.exp(m.pred === undefined ? meanLoss : acc.sum / acc.count);
  return acc.count === 0 ? NaN : acc.sum / acc.count;
}
