// `graph-run <graph.yaml>`: the run job (train, then predictions, outputs, gradients,
// parameters), and `graph-run plan`. One path for every device: the session comes from
// `Session.create`, which chooses the device (the options, the graph's `device:` key), and is
// driven through the async methods, which on the CPU are the synchronous ones. The session
// is disposed before returning, destroying any GPU device, so graph-run exits promptly (the
// Dawn binding otherwise keeps Node alive).

import {
  type DeviceChoice,
  epochLabel,
  feedOutputs,
  type FloatDType,
  type Model,
  otherMetrics,
  plotSvg,
  progressMode,
  Session,
  type StepRecord,
  type Tensor,
  type Terminal,
  TrainingReporter,
  UsageError,
} from '../index.js';
import { type CheckpointFlags, checkCheckpointFlags, openCheckpoints } from './checkpoints.js';
import { exportAfterTraining } from './export.js';
import { ensureWritable, writeFileAtomic } from './files.js';

export interface RunOptions extends CheckpointFlags {
  dtype: FloatDType;
  device?: DeviceChoice;
  strictDevice?: boolean;
  /** Print where each node runs (and why) before running. */
  explain?: boolean;
  /** Pass the GPU driver's own messages on to stderr. */
  verbose?: boolean;
  epochs?: number;
  json?: boolean;
  quiet?: boolean;
  /** The training curve's SVG file. */
  plot?: string;
  /** Export the trained model to this ONNX file. */
  onnx?: string;
}

/** Where the run prints: results, notes and errors, the terminal a bar may be drawn on, the version for ONNX. */
export interface RunIO {
  out: (s: string) => void;
  err: (s: string) => void;
  term?: Terminal | undefined;
  version: string;
}

const tensorJson = (t: Tensor) => ({ shape: t.shape, data: Array.from(t.data) });
const fmtNum = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6));

/** `[2x3] [0.1, 0.2, ...]`: a tensor's shape and its first 8 values; a scalar as its value. */
export function fmtTensor(t: Tensor): string {
  const data = Array.from(t.data);
  const shown = data.length > 8 ? [...data.slice(0, 8).map(fmtNum), '...'] : data.map(fmtNum);
  return `${t.shape.length ? `[${t.shape.join('x')}] ` : ''}${t.shape.length ? `[${shown.join(', ')}]` : shown[0]}`;
}

const sessionOptions = (o: RunOptions, err: (s: string) => void) => ({
  dtype: o.dtype,
  ...(o.device ? { device: o.device } : {}),
  strictDevice: o.strictDevice === true,
  // The driver's chatter (Dawn, Vulkan) only when asked for: the device note says what happened.
  ...(o.verbose ? { driverLog: (t: string) => err(t) } : {}),
});

/** `graph-run plan`: where each node of the training step (or forward pass) runs, and why. */
export async function planCommand(
  model: Model,
  o: RunOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<void> {
  const s = await Session.create(model, sessionOptions(o, err));
  try {
    out(s.explain());
  } finally {
    s.dispose();
  }
}

/** What the run writes after training, its paths checked before it starts. */
interface RunOutputs {
  onnx: ReturnType<typeof exportAfterTraining> | undefined;
}

/**
 * The flags' usage errors and the output paths, checked before any device is acquired: a bad
 * combination is a usage error (exit 2) whatever the device, and costs no GPU start-up.
 */
function checkRun(m: Model, o: RunOptions): RunOutputs {
  if (o.plot !== undefined) {
    if (!m.training || o.load)
      throw new UsageError('--plot draws the training curve: it needs a graph that trains (and no --load)');
    ensureWritable(o.plot, 'plot');
  }
  const onnx = o.onnx !== undefined ? exportAfterTraining(o.onnx) : undefined;
  checkCheckpointFlags(o);
  return { onnx };
}

/** The run job on whatever device the session chose. */
export async function runCommand(model: Model, o: RunOptions, io: RunIO): Promise<void> {
  const outputs = checkRun(model, o);
  const s = await Session.create(model, sessionOptions(o, io.err));
  try {
    await runSession(s, o, io, outputs);
  } finally {
    // Destroys the device: without it the Dawn binding can keep the process alive.
    s.dispose();
  }
}

async function runSession(
  s: Session,
  o: RunOptions,
  { out, err, term, version }: RunIO,
  { onnx }: RunOutputs,
): Promise<void> {
  const m = s.model;
  // `auto` says what it chose; a fallback is listed by --explain and counted here.
  if (s.deviceNote.startsWith('auto') && !o.json) err(`graph-run: device ${s.deviceNote}`);
  if (o.explain) (o.json ? err : out)(s.explain());
  const result: Record<string, unknown> = {};
  const quiet = o.json || o.quiet;
  // Checkpoints are read before training: a bad one stops the run here.
  const ck = openCheckpoints(s, o, quiet ? () => {} : out);
  if (m.training && !ck.predictOnly) {
    const t = m.training;
    const epochs = o.epochs ?? t.epochs;
    if (ck.from >= epochs && ck.from > 0) {
      // A finished run resumed: say so (never silently do nothing), and how to train further.
      const asked =
        ck.from === epochs ? `${epochs} of ${epochs} epochs` : `${ck.from} epochs, more than the ${epochs} asked for`;
      (quiet ? err : out)(
        `${m.name}: already trained ${asked}: nothing to train (raise --epochs above ${ck.from} to train further)`,
      );
    }
    const progress = new TrainingReporter({
      mode: progressMode(o, term, process.env),
      out,
      term,
      epochs,
      from: ck.from,
      batchSize: t.batchSize,
      samples: s.samples,
    });
    const where = s.device === 'webgpu' ? s.deviceNote.replace(/^auto: /, '') : 'cpu';
    if (!quiet && ck.from < epochs)
      out(
        `${m.name}: training ${epochs} epochs${ck.from ? ` (from epoch ${ck.from})` : ''}, ${s.samples} samples, batch size ${t.batchSize} (${s.float}, ${where})`,
      );
    const losses = await s.trainAsync({
      epochs,
      from: ck.from,
      // The loss before training and after the last epoch are always shown (docs/training.md).
      logEnds: true,
      onStep: (r: StepRecord) => progress.onStep(r),
      // On a GPU a step's loss is a round trip: the bar counts steps and shows the logged losses.
      stepLoss: !s.usesGpu,
      onLog: (r) => {
        ck.onLog(r);
        progress.onLog(r);
      },
      ...(o.saveEvery ? { onEpoch: ck.onEpoch } : {}),
    });
    progress.finish(ck.losses);
    result.losses = losses;
    // -q: no progress, but the final metrics, compactly (the parameters are left to --json).
    const last = ck.losses.at(-1);
    if (o.quiet && !o.json && last)
      out(
        `final (${epochLabel(last.epoch)}): loss ${last.loss.toPrecision(6)}${otherMetrics(last, (v, d) => v.toPrecision(d))}`,
      );
    ck.finish(epochs);
    if (o.plot !== undefined)
      writeFileAtomic(o.plot, plotSvg(ck.losses, { title: `${m.name}: training curve (${s.float})` }), 'plot');
  } else {
    ck.finish(ck.from);
  }
  onnx?.write(s, version);
  const preds = await s.predictionsAsync();
  if (Object.keys(preds).length) {
    result.predictions = Object.fromEntries(
      Object.entries(preds).map(([k, v]) => {
        const keys = Object.keys(v);
        // A single-output graph gives the tensor itself.
        return [
          k,
          keys.length === 1
            ? tensorJson(v[keys[0]!]!)
            : Object.fromEntries(Object.entries(v).map(([n, t]) => [n, tensorJson(t)])),
        ];
      }),
    );
    if (!o.json) {
      out('predictions:');
      const w = Math.max(...Object.keys(preds).map((k) => k.length));
      for (const [k, v] of Object.entries(preds))
        out(
          `  ${k.padEnd(w)}  ${Object.entries(v)
            .map(([n, t]) => `${n} ${fmtTensor(t)}`)
            .join('  ')}`,
        );
    }
  }
  const outs = await feedOutputs(s);
  if (outs) {
    result.outputs = Object.fromEntries(Object.entries(outs).map(([k, t]) => [k, tensorJson(t)]));
    if (!o.json) {
      out('outputs:');
      const w = Math.max(...Object.keys(outs).map((k) => k.length));
      for (const [k, t] of Object.entries(outs)) out(`  ${k.padEnd(w)}  ${fmtTensor(t)}`);
    }
  }
  if (m.gradients) {
    const grads = await s.gradientsAsync();
    result.gradients = Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tensorJson(t)]));
    if (!o.json) {
      out(`gradients of ${m.gradients.ofName ?? String(m.gradients.of)}:`);
      for (const [k, t] of Object.entries(grads)) out(`  d/d${k}  ${fmtTensor(t)}`);
    }
  }
  const params = await s.parametersAsync();
  result.params = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tensorJson(t)]));
  if (!o.json && !o.quiet && m.training) {
    out('parameters:');
    for (const [k, t] of Object.entries(params)) out(`  ${k}  ${fmtTensor(t)}`);
  }
  if (o.json) out(JSON.stringify(result));
}
