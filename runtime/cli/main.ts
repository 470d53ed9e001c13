// The graph-run command line: argv -> library API -> printed results and an exit code
// (0 success, 1 an error in the graph or its data, 2 a usage error, 3 no device: a missing
// WebGPU adapter, package or device, or a lost device). It imports only the
// package entry (../index.js), Node built-ins and commander (test/cli/imports.test.ts checks),
// so everything it does is something a library user can do too. The commands and options are
// declared once in table.ts.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildStats,
  checkGradients,
  compile,
  type DeviceChoice,
  DeviceError,
  type FloatDType,
  formatCheck,
  formatError,
  formatTrace,
  GraphErrors,
  loadGraph,
  resetBuildStats,
  reverseGraphYaml,
  type Terminal,
  Session,
  ToolError,
  traceAsync,
  UsageError,
} from '../index.js';
import { type DotOptions, dotCommand } from './dot.js';
import { type DataOptions, evalCommand, predictCommand } from './evaluate.js';
import { exportCommand } from './export.js';
import { type GenerateFlags, generateCommand } from './generate.js';
import { commandHelp, helpText } from './help.js';
import { modelInputs, recordingIO, refuseOverwrites } from './inputs.js';
import { loadingLine } from './loading.js';
import { importCommand } from './import.js';
import { parse } from './parse.js';
import { singleSettings, type SweepCliOptions, sweepCommand, sweepPlan } from './sweep-command.js';
import type { Axis } from './sweep.js';
import { planCommand, type RunOptions, runCommand } from './run.js';
import type { CommandName, OptionValues } from './table.js';

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

const stdoutLine = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const stderrLine = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

interface Context {
  out: (s: string) => void;
  err: (s: string) => void;
  term: Terminal | undefined;
  /** Where the data-loading line may be drawn (stderr when `err` is stderr). */
  errTerm: Terminal | undefined;
}

/** One command on one graph file; resolves to the exit code. */
async function command(
  name: CommandName,
  file: string,
  o: OptionValues,
  { out, err, term, errTerm }: Context,
): Promise<number> {
  if (!existsSync(file)) throw new UsageError(`cannot read "${file}": no such file`);
  if (!statSync(file).isFile()) throw new UsageError(`cannot read "${file}": not a file`);
  if (name === 'import') {
    importCommand(file, { output: o.output as string | undefined }, out);
    return 0;
  }
  const dtype = (o.dtype as FloatDType | undefined) ?? 'f32';
  const roots = (o.dataRoot as string[] | undefined) ?? [];
  for (const r of roots) {
    if (!existsSync(r) || !statSync(r).isDirectory()) throw new UsageError(`--data-root "${r}" is not a folder`);
  }
  const data = typeof o.data === 'string' ? o.data : undefined;
  // A data file named on the command line may lie anywhere: its folder is a root.
  // A line on stderr while data loads, on a terminal only, and not under --quiet or --json.
  const loading = errTerm?.isTTY && !o.quiet && !o.json ? loadingLine(errTerm) : undefined;
  const { io, read } = recordingIO(data ? [...roots, dirname(resolve(data))] : roots, loading);
  const started = performance.now();
  const axes = o.set as Axis[] | undefined;
  // A sweep loads its point (--index), or point 0 to check the keys before anything runs.
  const sweep = name === 'sweep' ? sweepPlan(axes, o) : undefined;
  const model = loadGraph(file, io, { set: sweep ? sweep.point : singleSettings(axes) });
  for (const set of sweep?.others ?? []) loadGraph(file, io, { set });
  // Before anything runs or is written: no output may replace a file the run reads.
  refuseOverwrites(o, [...modelInputs(model, read), ...(data ? [data] : [])]);
  // Pictures, exports and checks need graphs and weights, not a device: a CPU session.
  const cpu = () => compile(model, { dtype, device: 'cpu' });
  switch (name) {
    case 'validate': {
      const s = cpu();
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
      out(o.json ? JSON.stringify({ valid: true, file }) : `${file}: ok (${what.join(', ')})`);
      return 0;
    }
    case 'grad': {
      const s = cpu();
      if (!model.gradients && !model.loss)
        throw new UsageError(`${file} has neither a loss nor a gradients request: there is no reverse graph to print`);
      out(reverseGraphYaml(s).trimEnd());
      return 0;
    }
    case 'check': {
      const r = checkGradients(model);
      out(o.json ? JSON.stringify(r) : formatCheck(r, file));
      return r.ok ? 0 : 1;
    }
    case 'dot':
      // The picture still places nodes for the graph's device.
      await dotCommand(cpu(), o as DotOptions, out);
      return 0;
    case 'trace': {
      const step = o.step as number | undefined;
      const sample = o.sample as number | undefined;
      // On the device the run would use (the graph's device: key, or --device).
      const s = await Session.create(model, {
        dtype,
        ...(o.device ? { device: o.device as DeviceChoice } : {}),
        strictDevice: o.strictDevice === true,
      });
      try {
        if (s.deviceNote.startsWith('auto') && !o.json) err(`graph-run: device ${s.deviceNote}`);
        const t = await traceAsync(s, { step, sample, epochs: o.epochs as number | undefined });
        out(o.json ? JSON.stringify(t) : formatTrace(t, { full: o.full === true }));
      } finally {
        s.dispose();
      }
      return 0;
    }
    case 'export':
      exportCommand(
        cpu(),
        {
          onnx: o.onnx as string | undefined,
          pytorch: o.pytorch as string | undefined,
          load: o.load as string | undefined,
          version: version(),
          io,
        },
        out,
      );
      return 0;
    case 'plan':
      await planCommand(model, { ...o, dtype } as RunOptions, out, err);
      return 0;
    case 'eval':
      await evalCommand(model, { ...o, dtype } as DataOptions, io, out);
      return 0;
    case 'predict':
      await predictCommand(model, { ...o, dtype } as DataOptions, io, out);
      return 0;
    case 'sweep':
      return await sweepCommand(file, model, sweep!, { ...o, dtype } as SweepCliOptions, started, out, err, version());
    case 'generate':
      await generateCommand(model, { ...o, dtype } as GenerateFlags, out, err);
      return 0;
    case 'run':
      await runCommand(model, { ...o, dtype } as RunOptions, { out, err, term, version: version() });
      return 0;
  }
}

/**
 * Run the CLI; resolves to the exit code. Output goes through `out` and `err`; `term` is where a
 * progress bar may be drawn (stdout when `out` is stdout; none, so plain lines, otherwise). Any
 * device a run acquires is released before it resolves, so the process exits promptly.
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(
  argv: string[],
  out: (s: string) => void = stdoutLine,
  err: (s: string) => void = stderrLine,
  term: Terminal | undefined = out === stdoutLine
    ? { isTTY: process.stdout.isTTY === true, columns: process.stdout.columns, write: (s) => process.stdout.write(s) }
    : undefined,
  errTerm: Terminal | undefined = err === stderrLine
    ? { isTTY: process.stderr.isTTY === true, columns: process.stderr.columns, write: (s) => process.stderr.write(s) }
    : undefined,
): Promise<number> {
  let stats = false;
  try {
    const p = parse(argv);
    if (p.kind === 'help') {
      out(p.command ? commandHelp(p.command) : helpText());
      return 0;
    }
    if (p.kind === 'version') {
      out(version());
      return 0;
    }
    stats = p.opts.stats === true;
    // Count this command's builds only (tests run many in one process).
    if (stats) resetBuildStats();
    return await command(p.command, p.file, p.opts, { out, err, term, errTerm });
  } catch (e) {
    return reportError(e, err);
  } finally {
    if (stats) err(`build stats: ${JSON.stringify(buildStats())}`);
  }
}

/** The same as main (kept for callers from when device runs had an entry of their own). */
export const mainAsync = main;

/** An error as the CLI reports it: its lines on `err` and the exit code (1 graph/device/file, 2 usage, 3 no device). */
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
  if (e instanceof DeviceError || e instanceof ToolError) {
    err(`graph-run: ${e.message}`);
    if (e.hint) err(`    hint: ${e.hint}`);
    // Scripts tell "no GPU here" from a broken graph by the code, not by parsing stderr.
    return e instanceof DeviceError && e.unavailable ? 3 : 1;
  }
  if (e instanceof Error && 'kind' in e && 'loc' in e) {
    err(formatError(e as never));
    return 1;
  }
  throw e;
}
