// The CLI's device path: `--device webgpu|auto`, `--strict-device`, `--explain` and the `plan`
// command. A run on WebGPU goes through the Session's async methods (GPU reads are async), with
// the same output as a CPU run; the device is destroyed before returning, so graph-run exits
// promptly (the Dawn binding otherwise keeps Node alive). CPU runs never come here.

import { DeviceError } from '../executors/executor.js';
import type { Tensor } from '../ir/types.js';
import type { Model } from '../load/model.js';
import { progressMode, TrainingReporter, type Terminal } from '../progress/reporter.js';
import type { DeviceChoice } from '../scheduler/placement.js';
import { Session } from '../session.js';
import { feedValues } from '../train/data.js';
import type { FloatDType } from '../ir/types.js';
import { UsageError } from '../errors.js';

export interface DeviceRunOptions {
  dtype: FloatDType;
  device: DeviceChoice | undefined;
  strictDevice: boolean;
  /** Print where each node runs (and why) before running. */
  explain: boolean;
  epochs?: number;
  json: boolean;
  quiet?: boolean;
}

const tensorJson = (t: Tensor) => ({ shape: t.shape, data: Array.from(t.data) });
const fmtNum = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6));
function fmtTensor(t: Tensor): string {
  const data = Array.from(t.data);
  const shown = data.length > 8 ? [...data.slice(0, 8).map(fmtNum), '...'] : data.map(fmtNum);
  return `${t.shape.length ? `[${t.shape.join('x')}] ` : ''}${t.shape.length ? `[${shown.join(', ')}]` : shown[0]}`;
}

/** Whether a run needs this path: a device asked for on the command line or in the graph. */
export function wantsDevicePath(model: Model, device: DeviceChoice | undefined, explain: boolean): boolean {
  const choice = device ?? model.device?.choice ?? 'cpu';
  const nodes = [...model.nodes, ...(model.loss?.nodes ?? []), ...model.updates.flatMap((u) => u.nodes)];
  return explain || choice !== 'cpu' || nodes.some((n) => n.device === 'webgpu');
}

/** `graph-run plan`: where each node of the training step (or forward pass) runs, and why. */
export async function planCommand(model: Model, o: DeviceRunOptions, out: (s: string) => void): Promise<void> {
  const s = await Session.create(model, {
    dtype: o.dtype,
    ...(o.device ? { device: o.device } : {}),
    strictDevice: o.strictDevice,
  });
  try {
    out(s.explain());
  } finally {
    s.dispose();
  }
}

/** The run job (train, predictions, outputs, gradients, parameters) on the chosen device. */
export async function runOnDevice(
  model: Model,
  o: DeviceRunOptions,
  out: (s: string) => void,
  err: (s: string) => void,
  term?: Terminal,
): Promise<void> {
  const s = await Session.create(model, {
    dtype: o.dtype,
    ...(o.device ? { device: o.device } : {}),
    strictDevice: o.strictDevice,
  });
  try {
    // `auto` says what it chose; a fallback is listed by --explain and counted here.
    if (s.deviceNote.startsWith('auto') && !o.json) err(`graph-run: device ${s.deviceNote}`);
    if (o.explain) (o.json ? err : out)(s.explain());
    const m = model;
    const result: Record<string, unknown> = {};
    const quiet = o.json || o.quiet;
    if (m.training) {
      const t = m.training;
      const epochs = o.epochs ?? t.epochs;
      // Per-step losses would mean a GPU round trip every step: no bar, the logged epochs as lines.
      const mode = progressMode({ quiet: o.quiet, json: o.json }, term, {});
      const progress = new TrainingReporter({
        mode: mode === 'bar' ? 'lines' : mode,
        out,
        term,
        epochs,
        from: 0,
        batchSize: t.batchSize,
        samples: s.samples,
      });
      if (!quiet)
        out(
          `${m.name}: training ${epochs} epochs, ${s.samples} samples, batch size ${t.batchSize} (${s.float}, ${s.device === 'webgpu' ? s.deviceNote.replace(/^auto: /, '') : 'cpu'})`,
        );
      const losses = await s.trainAsync({ epochs, onLog: (r) => progress.onLog(r) });
      progress.finish(losses);
      result.losses = losses;
    }
    const preds = await s.predictionsAsync();
    if (Object.keys(preds).length) {
      result.predictions = Object.fromEntries(
        Object.entries(preds).map(([k, v]) => {
          const keys = Object.keys(v);
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
    if ((m.feed || m.inputs.length === 0) && m.outputs.length) {
      const f = feedValues(m, m.feed ?? new Map(), [], 'feed', undefined, { file: m.file, line: 1, col: 1 });
      if (f) {
        const outs = await s.runAsync(f.values, f.batch);
        result.outputs = Object.fromEntries(Object.entries(outs).map(([k, t]) => [k, tensorJson(t)]));
        if (!o.json) {
          out('outputs:');
          for (const [k, t] of Object.entries(outs)) out(`  ${k}  ${fmtTensor(t)}`);
        }
      }
    }
    if (m.gradients) {
      const grads = await s.gradientsAsync();
      result.gradients = Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tensorJson(t)]));
      if (!o.json) {
        out(`gradients of ${String(m.gradients.of)}:`);
        for (const [k, t] of Object.entries(grads)) out(`  d/d${k}  ${fmtTensor(t)}`);
      }
    }
    const params = await s.parametersAsync();
    result.params = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tensorJson(t)]));
    if (!o.json && m.training) {
      out('parameters:');
      for (const [k, t] of Object.entries(params)) out(`  ${k}  ${fmtTensor(t)}`);
    }
    if (o.json) out(JSON.stringify(result));
  } finally {
    // Destroys the device: without it the Dawn binding can keep the process alive.
    s.dispose();
  }
}

/** Flags of a CPU-only feature combined with a device run. */
export function checkDeviceFlags(used: string[]): void {
  if (used.length)
    throw new UsageError(
      `${used.join(', ')} ${used.length === 1 ? 'works' : 'work'} on the CPU only for now; drop --device (and the graph's device: key) to use ${used.length === 1 ? 'it' : 'them'}`,
    );
}

/** The CLI's lines for a DeviceError: the message, then how to fix it. */
export function formatDeviceError(e: DeviceError): string[] {
  return [`graph-run: ${e.message}`, ...(e.hint ? [`    hint: ${e.hint}`] : [])];
}
