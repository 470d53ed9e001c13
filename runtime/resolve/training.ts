// The training section -> TrainingDecl: epochs, batch sizes, validation, metrics, and where the
// data comes from. Inline rows keep their positions; a data file is described (resolved path,
// columns, the spec's positions, the IO to read it with) and read later by runtime/data/.

import { DataError } from '../errors.js';
import type { DataFileSpec, InlineDataDoc, MetricDoc, TrainingDoc } from '../load/doc.js';
import type { DataSource, InputFile, Located, MetricDecl, TrainingDecl } from '../load/model.js';
import type { Path, SourceFile } from '../load/source.js';
import type { Ctx, Expansion } from './context.js';

const isFile = (d: unknown): d is DataFileSpec => typeof (d as { file?: unknown }).file === 'string';

export function training(ctx: Ctx, file: SourceFile, t: TrainingDoc, ex: Expansion): TrainingDecl {
  const inline = (rows: InlineDataDoc, p: Path): DataSource => {
    const columns = new Map<string, Located<unknown[]>>();
    const files = new Map<string, InputFile>();
    for (const [k, v] of Object.entries(rows)) {
      if (Array.isArray(v))
        columns.set(k, { value: v, loc: file.loc([...p, k], true), itemLoc: (i) => file.loc([...p, k, i]) });
      else
        files.set(k, {
          path: ctx.io.resolve(file.path, v.file),
          ...(v.array !== undefined ? { array: v.array } : {}),
          ...(v.scale !== undefined ? { scale: v.scale } : {}),
          at: (q, key) => file.loc([...p, k, ...q], key),
          io: ctx.io,
        });
    }
    return { kind: 'inline', columns, ...(files.size ? { files } : {}) };
  };
  const fromFile = (spec: DataFileSpec, p: Path): DataSource => ({
    kind: 'file',
    path: ctx.io.resolve(file.path, spec.file),
    ...(spec.columns ? { columns: spec.columns } : {}),
    at: (q, key) => file.loc([...p, ...q], key),
    io: ctx.io,
  });
  const data = isFile(t.data) ? fromFile(t.data, ['training', 'data']) : inline(t.data, ['training', 'data']);
  const loc = file.loc(['training'], true);
  const extra: Partial<TrainingDecl> = {};
  if (t.shuffle) extra.shuffle = true;
  const v = t.validation;
  if (v) {
    const vloc = file.loc(['training', 'validation'], true);
    if (v.split !== undefined) extra.validation = { split: v.split, loc: vloc };
    else if (v.file !== undefined) {
      // Columns default to the training file's.
      const columns = v.columns ?? (isFile(t.data) ? t.data.columns : undefined);
      extra.validation = {
        data: fromFile({ file: v.file, ...(columns ? { columns } : {}) }, ['training', 'validation']),
        loc: vloc,
      };
    } else if (v.data) extra.validation = { data: inline(v.data, ['training', 'validation', 'data']), loc: vloc };
  }
  const metrics = metricsOf(ctx, file, t, ex);
  if (metrics.length) extra.metrics = metrics;
  if (t.eval_batch_size !== undefined) extra.evalBatchSize = t.eval_batch_size;
  const batchSizeLoc = t.batch_size === undefined ? loc : file.loc(['training', 'batch_size']);
  return {
    data,
    epochs: t.epochs,
    batchSize: t.batch_size ?? 1,
    logEvery: t.log_every ?? 1,
    loc,
    batchSizeLoc,
    ...extra,
  };
}

/** Record keys a metric may not take: the loss's and the epoch's, and validation's prefix. */
const RESERVED = /^(epoch|loss|val_.*)$/;

/**
 * `metrics:` entries (and the `accuracy:` shorthand, first) as MetricDecls: pred and target
 * resolved like node inputs (any node, an input included), names checked to be unique.
 */
function metricsOf(ctx: Ctx, file: SourceFile, t: TrainingDoc, ex: Expansion): MetricDecl[] {
  const docs: { doc: MetricDoc; path: (string | number)[] }[] = [];
  if (t.accuracy) docs.push({ doc: { metric: 'accuracy', ...t.accuracy }, path: ['training', 'accuracy'] });
  (t.metrics ?? []).forEach((doc, i) => docs.push({ doc, path: ['training', 'metrics', i] }));
  const out: MetricDecl[] = [];
  const names = new Map<string, MetricDecl>();
  for (const { doc, path } of docs) {
    const loc = file.loc(path, typeof path.at(-1) === 'string');
    const k = doc.k ?? 5;
    const name = doc.name ?? (doc.metric === 'top_k' ? `top${k}_accuracy` : doc.metric);
    const ref = (key: 'pred' | 'target') =>
      doc[key] === undefined ? undefined : ex.resolve(doc[key], file.loc([...path, key]));
    const pred = ref('pred');
    const target = ref('target');
    if (doc.pred !== undefined && pred === undefined) continue;
    if (doc.target !== undefined && target === undefined) continue;
    const bad = (msg: string, hint?: string) =>
      ctx.errors.push(
        new DataError(msg, file.loc([...path, doc.name !== undefined ? 'name' : 'metric']), undefined, hint),
      );
    if (doc.metric !== 'perplexity' && (pred === undefined || target === undefined)) {
      bad(`metric ${doc.metric} needs a pred and a target`, 'e.g. {metric: accuracy, pred: logits, target: y}');
      continue;
    }
    if ((pred === undefined) !== (target === undefined)) {
      bad('perplexity takes both pred and target (logits and labels), or neither (exp of the mean loss)');
      continue;
    }
    if (RESERVED.test(name)) {
      bad(`a metric may not be named "${name}": the records use loss, epoch and the val_ prefix`, 'give it a name:');
      continue;
    }
    if (names.has(name)) {
      bad(`two metrics are named "${name}"`, 'give one of them a name:');
      continue;
    }
    const m: MetricDecl = {
      kind: doc.metric,
      name,
      ...(pred !== undefined ? { pred } : {}),
      ...(target !== undefined ? { target } : {}),
      threshold: doc.threshold ?? 0.5,
      k,
      loc,
    };
    names.set(name, m);
    out.push(m);
  }
  return out;
}
