// `graph-run export <graph.yaml> --onnx FILE [--load CKPT]`: the output path is checked first, a
// checkpoint's weights loaded (parameters only), then the library's ONNX model written atomically.

import { encodeOnnx, exportOnnx, onnxModel, restoreCheckpoint, type Session, UsageError } from '../index.js';
import { ensureWritable, readCheckpointFile, writeFileAtomic } from './files.js';

export interface ExportFlags {
  onnx?: string;
  load?: string;
  version?: string;
}

export function exportCommand(session: Session, flags: ExportFlags, out: (s: string) => void): void {
  if (!flags.onnx) throw new UsageError('graph-run export needs --onnx FILE');
  ensureWritable(flags.onnx, 'ONNX model');
  if (flags.load) restoreCheckpoint(session, readCheckpointFile(flags.load), { file: flags.load });
  const model = onnxModel(session, { version: flags.version ?? '' });
  writeFileAtomic(flags.onnx, encodeOnnx(model), 'ONNX model');
  out(
    `${flags.onnx}: ONNX opset ${model.opset}, ${model.nodes.length} nodes, inputs ${model.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join(', ')}; outputs ${model.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ')}${flags.load ? `; weights from ${flags.load}` : ''}`,
  );
}

/** For `graph-run <graph> --onnx FILE`: check the path before training, write the model after. */
export function exportAfterTraining(path: string): { write(session: Session, version?: string): void } {
  ensureWritable(path, 'ONNX model');
  return {
    write: (session, version) => writeFileAtomic(path, exportOnnx(session, { version: version ?? '' }), 'ONNX model'),
  };
}
