// Checkpoints: a session's parameters, the model's state, optimizer state and training position
// as one safetensors file. Parameters and model state keep their graph names (`w1`,
// `bn1/running_mean`), optimizer state its own (`optimizer/w1/velocity`); the position and loss history go in `__metadata__`. Restoring
// checks everything first and only then copies, so a bad checkpoint leaves the session as it was.

import type { LossRecord, Session } from '../session.js';
import { sameShape, type TypedArray } from '../ir/types.js';
import { CheckpointError } from './errors.js';
import { decodeSafetensors, encodeSafetensors, type SafeDType, type SafeTensor } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'graph-run checkpoint 1';

/** Where training stands: epochs completed, and the losses logged so far (for plots after a resume). */
export interface TrainingPosition {
  epoch: number;
  losses: LossRecord[];
}

/** Options of `restoreCheckpoint`: resume training (optimizer state and position) or load parameters only. */
export interface RestoreOptions {
  /** Also restore optimizer state and require a training position (resume); default false (parameters only). */
  resume?: boolean;
  /** The file's name, for messages. */
  file?: string;
}

const dtypeOf = (a: TypedArray): SafeDType =>
  a instanceof Float64Array ? 'F64' : a instanceof Int32Array ? 'I32' : 'F32';

/**
 * The session's state as safetensors bytes: parameters, optimizer state and, when given, the
 * training position (epochs done and the losses so far), for `restoreCheckpoint` or
 * `graph-run --resume`.
 * @example
 * ```ts
 * import { checkpointBytes, compile, loadGraph } from 'graph-run';
 * const session = compile(loadGraph('graphs/gender.yaml'));
 * const losses = session.train({ epochs: 500 });
 * const bytes = checkpointBytes(session, { epoch: 500, losses }); // write it to a .safetensors file
 * console.log(bytes.length > 0);
 * ```
 */
export function checkpointBytes(session: Session, position?: TrainingPosition): Uint8Array {
  const m = session.model;
  // On a device: what the last sync brought back (trainAsync syncs at its end and before onEpoch).
  const weights = session.hostWeights('checkpointBytes');
  const tensors: SafeTensor[] = [];
  for (const p of m.params) {
    const data = weights.buffer(p.name);
    tensors.push({ name: p.name, dtype: dtypeOf(data), shape: [...p.shape], data });
  }
  // The model's state (running statistics) goes with the parameters: predictions read it.
  for (const u of [{ state: m.state ?? [] }, ...m.updates]) {
    for (const s of u.state) {
      const data = weights.buffer(s.name);
      tensors.push({ name: s.name, dtype: dtypeOf(data), shape: [...s.shape], data });
    }
  }
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    graph: m.name,
    dtype: session.float,
  };
  if (position) {
    metadata.epoch = String(position.epoch);
    metadata.losses = JSON.stringify(position.losses);
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Check a checkpoint against the session's graph, then load it: parameters, and with
 * `resume` the optimizer state too. Returns the training position (null when the file has none
 * and `resume` is off). Throws a CheckpointError naming the tensor; the session is unchanged then.
 * @example
 * ```ts
 * import { checkpointBytes, compile, loadGraph, restoreCheckpoint } from 'graph-run';
 * const first = compile(loadGraph('graphs/gender.yaml'));
 * const bytes = checkpointBytes(first, { epoch: 500, losses: first.train({ epochs: 500 }) });
 * const resumed = compile(loadGraph('graphs/gender.yaml'));
 * const pos = restoreCheckpoint(resumed, bytes, { resume: true });
 * resumed.train({ from: pos!.epoch }); // the remaining epochs, bit for bit as one run
 * ```
 */
export function restoreCheckpoint(
  session: Session,
  bytes: Uint8Array,
  opts: RestoreOptions = {},
): TrainingPosition | null {
  const file = opts.file ?? 'checkpoint';
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  const m = session.model;
  const want = session.float === 'f64' ? 'F64' : 'F32';
  // On a device whose values are newer than the host's, a partial restore (--load keeps the
  // optimizer state) would mix them with stale ones: sync first.
  const weights = session.hostWeights('restoreCheckpoint');
  const targets = new Map<string, { shape: number[]; buf: TypedArray; kind: string }>();
  for (const p of m.params) targets.set(p.name, { shape: p.shape, buf: weights.buffer(p.name), kind: 'parameter' });
  // The model's state is loaded with the parameters (predictions read it); a graph without any
  // loads checkpoints written before state existed as it always did.
  for (const s of m.state ?? []) targets.set(s.name, { shape: s.shape, buf: weights.buffer(s.name), kind: 'state' });
  const state = new Map<string, { shape: number[]; buf: TypedArray }>();
  for (const u of m.updates)
    for (const s of u.state) state.set(s.name, { shape: s.shape, buf: weights.buffer(s.name) });
  if (opts.resume) for (const [k, v] of state) targets.set(k, { ...v, kind: 'optimizer state' });

  for (const name of tensors.keys()) {
    if (!targets.has(name) && !state.has(name)) {
      throw new CheckpointError(
        `${file} has tensor "${name}", which graph "${m.name}" does not have`,
        name,
        metadata.graph && metadata.graph !== m.name
          ? `the checkpoint was written for graph "${metadata.graph}"`
          : 'is it a checkpoint of another graph?',
      );
    }
  }
  const copies: [TypedArray, TypedArray][] = [];
  for (const [name, t] of targets) {
    const got = tensors.get(name);
    if (!got)
      throw new CheckpointError(
        `${file} has no tensor "${name}" (the graph's ${t.kind})`,
        name,
        opts.resume && t.kind === 'optimizer state' ? 'was it saved with a different optimizer?' : undefined,
      );
    if (!sameShape(got.shape, t.shape)) {
      throw new CheckpointError(
        `${file}: tensor "${name}" has shape [${got.shape.join(', ')}], the graph's ${t.kind} has [${t.shape.join(', ')}]`,
        name,
      );
    }
    if (got.dtype !== want) {
      throw new CheckpointError(
        `${file}: tensor "${name}" is ${got.dtype}, the session is ${session.float}`,
        name,
        `run with --dtype ${got.dtype === 'F64' ? 'f64' : 'f32'} to use this checkpoint`,
      );
    }
    copies.push([got.data as TypedArray, t.buf]);
  }
  let position: TrainingPosition | null = null;
  if (metadata.epoch !== undefined) {
    // Digits only: Number() would also read "0x10", "1e3", " 7" and "".
    const epoch = /^\d{1,15}$/.test(metadata.epoch) ? Number(metadata.epoch) : NaN;
    if (!Number.isInteger(epoch) || epoch < 0)
      throw new CheckpointError(`${file}: metadata epoch "${metadata.epoch.slice(0, 40)}" is not a whole number`);
    let raw: unknown = [];
    try {
      raw = metadata.losses ? JSON.parse(metadata.losses) : [];
    } catch {
      throw new CheckpointError(`${file}: metadata "losses" is not JSON`);
    }
    position = { epoch, losses: lossRecords(raw, file) };
  } else if (opts.resume) {
    throw new CheckpointError(
      `${file} holds no training position (metadata "epoch"): it cannot be resumed`,
      undefined,
      'use --load to predict with its parameters',
    );
  }
  // Everything checked: now copy, and let a device take the new values before its next run.
  for (const [src, dst] of copies) dst.set(src);
  session.weightsWritten();
  return position;
}

const LOSS_FIELDS = ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const;

/**
 * The logged losses of a checkpoint's metadata, checked strictly: a list of records with a whole
 * epoch and numbers (null is how JSON writes a NaN or infinite loss: read back as NaN).
 */
function lossRecords(raw: unknown, file: string): LossRecord[] {
  const bad = (why: string) => new CheckpointError(`${file}: metadata "losses" ${why}`);
  if (!Array.isArray(raw)) throw bad('is not a list of logged losses');
  return raw.map((r: unknown, i) => {
    if (!r || typeof r !== 'object' || Array.isArray(r)) throw bad(`entry ${i} is not an object`);
    const o = r as Record<string, unknown>;
    if (!Number.isInteger(o.epoch) || (o.epoch as number) < -1)
      throw bad(`entry ${i} has no whole epoch (-1: before training)`);
    const rec: Record<string, number> = { epoch: o.epoch as number };
    for (const k of LOSS_FIELDS) {
      const v = Object.hasOwn(o, k) ? o[k] : undefined;
      if (v === undefined) {
        if (k === 'loss') throw bad(`entry ${i} has no loss`);
        continue;
      }
      if (v !== null && typeof v !== 'number') throw bad(`entry ${i}: ${k} is not a number`);
      rec[k] = v === null ? Number.NaN : v;
    }
    // Further metrics (training.metrics: top5_accuracy, perplexity, ...) keep their numbers.
    for (const [k, v] of Object.entries(o))
      if (!(k in rec) && k !== 'epoch' && /^[A-Za-z_]\w*$/.test(k) && (v === null || typeof v === 'number'))
        rec[k] = v === null ? Number.NaN : v;
    return rec as unknown as LossRecord;
  });
}
