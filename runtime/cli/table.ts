// graph-run's commands and options, declared once. The parser (parse.ts, commander), the help
// text (`--help`, `<command> --help`), docs/cli.md's reference and the README's command-line
// block (help.ts, checked by test/cli/docs.test.ts, rewritten by `npm run docs:cli`) all come
// from these two tables, so a flag cannot exist in one place and be missing from another.

import { parseSetting, UsageError } from '../index.js';
import { generateOptions, sweepOptions, whole } from './table-tools.js';

export const commandNames = [
  'run',
  'validate',
  'grad',
  'trace',
  'check',
  'plan',
  'dot',
  'export',
  'import',
  'eval',
  'predict',
  'sweep',
  'generate',
] as const;
export type CommandName = (typeof commandNames)[number];

export interface CommandSpec {
  name: CommandName;
  /** What follows `graph-run` in the synopsis (`run` is the default command and is not typed). */
  usage: string;
  /** What it does, in one or two sentences (wrapped by the help printer). */
  help: string;
}

export const commands: readonly CommandSpec[] = [
  {
    name: 'run',
    usage: '<graph.yaml>',
    help: "run the graph's job: train (if it has a training section), then print predictions, outputs, gradients",
  },
  { name: 'validate', usage: 'validate <graph.yaml>', help: 'check the graph (schema, names, cycles, shapes, data)' },
  { name: 'grad', usage: 'grad <graph.yaml>', help: 'print the reverse graph (backpropagation) as YAML' },
  {
    name: 'check',
    usage: 'check <graph.yaml>',
    help: 'compare every gradient with central finite differences in f64: a table per parameter; exit 1 if any disagrees',
  },
  {
    name: 'dot',
    usage: 'dot <graph.yaml>',
    help: 'print the graph as Graphviz DOT: --backward adds the reverse graph, --mermaid prints Mermaid, --svg FILE renders it to SVG (Graphviz, built in); --trace labels each node with its value in one training step (--step N)',
  },
  {
    name: 'export',
    usage: 'export <graph.yaml> --onnx FILE | --pytorch DIR',
    help: 'write the inference graph and its weights as an ONNX model (opset 21), or the graph, loss, optimizer, data and a torchrun-ready train.py as a PyTorch package; --load CKPT for trained weights',
  },
  {
    name: 'import',
    usage: 'import <model.onnx> -o <graph.yaml>',
    help: 'convert an ONNX model (opsets 13-21) to a graph-run graph and its weights (a .safetensors file beside the graph)',
  },
  {
    name: 'trace',
    usage: 'trace <graph.yaml>',
    help: "one step of learning: every forward value, every reverse-graph node (which gradient, which rule), the optimizer's updates; --step N, --sample K, --full",
  },
  {
    name: 'eval',
    usage: 'eval <graph.yaml> --data FILE',
    help: "loss and metrics (training.metrics) of the graph's parameters on a data file, in batches; --load CKPT for trained weights (else the initial ones)",
  },
  {
    name: 'predict',
    usage: 'predict <graph.yaml> --data FILE',
    help: 'the outputs for every row of a data file, in batches: --out FILE writes them as .csv (a header naming each output column) or .npy, else the first rows are printed; --load CKPT for trained weights',
  },
  {
    name: 'sweep',
    usage: 'sweep <graph.yaml> --set KEY=V1,V2 ...',
    help: 'train the graph once per point of the grid the --set value lists span, in parallel up to the CPU cores, and print one results table (settings, final loss and metrics, wall time; --out FILE writes it as .csv or .json); --emit k8s writes a Kubernetes Indexed Job doing the grid instead; --index I runs point I only',
  },
  {
    name: 'generate',
    usage: 'generate <graph.yaml> --load CKPT --prompt TEXT',
    help: 'continue a text with a character language model (an i32 input with a vocab:, logits over it; docs/generate.md): --tokens N characters, drawn with --seed S (--temperature, --top-k); the same text for a seed on every device',
  },
  {
    name: 'plan',
    usage: 'plan <graph.yaml>',
    help: 'where each node of the training step runs (cpu or webgpu) and why, with the transfers between devices',
  },
];

/** Parsed option values, keyed as commander keys them (`--save-every` -> `saveEvery`). */
export type OptionValues = Record<string, unknown>;

export interface OptionSpec {
  /** commander's flags: `--epochs <N>` takes a value, `-q, --quiet` is a switch. */
  flags: string;
  help: string;
  /** The commands it belongs to; absent: every command. */
  commands?: readonly CommandName[];
  /** A further condition on the other options (dot takes --step only with --trace). */
  when?: (o: OptionValues, command: CommandName) => boolean;
  /** The usage error when it is given where it does not belong (options of a group share one). */
  misplaced?: string;
  /** Checks and converts the value; throws a UsageError with the message users see. */
  value?: (s: string) => unknown;
  /** May be given more than once: the values are collected in a list, in order. */
  repeat?: boolean;
}

/** A whole number >= min, written in digits. */

const checkpointFlags = '--save, --save-every and --resume belong to a training run';
const traceFlags = '--step, --sample and --full belong to graph-run trace (and --step, --sample to dot --trace)';
const deviceFlags =
  '--device, --strict-device and --explain belong to a run (or graph-run plan, eval, predict; --device and --strict-device also to trace and generate)';
const dataFlags = '--data, --columns and --batch-size belong to graph-run eval and predict';
const dotFlags = '--backward, --mermaid and --svg belong to graph-run dot';
/** dot takes --step and --sample for its --trace labels (but not --full). */
const dotTrace = (o: OptionValues, c: CommandName) => c !== 'dot' || (o.trace === true && o.full !== true);

export const options: readonly OptionSpec[] = [
  {
    flags: '--dtype <f32|f64>',
    help: 'float precision of inputs and parameters (default f32)',
    value: (s) => {
      if (s !== 'f32' && s !== 'f64') throw new UsageError(`--dtype must be f32 or f64, got "${s}"`);
      return s;
    },
  },
  {
    flags: '--epochs <N>',
    help: 'override the number of training epochs',
    value: (s) => {
      const n = Number(s);
      // At most 1e9, as a graph's `epochs:` (docs/format.md, "Limits"): more would run for ever.
      if (!Number.isInteger(n) || n < 0 || n > 1e9)
        throw new UsageError(`--epochs must be a whole number from 0 to 1000000000, got "${s}"`);
      return n;
    },
  },
  {
    flags: '--set <KEY=VALUE>',
    help: 'replace a value the graph file writes, checked as if written there: optimizer.with.lr=0.01, training.batch_size=64, nodes.2.attrs.rate=0.1 (a list position as a number); repeatable; sweep: V1,V2,... lists the values to try',
    commands: ['run', 'validate', 'grad', 'check', 'trace', 'dot', 'plan', 'export', 'eval', 'predict', 'sweep'],
    misplaced: '--set belongs to a command that reads a graph file',
    repeat: true,
    value: (s) => {
      try {
        return parseSetting(s);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    },
  },
  { flags: '--json', help: 'print one JSON document: losses, predictions, outputs, gradients, params' },
  {
    flags: '--save <FILE>',
    help: 'write parameters, optimizer state and the training position to FILE (safetensors, atomically) when training ends',
    commands: ['run'],
    misplaced: checkpointFlags,
  },
  {
    flags: '--save-every <N>',
    help: 'also write the --save checkpoint every N epochs',
    commands: ['run'],
    misplaced: checkpointFlags,
    value: (s) => {
      if (!/^[1-9]\d*$/.test(s)) throw new UsageError(`--save-every must be a whole number >= 1, got "${s}"`);
      return Number(s);
    },
  },
  {
    flags: '--resume <FILE>',
    help: 'continue training from a checkpoint (bit for bit as if never stopped)',
    commands: ['run'],
    misplaced: checkpointFlags,
  },
  { flags: '--load <FILE>', help: "use a checkpoint's parameters and only predict (no training)" },
  {
    flags: '--plot <FILE>',
    help: 'write the training curve (loss, and validation loss or accuracy where logged) as an SVG chart with labelled axes',
    commands: ['run'],
    misplaced: '--plot belongs to a training run',
  },
  {
    flags: '-q, --quiet',
    help: 'no progress bar, log lines or loss chart while training: one line of final metrics, then the results without the parameters',
  },
  {
    flags: '--onnx <FILE>',
    help: 'export: the ONNX file to write; a training run: export after training',
    commands: ['run', 'export'],
    misplaced: '--onnx belongs to graph-run export (or a training run)',
  },
  {
    flags: '--pytorch <DIR>',
    help: 'export: write a PyTorch package into DIR (nn.Module, loss, optimizer, Dataset, train.py for one process or torchrun)',
    commands: ['export'],
    misplaced: '--pytorch belongs to graph-run export',
  },
  {
    flags: '-o, --output <FILE>',
    help: "import: the graph file to write (default: the model's name with .yaml); the weights go beside it as .safetensors",
    commands: ['import'],
    misplaced: '-o/--output belongs to graph-run import',
  },
  {
    flags: '--step <N>',
    help: 'trace: the optimizer step to show, from 1 (default 1)',
    commands: ['trace', 'dot'],
    when: dotTrace,
    misplaced: traceFlags,
    value: whole('--step', 1),
  },
  {
    flags: '--sample <K>',
    help: "trace: train that step on data row K (from 0; with batch size B, the batch holding row K) instead of the step's own batch",
    commands: ['trace', 'dot'],
    when: dotTrace,
    misplaced: traceFlags,
    value: whole('--sample', 0),
  },
  {
    flags: '--full',
    help: 'trace: print every element of every value',
    commands: ['trace'],
    misplaced: traceFlags,
  },
  {
    flags: '--backward',
    help: 'dot: add the reverse graph',
    commands: ['dot'],
    misplaced: dotFlags,
  },
  { flags: '--mermaid', help: 'dot: print Mermaid instead of DOT', commands: ['dot'], misplaced: dotFlags },
  {
    flags: '--svg <FILE>',
    help: 'dot: lay the graph out with Graphviz (built in, WebAssembly) and write this SVG file',
    commands: ['dot'],
    misplaced: dotFlags,
  },
  {
    flags: '--trace',
    help: 'dot: label each node with its value in one training step (--step N, --sample K)',
    commands: ['dot'],
    misplaced: '--trace belongs to graph-run dot (graph-run trace prints a step)',
  },
  {
    flags: '--device <D>',
    help: "cpu (default), webgpu, or auto (webgpu when an adapter exists); overrides the graph's device: key (docs/webgpu.md)",
    commands: ['run', 'plan', 'trace', 'eval', 'predict', 'sweep', 'generate'],
    misplaced: deviceFlags,
    value: (s) => {
      if (!['cpu', 'webgpu', 'auto'].includes(s))
        throw new UsageError(`--device must be cpu, webgpu or auto, got "${s}"`);
      return s;
    },
  },
  {
    flags: '--strict-device',
    help: 'make any node falling back from WebGPU to the CPU an error',
    commands: ['run', 'plan', 'trace', 'eval', 'predict', 'generate'],
    misplaced: deviceFlags,
  },
  {
    flags: '--explain',
    help: 'print where each node runs, and why, before running',
    commands: ['run', 'plan', 'eval', 'predict'],
    misplaced: deviceFlags,
  },
  {
    flags: '--verbose',
    help: "also print the GPU driver's own messages (Dawn, Vulkan) from looking for a WebGPU adapter",
    commands: ['run', 'plan'],
    misplaced: '--verbose belongs to a run (or graph-run plan): it shows what the GPU driver said',
  },
  {
    flags: '--data <FILE>',
    help: "eval, predict: the data file (CSV, JSON, or any format training.data takes), read with training.data's columns; or one array file per input: image=test-images.idx,label=test-labels.idx",
    commands: ['eval', 'predict'],
    misplaced: dataFlags,
  },
  {
    flags: '--columns <MAP>',
    help: "eval, predict: the file's columns for each input instead of training.data's: x=x_test,y=y_test (an input of several columns: x=x1+x2)",
    commands: ['eval', 'predict'],
    misplaced: dataFlags,
    value: (s) => {
      const out: Record<string, string | string[]> = {};
      for (const part of s.split(',')) {
        const m = /^\s*([A-Za-z_][\w.]*)\s*=\s*(\S.*?)\s*$/.exec(part);
        if (!m)
          throw new UsageError(
            `--columns takes input=column pairs separated by commas (x=x_test,y=y_test), got "${s}"`,
          );
        const cols = m[2]!.split('+').map((c) => c.trim());
        out[m[1]!] = cols.length === 1 ? cols[0]! : cols;
      }
      return out;
    },
  },
  {
    flags: '--batch-size <N>',
    help: 'eval, predict: rows per batch (default: training.eval_batch_size, else training.batch_size)',
    commands: ['eval', 'predict'],
    misplaced: dataFlags,
    value: whole('--batch-size', 1),
  },
  {
    flags: '--out <FILE>',
    help: 'predict: write the outputs to FILE: .csv (one column per output value, a header naming them) or .npy (one output); sweep: the results table as .csv or .json (with --emit k8s: the manifest)',
    commands: ['predict', 'sweep'],
    misplaced: '--out belongs to graph-run predict and sweep',
  },
  ...sweepOptions,
  ...generateOptions,
  {
    flags: '--data-root <DIR>',
    help: "a further folder whose files the graph may read (data, initial values, subgraphs); besides the graph's own folder, the working directory and std:; repeatable",
    repeat: true,
  },
  {
    flags: '--stats',
    help: 'after the command, print on stderr what it built: "build stats: " and a JSON object of counts (graphs, reverse graphs, data sets, plans)',
  },
  { flags: '-h, --help', help: 'this text (after a command: that command only)' },
  { flags: '--version', help: "graph-run's version" },
];

/** The long name of an option (`--save-every`) and its value's placeholder (`N`), if it takes one. */
export function optionParts(o: OptionSpec): { short?: string; long: string; arg?: string } {
  const m = /^(?:(-\w), )?(--[\w-]+)(?: <([^>]+)>)?$/.exec(o.flags);
  if (!m) throw new Error(`bad flags in the option table: ${o.flags}`);
  return { ...(m[1] ? { short: m[1] } : {}), long: m[2]!, ...(m[3] ? { arg: m[3] } : {}) };
}

/** The options a command takes, in table order. */
export function optionsOf(command: CommandName): OptionSpec[] {
  return options.filter((o) => !o.commands || o.commands.includes(command));
}
