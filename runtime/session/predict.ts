// Predictions over a whole data set in batches: the forward graph runs `batch` rows at a time
// (a short last batch gets a plan of its own) and each output whose first axis is the batch is
// gathered into one tensor of all rows, so memory follows the batch and the outputs, not the
// inputs' size. An output without a leading batch axis (a sum over the rows, say) depends on
// how rows are batched: it is returned only when all rows run as one batch.

import { BATCH } from '../ir/dim.js';
import type { Tensor, TypedArray } from '../ir/types.js';
import { checkRows, type EvalData, type Job, type JobContext, wait } from './jobs.js';

/** Called after each batch with the rows done so far (for a progress line). */
export type BatchProgress = (done: number, rows: number) => void;

/**
 * The forward graph's outputs for every row of `data`, `batch` rows at a time, joined along the
 * batch axis (outputs without one only when one batch holds every row).
 */
export function* predictRows<H>(
  c: JobContext<H>,
  data: EvalData,
  batch: number,
  progress?: BatchProgress,
): Job<Record<string, Tensor>> {
  const sym = c.program.symbolicForward();
  const fwd = c.program.forward(Math.max(1, Math.min(batch, data.rows)));
  checkRows(fwd.built.graph, data, 'data');
  const out: Record<string, Tensor> = {};
  const batched = new Map<string, boolean>();
  for (const o of fwd.outputs) {
    const t = sym.graph.node(o.node).type;
    // Joined along the batch axis only when that is its first axis and no other axis depends on
    // the batch (an [batch, batch] mask is one whole value per run).
    const rest = t.shape.slice(1);
    const rowsFirst = t.shape[0] === BATCH && rest.every((d) => typeof d === 'number');
    batched.set(o.name, rowsFirst);
    if (!rowsFirst) continue;
    const n = (rest as number[]).reduce((a, d) => a * d, 1);
    const Ctor = (t.dtype === 'i32' ? Int32Array : t.dtype === 'f64' ? Float64Array : Float32Array) as new (
      n: number,
    ) => TypedArray;
    out[o.name] = { shape: [data.rows, ...(rest as number[])], dtype: t.dtype, data: new Ctor(data.rows * n) };
  }
  const src = { columns: data.columns, order: null };
  const bs = Math.max(1, batch);
  for (let start = 0; start < data.rows; start += bs) {
    const count = Math.min(bs, data.rows - start);
    const { run } = c.runner.prepare('forward', count);
    // Step 0: not a training step, so dropout is the identity.
    c.runner.feedRows(run, start, count, src, { epoch: c.clock.epoch, step: 0 });
    yield* wait(c.runner.execute(run));
    for (const o of c.program.forward(count).outputs) {
      const v = yield* wait(c.runner.read(run, o.node));
      const t = out[o.name];
      if (t) t.data.set(v.subarray(0, (t.data.length / data.rows) * count), (t.data.length / data.rows) * start);
      else if (bs >= data.rows) {
        const type = c.program.forward(count).built.graph.node(o.node).type;
        out[o.name] = { shape: [...type.shape], dtype: type.dtype, data: v.slice() };
      }
    }
    progress?.(start + count, data.rows);
  }
  // Keep the declared outputs' order.
  return Object.fromEntries(fwd.outputs.filter((o) => out[o.name]).map((o) => [o.name, out[o.name]!]));
}
