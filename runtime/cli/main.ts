// The graph-run command line: argv -> library API -> printed results and an exit code
// (0 success, 1 an error in the graph or its data, 2 a usage error). No logic lives here
// that a library user could not reach.

import { parseArgs } from 'node:util';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import {
  checkGradients,
  compile,
  formatCheck,
  formatError,
  formatTrace,
  GraphErrors,
  loadGraph,
  reverseGraphYaml,
  trace,
  UsageError,
  userOpNames,
  type Session,
  type Tensor,
} from '../index.js';
import { feedValues } from '../train/data.js';
import { dotCommand } from '../viz/command.js';
import { openCheckpoints } from '../checkpoint/job.js';
import { exportAfterTraining, exportCommand } from '../export/command.js';
import { ensureWritable, writeFileAtomic } from '../checkpoint/files.js';
import { plotSvg } from '../progress/plot.js';
import { progressMode, TrainingReporter, type Terminal } from '../progress/reporter.js';
import { ToolError } from '../checkpoint/errors.js';
import type { FloatDType } from '../ir/types.js';
import { DeviceError } from '../executors/executor.js';
import type { DeviceChoice } from '../scheduler/placement.js';
import { checkDeviceFlags, formatDeviceError, planCommand, runOnDevice, wantsDevicePath } from './device.js';

const HELP = `graph-run: train and run neural networks written as YAML computation graphs

Usage:
  graph-run <graph.yaml> [options]     run the graph's job: train (if it has a training
                                       section), then print predictions, outputs, gradients
  graph-run validate <graph.yaml>      check the graph (schema, names, cycles, shapes, data)
  graph-run grad <graph.yaml>          print the reverse graph (backpropagation) as YAML
  graph-run check <graph.yaml>         compare every gradient with central finite differences
                                       in f64: a table per parameter; exit 1 if any disagrees
  graph-run dot <graph.yaml>           print the graph as Graphviz DOT: --backward adds the
                                       reverse graph, --mermaid prints Mermaid, --svg FILE
                                       renders it with Graphviz; --trace labels each node
                                       with its value in one training step (--step N)
  graph-run export <graph.yaml> --onnx FILE
                                       write the inference graph and its weights as an
                                       ONNX model (opset 21); --load CKPT for trained weights
  graph-run trace <graph.yaml>         one step of learning: every forward value, every
                                       reverse-graph node (which gradient, which rule),
                                       the optimizer's updates; --step N, --sample K, --full
  graph-run plan <graph.yaml>          where each node of the training step runs (cpu or
                                       webgpu) and why, with the transfers between devices
  graph-run --help | --version

Options:
  --dtype f32|f64    float precision of inputs and parameters (default f32)
  --epochs N         override the number of training epochs
  --json             print one JSON document: losses, predictions, outputs, gradients, params
  --save FILE        write parameters, optimizer state and the training position to FILE
                     (safetensors, atomically) when training ends
  --save-every N     also write the --save checkpoint every N epochs
  --resume FILE      continue training from a checkpoint (bit for bit as if never stopped)
  --load FILE        use a checkpoint's parameters and only predict (no training)
  --plot FILE        write the training curve (loss, and validation loss or accuracy where
                     logged) as an SVG chart with labelled axes
  -q, --quiet        no progress bar, log lines or loss chart while training
  --onnx FILE        export: the ONNX file to write; a training run: export after training
  --step N           trace: the optimizer step to show, from 1 (default 1)
  --sample K         trace: train that step on data row K (from 0; with batch size B, the
                     batch holding row K) instead of the step's own batch
  --full             trace: print every element of every value
  --device D         cpu (default), webgpu, or auto (webgpu when an adapter exists); overrides
                     the graph's device: key (docs/webgpu.md)
  --strict-device    make any node falling back from WebGPU to the CPU an error
  --explain          print where each node runs, and why, before running
  -h, --help         this text

Exit codes: 0 success, 1 an error in the graph or its data, 2 a usage error.
Docs: README.md and docs/ (format.md, cli.md).

Ops: ${userOpNames.join(', ')}`;

interface Options {
  dtype: FloatDType;
  epochs?: number;
  json: boolean;
  /** dot: add the reverse graph / print Mermaid / render to this SVG file. */
  backward?: boolean;
  mermaid?: boolean;
  svg?: string;
  /** dot: label nodes with a traced step's values. */
  trace?: boolean;
  /** run: checkpoints (docs/checkpoints.md). */
  save?: string;
  saveEvery?: number;
  resume?: string;
  load?: string;
  /** run: training curve SVG; no progress output. */
  plot?: string;
  quiet?: boolean;
  /** export / run: the ONNX model to write. */
  onnx?: string;
  /** trace: the step, the sample, every element. */
  step?: number;
  sample?: number;
  full?: boolean;
  /** run / plan: the device (docs/webgpu.md). */
  device?: DeviceChoice;
  strictDevice?: boolean;
  explain?: boolean;
}

function version(): string {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  for (const p of [join(root, 'package.json'), join(root, '..', 'package.json')]) {
    try {
      return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      /* try the next location */
    }
  }
  return 'unknown';
}

function parse(argv: string[]): { command: string; file?: string; opts: Options } | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dtype: { type: 'string' },
        epochs: { type: 'string' },
        json: { type: 'boolean' },
        backward: { type: 'boolean' },
        mermaid: { type: 'boolean' },
        svg: { type: 'string' },
        trace: { type: 'boolean' },
        save: { type: 'string' },
        'save-every': { type: 'string' },
        resume: { type: 'string' },
        load: { type: 'string' },
        plot: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        onnx: { type: 'string' },
        step: { type: 'string' },
        sample: { type: 'string' },
        full: { type: 'boolean' },
        device: { type: 'string' },
        'strict-device': { type: 'boolean' },
        explain: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify.*$/, ''));
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.version) return 'version';
  const pos = parsed.positionals;
  const commands = ['validate', 'grad', 'run', 'dot', 'export', 'trace', 'check', 'plan'];
  let command = 'run';
  if (pos.length && commands.includes(pos[0]!) && !/\.ya?ml$/.test(pos[0]!)) command = pos.shift()!;
  if (pos.length === 0) throw new UsageError('no graph file given');
  if (pos.length > 1) throw new UsageError(`unexpected argument "${pos[1]}"`);
  if (v.dtype !== undefined && v.dtype !== 'f32' && v.dtype !== 'f64')
    throw new UsageError(`--dtype must be f32 or f64, got "${v.dtype}"`);
  let epochs: number | undefined;
  if (v.epochs !== undefined) {
    epochs = Number(v.epochs);
    if (!Number.isInteger(epochs) || epochs < 0)
      throw new UsageError(`--epochs must be a whole number >= 0, got "${v.epochs}"`);
  }
  const opts: Options = { dtype: (v.dtype as FloatDType | undefined) ?? 'f32', json: v.json === true };
  if (epochs !== undefined) opts.epochs = epochs;
  if (command !== 'dot' && (v.backward || v.mermaid || v.svg !== undefined))
    throw new UsageError('--backward, --mermaid and --svg belong to graph-run dot');
  Object.assign(opts, { backward: v.backward === true, mermaid: v.mermaid === true, svg: v.svg });
  const saveEvery = v['save-every'];
  if (saveEvery !== undefined && !/^[1-9]\d*$/.test(saveEvery))
    throw new UsageError(`--save-every must be a whole number >= 1, got "${saveEvery}"`);
  if (command !== 'run' && (v.save || saveEvery || v.resume))
    throw new UsageError('--save, --save-every and --resume belong to a training run');
  Object.assign(opts, {
    save: v.save,
    saveEvery: saveEvery === undefined ? undefined : Number(saveEvery),
    resume: v.resume,
    load: v.load,
  });
  if (command !== 'run' && v.plot !== undefined) throw new UsageError('--plot belongs to a training run');
  Object.assign(opts, { plot: v.plot, quiet: v.quiet === true });
  if (command !== 'run' && command !== 'export' && v.onnx !== undefined)
    throw new UsageError('--onnx belongs to graph-run export (or a training run)');
  opts.onnx = v.onnx;
  if (command !== 'dot' && v.trace)
    throw new UsageError('--trace belongs to graph-run dot (graph-run trace prints a step)');
  if (
    command !== 'trace' &&
    !(command === 'dot' && v.trace && !v.full) &&
    (v.step !== undefined || v.sample !== undefined || v.full)
  )
    throw new UsageError('--step, --sample and --full belong to graph-run trace (and --step, --sample to dot --trace)');
  opts.trace = v.trace === true;
  const whole = (flag: string, s: string | undefined, min: number) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < min) throw new UsageError(`${flag} must be a whole number >= ${min}, got "${s}"`);
    return n;
  };
  Object.assign(opts, {
    step: whole('--step', v.step, 1),
    sample: whole('--sample', v.sample, 0),
    full: v.full === true,
  });
  if (v.device !== undefined && !['cpu', 'webgpu', 'auto'].includes(v.device))
    throw new UsageError(`--device must be cpu, webgpu or auto, got "${v.device}"`);
  if (command !== 'run' && command !== 'plan' && (v.device !== undefined || v['strict-device'] || v.explain))
    throw new UsageError('--device, --strict-device and --explain belong to a run (or graph-run plan)');
  Object.assign(opts, {
    device: v.device as DeviceChoice | undefined,
    strictDevice: v['strict-device'] === true,
    explain: v.explain === true,
  });
  return { command, file: pos[0]!, opts };
}

const tensorJson = (t: Tensor) => ({ shape: t.shape, data: Array.from(t.data) });

function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toPrecision(6);
}

function fmtTensor(t: Tensor): string {
  const data = Array.from(t.data);
  const shown = data.length > 8 ? [...data.slice(0, 8).map(fmtNum), '...'] : data.map(fmtNum);
  return `${t.shape.length ? `[${t.shape.join('x')}] ` : ''}${t.shape.length ? `[${shown.join(', ')}]` : shown[0]}`;
}

/** Predictions keyed by query; a single-output graph gives the tensor itself. */
function flattenOutputs(r: Record<string, Tensor>): Tensor | Record<string, Tensor> {
  const keys = Object.keys(r);
  return keys.length === 1 ? r[keys[0]!]! : r;
}

function runJob(session: Session, opts: Options, out: (s: string) => void, term?: Terminal): void {
  const m = session.model;
  const result: Record<string, unknown> = {};
  // Checkpoints are read (and the --save path checked) before training: a bad one stops the run here.
  const quiet = opts.json || opts.quiet;
  if (opts.plot !== undefined) {
    if (!m.training || opts.load)
      throw new UsageError('--plot draws the training curve: it needs a graph that trains (and no --load)');
    ensureWritable(opts.plot, 'plot');
  }
  const onnx = opts.onnx !== undefined ? exportAfterTraining(opts.onnx) : undefined;
  const ck = openCheckpoints(session, opts, quiet ? () => {} : out);
  if (m.training && !ck.predictOnly) {
    const t = m.training;
    const epochs = opts.epochs ?? t.epochs;
    const progress = new TrainingReporter({
      mode: progressMode(opts, term, process.env),
      out,
      term,
      epochs,
      from: ck.from,
      batchSize: t.batchSize,
      samples: session.samples,
    });
    if (!quiet)
      out(
        `${m.name}: training ${epochs} epochs${ck.from ? ` (from epoch ${ck.from})` : ''}, ${session.samples} samples, batch size ${t.batchSize} (${session.float}, cpu)`,
      );
    const losses = session.train({
      epochs,
      from: ck.from,
      onStep: (s) => progress.onStep(s),
      onLog: (r) => {
        ck.onLog(r);
        progress.onLog(r);
      },
      onEpoch: ck.onEpoch,
    });
    progress.finish(ck.losses);
    result.losses = losses;
    ck.finish(epochs);
    if (opts.plot !== undefined)
      writeFileAtomic(opts.plot, plotSvg(ck.losses, { title: `${m.name}: training curve (${session.float})` }), 'plot');
  } else {
    ck.finish(ck.from);
  }
  onnx?.write(session, version());
  const preds = session.predictions();
  if (Object.keys(preds).length) {
    result.predictions = Object.fromEntries(
      Object.entries(preds).map(([k, v]) => {
        const f = flattenOutputs(v);
        return [
          k,
          'data' in f
            ? tensorJson(f as Tensor)
            : Object.fromEntries(Object.entries(f).map(([n, t]) => [n, tensorJson(t)])),
        ];
      }),
    );
    if (!opts.json) {
      out('predictions:');
      const w = Math.max(...Object.keys(preds).map((k) => k.length));
      for (const [k, v] of Object.entries(preds)) {
        out(
          `  ${k.padEnd(w)}  ${Object.entries(v)
            .map(([n, t]) => `${n} ${fmtTensor(t)}`)
            .join('  ')}`,
        );
      }
    }
  }
  // A graph without inputs (e.g. a printed reverse graph whose gradients are constant) needs no feed to run.
  if ((m.feed || m.inputs.length === 0) && m.outputs.length) {
    const errors: never[] = [];
    const f = feedValues(m, m.feed ?? new Map(), errors, 'feed', undefined, { file: m.file, line: 1, col: 1 });
    if (f) {
      const outs = session.run(f.values, f.batch);
      result.outputs = Object.fromEntries(Object.entries(outs).map(([k, t]) => [k, tensorJson(t)]));
      if (!opts.json) {
        out('outputs:');
        for (const [k, t] of Object.entries(outs)) out(`  ${k}  ${fmtTensor(t)}`);
      }
    }
  }
  if (m.gradients) {
    const grads = session.gradients();
    result.gradients = Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tensorJson(t)]));
    if (!opts.json) {
      out(`gradients of ${String(m.gradients.of)}:`);
      for (const [k, t] of Object.entries(grads)) out(`  d/d${k}  ${fmtTensor(t)}`);
    }
  }
  const params = session.parameters();
  result.params = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, tensorJson(t)]));
  if (!opts.json && m.training) {
    out('parameters:');
    for (const [k, t] of Object.entries(params)) out(`  ${k}  ${fmtTensor(t)}`);
  }
  if (opts.json) out(JSON.stringify(result));
}

const stdoutLine = (s: string): void => {
  process.stdout.write(s + '\n');
};

/**
 * Run the CLI; returns the exit code. Output goes through `out` and `err`; `term` is where a
 * progress bar may be drawn (stdout when `out` is stdout; none, so plain lines, otherwise).
 */
export function main(
  argv: string[],
  out: (s: string) => void = stdoutLine,
  err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  term: Terminal | undefined = out === stdoutLine
    ? { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns, write: (s) => process.stdout.write(s) }
    : undefined,
): number {
  try {
    const p = parse(argv);
    if (p === 'help') {
      out(HELP);
      return 0;
    }
    if (p === 'version') {
      out(version());
      return 0;
    }
    if (!existsSync(p.file!)) throw new UsageError(`cannot read "${p.file}": no such file`);
    if (!statSync(p.file!).isFile()) throw new UsageError(`cannot read "${p.file}": not a file`);
    const model = loadGraph(p.file!);
    switch (p.command) {
      case 'validate': {
        // Validation checks graphs and data, not a device: a CPU session (as dot and export use).
        const s = compile(model, { dtype: p.opts.dtype, device: 'cpu' });
        // Build every plan the job would build, so what validates also runs.
        if (model.loss && model.training) s.trainGraph(s.batchSize);
        const n = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
        const what = [
          n(model.inputs.length, 'input'),
          n(model.params.length, 'param'),
          n(model.nodes.length, 'node'),
          ...(model.loss ? [`loss (${model.loss.nodes.length} nodes)`] : []),
          ...(model.updates.length ? [`optimizer on ${model.updates.length} params`] : []),
        ];
        if (p.opts.json) out(JSON.stringify({ valid: true, file: p.file }));
        else out(`${p.file}: ok (${what.join(', ')})`);
        return 0;
      }
      case 'grad': {
        const s = compile(model, { dtype: p.opts.dtype, device: 'cpu' });
        if (!model.gradients && !model.loss)
          throw new UsageError(
            `${p.file} has neither a loss nor a gradients request: there is no reverse graph to print`,
          );
        out(reverseGraphYaml(s).trimEnd());
        return 0;
      }
      case 'check': {
        const r = checkGradients(model);
        out(p.opts.json ? JSON.stringify(r) : formatCheck(r, p.file));
        return r.ok ? 0 : 1;
      }
      case 'dot':
        // Pictures and exports need graphs and weights, not a device: a CPU session (the picture still places nodes for the graph's device).
        dotCommand(compile(model, { dtype: p.opts.dtype, device: 'cpu' }), p.opts, out);
        return 0;
      case 'trace': {
        const t = trace(compile(model, { dtype: p.opts.dtype }), {
          step: p.opts.step,
          sample: p.opts.sample,
          epochs: p.opts.epochs,
        });
        out(p.opts.json ? JSON.stringify(t) : formatTrace(t, { full: p.opts.full }));
        return 0;
      }
      case 'export':
        exportCommand(
          compile(model, { dtype: p.opts.dtype, device: 'cpu' }),
          { onnx: p.opts.onnx, load: p.opts.load, version: version() },
          out,
        );
        return 0;
      case 'run':
        if (wantsDevicePath(model, p.opts.device, p.opts.explain === true))
          throw new UsageError(
            "this run asks for a device (--device, --explain or the graph's device: key): use mainAsync (bin/graph-run.js does)",
          );
        runJob(compile(model, { dtype: p.opts.dtype }), p.opts, out, term);
        return 0;
      case 'plan':
        throw new UsageError('graph-run plan acquires a device asynchronously: use mainAsync (bin/graph-run.js does)');
      default:
        throw new UsageError(`unknown command "${p.command}"`);
    }
  } catch (e) {
    return reportError(e, err);
  }
}

/** An error as the CLI reports it: its lines on `err` and the exit code (1 graph/device, 2 usage). */
function reportError(e: unknown, err: (s: string) => void): number {
  if (e instanceof GraphErrors) {
    for (const x of e.errors) err(formatError(x));
    err(`${e.errors.length} error${e.errors.length === 1 ? '' : 's'}`);
    return 1;
  }
  if (e instanceof UsageError) {
    err(`graph-run: ${e.message}`);
    err('Try graph-run --help.');
    return 2;
  }
  if (e instanceof DeviceError) {
    for (const line of formatDeviceError(e)) err(line);
    return 1;
  }
  if (e instanceof ToolError) {
    err(`graph-run: ${e.message}`);
    if (e.hint) err(`    hint: ${e.hint}`);
    return 1;
  }
  if (e instanceof Error && 'kind' in e && 'loc' in e) {
    err(formatError(e as never));
    return 1;
  }
  throw e;
}

/**
 * The CLI with devices: a run that asks for one (--device, --explain, the graph's `device:`) and
 * `graph-run plan` acquire it asynchronously and release it before returning, so the process
 * exits promptly; everything else is main().
 * @example process.exitCode = await mainAsync(process.argv.slice(2));
 */
export async function mainAsync(
  argv: string[],
  out: (s: string) => void = stdoutLine,
  err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  term: Terminal | undefined = out === stdoutLine
    ? { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns, write: (s) => process.stdout.write(s) }
    : undefined,
): Promise<number> {
  let p: ReturnType<typeof parse>;
  try {
    p = parse(argv);
  } catch {
    return main(argv, out, err, term);
  }
  if (p === 'help' || p === 'version' || (p.command !== 'run' && p.command !== 'plan'))
    return main(argv, out, err, term);
  const file = p.file!;
  if (!existsSync(file) || !statSync(file).isFile()) return main(argv, out, err, term);
  // A graph that never mentions a device runs on the CPU as before: no second load.
  if (
    p.command === 'run' &&
    p.opts.device === undefined &&
    !p.opts.explain &&
    !readFileSync(file, 'utf8').includes('device')
  )
    return main(argv, out, err, term);
  try {
    const model = loadGraph(file);
    const o = {
      dtype: p.opts.dtype,
      device: p.opts.device,
      strictDevice: p.opts.strictDevice === true,
      explain: p.opts.explain === true,
      epochs: p.opts.epochs,
      json: p.opts.json,
      quiet: p.opts.quiet,
    };
    if (p.command === 'plan') {
      await planCommand(model, o, out);
      return 0;
    }
    if (!wantsDevicePath(model, p.opts.device, p.opts.explain === true)) return main(argv, out, err, term);
    const cpuOnly: [string, unknown][] = [
      ['--save', p.opts.save],
      ['--save-every', p.opts.saveEvery],
      ['--resume', p.opts.resume],
      ['--load', p.opts.load],
      ['--plot', p.opts.plot],
      ['--onnx', p.opts.onnx],
    ];
    checkDeviceFlags(cpuOnly.filter(([, v]) => v !== undefined).map(([f]) => f));
    await runOnDevice(model, o, out, err, term);
    return 0;
  } catch (e) {
    return reportError(e, err);
  }
}
