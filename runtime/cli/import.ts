// `graph-run import model.onnx [-o model.yaml]`: the ONNX file is read with its size checked
// first, converted by the library (importOnnx), and the graph and its weights (the graph's
// name with .safetensors, beside it) are written atomically. Neither output may be the input.

import { basename, dirname, join, relative, resolve } from 'node:path';
import { importOnnx, loadGraph, MAX_ONNX_BYTES, ToolError, UsageError } from '../index.js';
import { ensureWritable, readFileBytes, writeFileAtomic } from './files.js';
import { statSync } from 'node:fs';

export interface ImportFlags {
  output?: string;
}

export function importCommand(file: string, flags: ImportFlags, out: (s: string) => void): void {
  const yamlPath = flags.output ?? join(dirname(file), `${basename(file).replace(/\.onnx$/i, '')}.yaml`);
  if (!/\.ya?ml$/i.test(yamlPath)) throw new UsageError(`-o must name a .yaml file, got "${yamlPath}"`);
  const weightsPath = yamlPath.replace(/\.ya?ml$/i, '.safetensors');
  for (const p of [yamlPath, weightsPath])
    if (resolve(p) === resolve(file)) throw new UsageError(`-o "${yamlPath}" would overwrite the model "${file}"`);
  ensureWritable(yamlPath, 'graph');
  ensureWritable(weightsPath, 'weights');
  const size = statSync(file).size;
  if (size > MAX_ONNX_BYTES)
    throw new ToolError(
      `${file} holds ${size} bytes, over the ${MAX_ONNX_BYTES / 1048576} MiB limit for an imported model`,
    );
  const bytes = readFileBytes(file, 'ONNX model');
  // The weights file as the graph names it: relative to the graph's folder.
  const weights = relative(dirname(resolve(yamlPath)), resolve(weightsPath))
    .split('\\')
    .join('/');
  const name = basename(yamlPath).replace(/\.ya?ml$/i, '');
  const r = importOnnx(bytes, { file, name, weights });
  writeFileAtomic(weightsPath, r.weights, 'weights');
  writeFileAtomic(yamlPath, r.yaml, 'graph');
  // What was written loads (shapes, dtypes, weights): a model the op table mistranslates is
  // reported here, at its line of the new graph, not on the first run.
  loadGraph(yamlPath);
  const g = r.graph;
  const elements = g.params.reduce((n, p) => n + p.data.length, 0);
  const shape = (s: (number | string)[]) => `[${s.join(', ')}]`;
  out(
    `${yamlPath}: ${g.nodes.length} nodes from ONNX opset ${g.opset}; inputs ${g.inputs.map((i) => `${i.name} ${shape(i.shape)}`).join(', ')}; outputs ${g.outputs.map(([k]) => k).join(', ')}; ${g.params.length} parameters (${elements} values) in ${weightsPath}`,
  );
}
