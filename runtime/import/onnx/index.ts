// `graph-run import model.onnx -o model.yaml`, as library API: an ONNX model -> a graph-run
// graph as YAML text (one flow-style line per node, each ONNX node's nodes under a comment
// naming it) and its weights as safetensors bytes. Every parameter reads its initial value from
// that file (`init: {file: model.safetensors}`: the tensor of the parameter's name), so the
// graph runs, trains and exports as it is, and can be used as a subgraph with a loss and an
// optimizer added around it (docs/onnx.md).

import { encodeSafetensors, type SafeTensor } from '../../load/safetensors.js';
import { convertGraph, type Dim, type GNode, type ImportedGraph } from './convert.js';
import { importableOps, onnxOps } from './ops.js';
import { readOnnx } from './read.js';

export { ImportError, MAX_ONNX_BYTES, MAX_OPSET, MIN_OPSET, readOnnx } from './read.js';
export { importableOps } from './ops.js';
export type { ImportedGraph } from './convert.js';

/** Options of importOnnx: names for messages, the graph and its weights file. */
export interface OnnxImportOptions {
  /** The ONNX file's name, for messages and the YAML's header. */
  file?: string;
  /** The graph's name (default: the ONNX graph's, else the file's stem). */
  name?: string;
  /** The weights file's path as the YAML names it (relative to the YAML file): default `<name>.safetensors`. */
  weights?: string;
}

/** What importOnnx returns: the YAML text, the weights and the converted graph. */
export interface OnnxImport {
  /** The graph in graph-run's format. */
  yaml: string;
  /** The parameters' values (safetensors), to be written where `weights` points. */
  weights: Uint8Array;
  graph: ImportedGraph;
}

/**
 * Convert an ONNX model (opsets 13-21) to a graph-run graph and its weights. Throws an
 * ImportError naming the node and op type of anything it cannot convert.
 * @example const { yaml, weights } = importOnnx(readFileSync('mlp.onnx'), { file: 'mlp.onnx', weights: 'mlp.safetensors' });
 */
export function importOnnx(bytes: Uint8Array, opts: OnnxImportOptions = {}): OnnxImport {
  const file = opts.file ?? 'model.onnx';
  const info = readOnnx(bytes, file);
  const stem = (file.split(/[\\/]/).pop() ?? 'model').replace(/\.onnx$/i, '');
  const rawName = opts.name ?? stem;
  const name = rawName.replace(/[^A-Za-z0-9_-]+/g, '_') || 'model';
  const graph = convertGraph(info, onnxOps, name, importableOps);
  const weightsFile = opts.weights ?? `${stem}.safetensors`;
  const tensors: SafeTensor[] = graph.params.map((p) => ({
    name: p.name,
    dtype: p.data instanceof Float64Array ? 'F64' : 'F32',
    shape: p.shape,
    data: p.data,
  }));
  const weights = encodeSafetensors(tensors, { format: 'graph-run import 1', source: file.slice(0, 200) });
  return { yaml: graphYaml(graph, file, weightsFile), weights, graph };
}

/** The shortest decimal that reads back as the same f32 (attributes are f32 in ONNX). */
function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const f = Math.fround(v);
  if (f !== v) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = String(Number(v.toPrecision(p)));
    if (Math.fround(Number(s)) === f) return s;
  }
  return String(v);
}

/** A value in YAML flow style (names are plain words; numbers as above). */
function flow(v: unknown): string {
  if (typeof v === 'number') return num(v);
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${flow(x)}`)
      .join(', ')}}`;
  return String(v);
}

const dims = (s: Dim[]) => flow(s);

/** Text from the file in a YAML comment: printable ASCII only (no line break can end the comment), cut short. */
const comment = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}...` : s).replace(/[^\x20-\x7e]/g, '?');

function graphYaml(g: ImportedGraph, file: string, weightsFile: string): string {
  const L: string[] = [];
  L.push(
    `# Imported from ${comment(file.split(/[\\/]/).pop() ?? file)} by graph-run import (ONNX opset ${g.opset}${g.producer ? `, written by ${comment(g.producer)}` : ''}).`,
  );
  L.push(`# Parameters read their values from ${comment(weightsFile)} (the tensor of each parameter's name).`);
  L.push('graph-run: 1');
  L.push(`name: ${g.name}`);
  L.push('inputs:');
  for (const i of g.inputs) L.push(`  ${i.name}: {shape: ${dims(i.shape)}${i.int ? ', dtype: i32' : ''}}`);
  if (g.params.length) {
    L.push('params:');
    const wf = /^[A-Za-z0-9_./-]+$/.test(weightsFile) ? weightsFile : JSON.stringify(weightsFile);
    for (const p of g.params)
      L.push(`  ${p.name}: {shape: ${dims(p.shape)}, init: {file: ${wf}}${p.trainable ? '' : ', trainable: false'}}`);
  }
  L.push(g.nodes.length ? 'nodes:' : 'nodes: []');
  let from = '';
  for (const n of g.nodes) {
    if (n.from !== from) {
      from = n.from;
      L.push(`  # ${comment(from)}`);
    }
    L.push(`  - ${nodeLine(n)}`);
  }
  const plain = g.outputs.every(([k, v]) => k === v);
  if (plain) L.push(`outputs: [${g.outputs.map(([k]) => k).join(', ')}]`);
  else {
    L.push('outputs:');
    for (const [k, v] of g.outputs) L.push(`  ${k}: ${v}`);
  }
  return `${L.join('\n')}\n`;
}

function nodeLine(n: GNode): string {
  const parts = [`name: ${n.name}`, `op: ${n.op}`, `inputs: ${flow(n.inputs)}`];
  if (n.attrs) parts.push(`attrs: ${flow(n.attrs)}`);
  return `{${parts.join(', ')}}`;
}
