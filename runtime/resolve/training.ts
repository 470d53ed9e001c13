// The training section -> TrainingDecl: epochs, batch size, validation, accuracy, and where the
// data comes from. Inline rows keep their positions; a data file is described (resolved path,
// columns, the spec's positions, the IO to read it with) and read later by runtime/data/.

import { NameError } from '../errors.js';
import type { DataFileSpec, InlineDataDoc, TrainingDoc } from '../load/doc.js';
import { suggest } from '../load/hint.js';
import type { DataSource, InputFile, Located, TrainingDecl } from '../load/model.js';
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
  if (t.accuracy) {
    const aloc = file.loc(['training', 'accuracy'], true);
    const pred = ex.resolve(t.accuracy.pred, file.loc(['training', 'accuracy', 'pred']));
    const target = t.accuracy.target;
    if (!ex.inputs.some((i) => i.name === target)) {
      ctx.errors.push(
        new NameError(
          `accuracy target "${target}" is not an input`,
          file.loc(['training', 'accuracy', 'target']),
          undefined,
          suggest(
            target,
            ex.inputs.map((i) => i.name),
            'inputs',
          ),
        ),
      );
    } else if (pred !== undefined) extra.accuracy = { pred, target, threshold: t.accuracy.threshold ?? 0.5, loc: aloc };
  }
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
