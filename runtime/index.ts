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
import { Session, type SessionOptions } from './session.js';
import { GraphErrors, type GraphError } from './errors.js';
import { feedValues } from './data/index.js';
import type { Tensor } from './ir/types.js';
import { emitYaml } from './emit/yaml.js';

export type { Model } from './load/model.js';
export type { Tensor, DType, FloatDType, Shape, TypedArray } from './ir/types.js';
export type { LossRecord, SessionOptions, TrainOptions, StepRecord } from './session.js';
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
export { ToolError, CheckpointError } from './checkpoint/errors.js';
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
// Node's file access with the containment rule (docs/format.md); `roots` names further folders.
export { nodeIO } from './load/node-io.js';
export { FileRefused, MAX_YAML_BYTES, MAX_DATA_BYTES } from './load/io.js';
// One step of learning with every value shown (graph-run trace); traceByNode labels nodes for dot.
export { trace, traceByNode } from './trace/trace.js';
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
 * Load and check a graph file; throws GraphErrors listing every problem.
 * @example const model = loadGraph('graphs/gender.yaml');
 */
export function loadGraph(path: string, io?: LoaderIO): Model {
  return loadModel(path, undefined, io ?? nodeIO(), checkModel);
}

/**
 * Load and check a graph given as text (`path` names it in error messages and anchors
 * relative subgraph paths).
 * @example const model = parseGraph('inputs: {x: {shape: [3]}}\nnodes: [{name: y, op: sum, inputs: [x]}]\noutputs: [y]');
 */
export function parseGraph(text: string, path = '<string>.yaml', io?: LoaderIO): Model {
  return loadModel(path, text, io ?? nodeIO(), checkModel);
}

/**
 * Compile a model into a session holding its parameters (f32 unless `dtype: 'f64'`).
 * @example const s = compile(loadGraph('graphs/gender.yaml')); s.train(); s.parameters();
 */
export function compile(model: Model, opts: SessionOptions = {}): Session {
  return new Session(model, opts);
}

/**
 * Run the forward graph on input values given as (nested) lists: one sample or a batch.
 * @example predict(session, { x: [-7, -3] }).pred.data[0]
 */
export function predict(session: Session, inputs: Record<string, unknown>): Record<string, Tensor> {
  const loc = { file: session.model.file, line: 1, col: 1 };
  const feed = new Map(Object.entries(inputs).map(([k, v]) => [k, { value: v, loc, itemLoc: () => loc }]));
  const errors: GraphError[] = [];
  // Only the inputs the outputs depend on are required: a prediction needs no targets.
  const f = feedValues(session.model, feed, errors, 'predict()', session.program.forwardInputs(), loc);
  if (!f) throw new GraphErrors(errors);
  return session.run(f.values, f.batch);
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
