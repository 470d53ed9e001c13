// `graph-run export <graph.yaml> --onnx FILE | --pytorch DIR [--load CKPT]`: the output path is
// checked first, a checkpoint's weights loaded (parameters only), then the library's ONNX model
// written atomically, or the PyTorch package's files written into DIR (docs/export-pytorch.md).

import { mkdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import {
  encodeOnnx,
  exportOnnx,
  type LoaderIO,
  onnxModel,
  pytorchPackage,
  restoreCheckpoint,
  type Session,
  UsageError,
} from '../index.js';
import { ensureWritable, readCheckpointFile, writeFileAtomic } from './files.js';

export interface ExportFlags {
  onnx?: string;
  pytorch?: string;
  load?: string;
  version?: string;
  io?: LoaderIO;
}

export function exportCommand(session: Session, flags: ExportFlags, out: (s: string) => void): void {
  if (flags.onnx && flags.pytorch)
    throw new UsageError('graph-run export takes --onnx FILE or --pytorch DIR, not both');
  if (flags.pytorch) {
    exportPytorch(session, flags.pytorch, flags, out);
    return;
  }
  if (!flags.onnx) throw new UsageError('graph-run export needs --onnx FILE or --pytorch DIR');
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

/** `--pytorch DIR`: the package's files, each written atomically into DIR (made when missing). */
function exportPytorch(session: Session, dir: string, flags: ExportFlags, out: (s: string) => void): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    /* made below */
  }
  if (!isDir) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new UsageError(`--pytorch ${dir}: cannot make the folder (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
  }
  if (flags.load) restoreCheckpoint(session, readCheckpointFile(flags.load), { file: flags.load });
  const root = resolve(dir);
  const pkg = pytorchPackage(session, {
    dir: root,
    relative: (p) => relative(root, resolve(p)).split(sep).join('/'),
    ...(flags.io ? { io: flags.io } : {}),
  });
  for (const name of pkg.files.keys()) ensureWritable(join(dir, name), 'PyTorch export file');
  for (const [name, data] of pkg.files) writeFileAtomic(join(dir, name), data, 'PyTorch export file');
  out(
    `${dir}: PyTorch package (${pkg.summary}${flags.load ? `; weights from ${flags.load}` : ''}); train: python ${join(dir, 'train.py')}, or torchrun --nproc_per_node=N ${join(dir, 'train.py')}`,
  );
}
