// graph-run's library API: load a YAML graph (from a file or a string), compile it into a
// Session, train it, run it, take gradients, print its reverse graph. The CLI uses only this.
//
//   import { loadGraph, compile, predict } from 'graph-run';
//   const session = compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' });
//   const losses = session.train();            // [{ epoch: 0, loss: 0.2612 }, ...]
//   const { pred } = predict(session, { x: [-7, -3] });   // pred.data[0] ≈ 0.949

import { loadModel } from './resolve/load-model.js';
import { checkModel } from './compile/check.js';
// Node's file system by default; the browser build replaces this module (docs/browser.md).
import { nodeIO } from './load/node-io.js';
import type { LoaderIO } from './load/io.js';
import type { Model } from './load/model.js';
import type { Setting } from './load/settings.js';
import { Session, type SessionOptions } from './session.js';
import { GraphErrors, type GraphError } from './errors.js';
import { feedValues } from './data/index.js';
import { arrayDataset, type ArrayValues, type Dataset } from './data/dataset.js';
import type { Tensor } from './ir/types.js';
import { emitYaml } from './emit/yaml.js';

export type { Model } from './load/model.js';
export type { Tensor, DType, FloatDType, Shape, TypedArray } from './ir/types.js';
export type {
  LossRecord,
  SessionOptions,
  TrainOptions,
  StepRecord,
  Feed,
  Evaluation,
  BatchProgress,
} from './session.js';
// Data sets named at run time (a file, arrays in memory) and training on them (docs/api.md).
export { readDataset, arrayDataset, type Dataset, type ArrayValues, type ReadDatasetOptions } from './data/dataset.js';
export { trainOn, trainOnAsync, type TrainOnData, type TrainOnOptions } from './session/train-on.js';
export { predictionsCsv, outputColumns } from './session/outputs.js';
export {
  generate,
  languageModel,
  encodePrompt,
  MAX_TOKENS,
  type GenerateOptions,
  type Generated,
  type LanguageModel,
} from './session/generate.js';
export type { LoaderIO } from './load/io.js';
export type { SourceLoc, ErrorKind } from './errors.js';
export { Session } from './session.js';
export type { TrainGraph } from './session.js';
// The compile stage: a model's graphs, built once per float dtype (Session.program).
export { Program, type GraphKind, type EvalGraph, type ForwardGraph, type GradientGraph } from './compile/program.js';
// How many graphs, reverse graphs, data sets and plans this process has built (compile once, observably).
export { buildStats, resetBuildStats } from './stats.js';
export {
  GraphError,
  GraphErrors,
  UsageError,
  YamlSyntaxError,
  SchemaError,
  NameError,
  ArityError,
  ShapeError,
  DTypeError,
  CycleError,
  DataError,
  SubgraphError,
  AttrError,
  formatError,
} from './errors.js';
export { registry, userOpNames } from './ops/registry.js';
// Device problems (no WebGPU, limits, a fallback under strictDevice, a lost device).
export { DeviceError, type DeviceErrorCode } from './executors/executor.js';
export type { DeviceChoice } from './scheduler/placement.js';
export { checkGradients, formatCheck, type CheckOptions, type CheckResult, type CheckRow } from './check/gradcheck.js';
export { initialValues } from './train/init.js';
export { Stream, shuffledOrder, threefry2x32 } from './ops/random.js';
// Tools (issue 5): pictures of the graph, checkpoints. Pure: no Node built-ins (the browser build uses them).
export { graphPicture, type Picture, type PictureNode, type PictureEdge, type PictureOptions } from './viz/picture.js';
export { toDot } from './viz/dot.js';
export { toMermaid } from './viz/mermaid.js';
// SVG through Graphviz compiled to WebAssembly (loaded on first use; Node and browsers alike).
export { renderSvg, graphSvg } from './viz/svg.js';
export { ToolError, CheckpointError } from './checkpoint/errors.js';
// The graph as a PyTorch package: nn.Module, loss, optimizer, Dataset, train.py (torchrun, DDP).
export {
  pytorchPackage,
  pytorchFileNames,
  pytorchOps,
  PytorchExportError,
  type PytorchPackage,
  type PytorchExportOptions,
} from './export/pytorch.js';
export {
  checkpointBytes,
  restoreCheckpoint,
  type TrainingPosition,
  type RestoreOptions,
} from './checkpoint/checkpoint.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  safetensorsHead,
  type SafeTensor,
  type SafeFile,
} from './checkpoint/safetensors.js';
export { plotSvg, type PlotOptions } from './progress/plot.js';
export { lossChart, type ChartOptions } from './progress/chart.js';
export {
  TrainingReporter,
  formatBar,
  progressMode,
  otherMetrics,
  epochLabel,
  type Terminal,
  type ProgressMode,
  type ReporterOptions,
} from './progress/reporter.js';
export {
  exportOnnx,
  onnxModel,
  exportableOps,
  ExportError,
  ONNX_OPSET,
  type OnnxExportOptions,
} from './export/onnx.js';
export { encodeOnnx, type OnnxModel } from './export/onnx-proto.js';
// ONNX models in: an ONNX file -> a graph-run graph (YAML) and its weights (safetensors).
export {
  importOnnx,
  importableOps,
  ImportError,
  readOnnx,
  MIN_OPSET,
  MAX_OPSET,
  type OnnxImport,
  type OnnxImportOptions,
  type ImportedGraph,
  MAX_ONNX_BYTES,
} from './import/onnx/index.js';
export { memoryIO } from './load/browser-io.js';
// --set: values given in place of the graph file's own.
export { parseSetting, type Setting } from './load/settings.js';
// Node's file access with the containment rule (docs/format.md); `roots` names further folders.
export { nodeIO } from './load/node-io.js';
export { FileRefused, MAX_YAML_BYTES, MAX_DATA_BYTES, MAX_STREAM_BYTES, type DataFile } from './load/io.js';
/** .npy files: `encodeNpy(shape, typedArray)` writes one (predictions), `readNpy(bytes)` reads one. */
export { encodeNpy, readNpy } from './data/index.js';
// One step of learning with every value shown (graph-run trace); traceByNode labels nodes for dot.
export { trace, traceAsync, traceByNode } from './trace/trace.js';
export type {
  Trace,
  TraceOptions,
  TraceValue,
  TraceForwardNode,
  TraceReverseNode,
  TraceRole,
  TraceUpdate,
  TraceOptimizerNode,
  TraceNodeInfo,
} from './trace/trace.js';
export { formatTrace, formatValue, type FormatTraceOptions } from './trace/format.js';

/**
 * Load and check a graph file; throws GraphErrors listing every problem. `io` reads files
 * from elsewhere than Node's file system (`memoryIO` in a browser); `options.set` replaces
 * values the file writes, checked as if written there (`[{ key: 'optimizer.with.lr', value: 0.01 }]`).
 * @example
 * ```ts
 * import { loadGraph } from 'graph-run';
 * const model = loadGraph('graphs/gender.yaml');
 * console.log(model.name, model.params.map((p) => p.name)); // gender [ 'w1', 'b1', 'w2', 'b2' ]
 * ```
 */
export function loadGraph(path: string, io?: LoaderIO, options: LoadOptions = {}): Model {
  return loadModel(path, undefined, io ?? nodeIO(), checkModel, options.set);
}

/** How loadGraph reads a file: `set` replaces values the file writes (the CLI's --set). */
export interface LoadOptions {
  set?: readonly Setting[];
}

/**
 * Load and check a graph given as text (`path` names it in error messages and anchors
 * relative subgraph paths); throws GraphErrors listing every problem, each positioned.
 * @example
 * ```ts
 * import { GraphErrors, parseGraph } from 'graph-run';
 * const model = parseGraph('inputs: {x: {shape: [3]}}\nnodes: [{name: y, op: sum, inputs: [x]}]\noutputs: [y]');
 * try {
 *   parseGraph('inputs: {x: {shape: [3]}}\nnodes: [{name: y, op: sum, inputs: [z]}]', 'net.yaml');
 * } catch (e) {
 *   if (!(e instanceof GraphErrors)) throw e;
 *   console.log(e.errors[0]?.kind, e.errors[0]?.line); // NameError 2
 * }
 * ```
 */
export function parseGraph(text: string, path = '<string>.yaml', io?: LoaderIO): Model {
  return loadModel(path, text, io ?? nodeIO(), checkModel);
}

/**
 * Compile a model into a CPU session holding its parameters (f32 unless `dtype: 'f64'`);
 * `Session.create` is the same on any device.
 * @example
 * ```ts
 * import { compile, loadGraph } from 'graph-run';
 * const session = compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' });
 * const losses = session.train(); // one { epoch, loss } per logged epoch
 * console.log(losses.at(-1), session.parameters().w1?.data);
 * ```
 */
export function compile(model: Model, opts: SessionOptions = {}): Session {
  return new Session(model, opts);
}

/**
 * The forward graph's outputs for input values: one sample or a batch as (nested) lists, flat
 * typed arrays (row after row), or a data set (readDataset). All rows run as one batch unless
 * `batchSize` says how many at a time (then outputs are joined along the batch axis, and one
 * without a leading batch axis is left out).
 * @example
 * ```ts
 * import { compile, loadGraph, predict } from 'graph-run';
 * const session = compile(loadGraph('graphs/gender.yaml'));
 * session.train();
 * console.log(predict(session, { x: [-7, -3] }).pred?.data[0]); // about 0.95 (Emily)
 * console.log(predict(session, { x: [[-7, -3], [20, 2]] }).pred?.shape); // [ 2 ]
 * console.log(predict(session, { x: Float32Array.of(-7, -3, 20, 2) }).pred?.shape); // [ 2 ]
 * ```
 */
export function predict(
  session: Session,
  inputs: Record<string, unknown> | Dataset,
  opts: { batchSize?: number } = {},
): Record<string, Tensor> {
  const data = predictInputs(session, inputs);
  return session.predictData(data, opts.batchSize ?? Math.max(1, data.rows));
}

/** predict() on any device. */
export async function predictAsync(
  session: Session,
  inputs: Record<string, unknown> | Dataset,
  opts: { batchSize?: number } = {},
): Promise<Record<string, Tensor>> {
  const data = predictInputs(session, inputs);
  return session.predictDataAsync(data, opts.batchSize ?? Math.max(1, data.rows));
}

/** predict()'s inputs as a data set: typed arrays as they are, lists checked as `predict:` values are. */
function predictInputs(session: Session, inputs: Record<string, unknown> | Dataset): Dataset {
  if (inputs.columns instanceof Map && typeof inputs.rows === 'number') return inputs as Dataset;
  const m = session.model;
  const loc = { file: m.file, line: 1, col: 1 };
  const needed = session.program.forwardInputs();
  const opts = { what: 'predict()', inputs: needed, float: session.float };
  if (Object.values(inputs).some((v) => ArrayBuffer.isView(v)))
    return arrayDataset(m, inputs as Record<string, ArrayValues>, opts);
  const feed = new Map(Object.entries(inputs).map(([k, v]) => [k, { value: v, loc, itemLoc: () => loc }]));
  const errors: GraphError[] = [];
  // Only the inputs the outputs depend on are required: a prediction needs no targets.
  const f = feedValues(m, feed, errors, 'predict()', needed, loc);
  if (!f) throw new GraphErrors(errors);
  return arrayDataset(m, Object.fromEntries(f.values), opts);
}

/**
 * The values of the parameters drawn from a seeded distribution: the printed graph carries them
 * (it has no seed of its own), so it computes the gradients at the same point.
 */
function drawnParams(session: Session): Map<string, ArrayLike<number>> {
  const random = new Set(session.model.params.filter((p) => p.init.kind === 'random').map((p) => p.name));
  return new Map([...session.params].filter(([name]) => random.has(name)));
}

/**
 * The reverse graph as YAML in graph-run's format: for a `gradients:` request, d of / d wrt at
 * the feed; for a training graph, d loss / d every trainable parameter on the first batch.
 * @example console.log(reverseGraphYaml(compile(loadGraph('graphs/autograd.yaml'))));
 */
export function reverseGraphYaml(session: Session): string {
  const m = session.model;
  if (m.gradients) {
    const { built, grads, values } = session.gradientGraph();
    const outputs = new Map<string, string>();
    for (const w of m.gradients.wrt) {
      const g = grads.get(w.ref);
      if (g) outputs.set(`d_${w.name}`, g);
    }
    return emitYaml(built.graph, {
      name: `${m.name}_grad`,
      description: `Reverse graph of ${m.file}: gradients of ${String(m.gradients.of)} with respect to ${m.gradients.wrt.map((w) => w.name).join(', ')}.`,
      outputs,
      feed: values,
      state: session.state,
      params: drawnParams(session),
      header: `Generated by graph-run grad from ${m.file} (${session.float}). Outputs d_<name> are the gradients.`,
    });
  }
  const t = session.trainGraph(session.batchSize, false);
  const outputs = new Map<string, string>();
  for (const [p, g] of t.grads) if (g) outputs.set(`d_${p}`, g);
  outputs.set('loss', t.loss);
  return emitYaml(t.built.graph, {
    name: `${m.name}_grad`,
    description: `Reverse graph of ${m.file}: d loss / d each trainable parameter, on the first training batch.`,
    outputs,
    feed: session.firstBatch(),
    state: session.state,
    params: drawnParams(session),
    header: `Generated by graph-run grad from ${m.file} (batch ${session.batchSize}, ${session.float}). Outputs d_<param> are the gradients of the loss.`,
  });
}

// ---- The command line's needs, as library API (issue 10, item 3: the CLI imports only this entry). ----

/**
 * The graph's outputs on its own `feed:` values (a graph without inputs needs none), on any
 * device; undefined when the graph has no outputs or nothing to feed them, or the feed does not fit.
 * @example const outs = await feedOutputs(compile(loadGraph('graphs/autograd.yaml'))); // { y: ... }
 */
export async function feedOutputs(session: Session): Promise<Record<string, Tensor> | undefined> {
  const m = session.model;
  if ((!m.feed && m.inputs.length > 0) || m.outputs.length === 0) return undefined;
  const f = feedValues(m, m.feed ?? new Map(), [], 'feed', undefined, { file: m.file, line: 1, col: 1 });
  return f ? session.runAsync(f.values, f.batch) : undefined;
}
