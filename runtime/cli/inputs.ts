// Outputs never overwrite inputs: --save, --plot, --onnx, dot --svg and the files of --pytorch DIR are refused, before
// anything runs, when they name a file the run reads — the graph file, its subgraphs, its data
// and initial-value files, the --load / --resume checkpoint. Compared by device and inode, so a
// symbolic or hard link to an input is caught too. One exception, documented in
// docs/checkpoints.md: `--resume F --save F` continues a checkpoint in place (F is read whole
// before training, and the save replaces it atomically).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type LoaderIO, type Model, nodeIO, pytorchFileNames, UsageError } from '../index.js';
import type { OptionValues } from './table.js';

/**
 * A LoaderIO that records the path of every file read through it (the graph files), and tells
 * `progress` how the reading of data files goes.
 */
export function recordingIO(roots: string[], progress?: LoaderIO['progress']): { io: LoaderIO; read: string[] } {
  const base = nodeIO({ roots });
  const read: string[] = [];
  return {
    read,
    io: {
      ...base,
      ...(progress ? { progress } : {}),
      read: (p) => {
        read.push(p);
        return base.read(p);
      },
    },
  };
}

/** The files a run of `model` reads: graph files read so far, data and initial-value files. */
export function modelInputs(model: Model, graphFiles: string[]): string[] {
  const files = [model.file, ...graphFiles];
  const t = model.training;
  if (t) {
    if (t.data.kind === 'file') files.push(t.data.path);
    const v = t.validation;
    if (v && 'data' in v && v.data.kind === 'file') files.push(v.data.path);
  }
  for (const p of model.params) if (p.init.kind === 'file') files.push(p.init.path);
  return files;
}

const OUTPUTS: [key: string, flag: string][] = [
  ['save', '--save'],
  ['plot', '--plot'],
  ['onnx', '--onnx'],
  ['svg', '--svg'],
  ['out', '--out'],
];

const identity = (p: string): string | undefined => {
  try {
    const s = statSync(p);
    return `${s.dev}:${s.ino}`;
  } catch {
    return undefined; // not there: it is no input
  }
};

/** A UsageError when an output option names a file the run reads (or two outputs the same file). */
export function refuseOverwrites(o: OptionValues, inputs: string[]): void {
  const read = new Map<string, string>();
  for (const f of [...inputs, ...[o.load, o.resume].filter((x): x is string => typeof x === 'string')]) {
    const id = identity(f);
    if (id && !read.has(id)) read.set(id, f);
  }
  const resumed = typeof o.resume === 'string' ? identity(o.resume) : undefined;
  const written = new Map<string, string>();
  for (const [key, flag] of OUTPUTS) {
    const out = o[key];
    if (typeof out !== 'string') continue;
    const id = identity(out);
    if (id && read.has(id) && !(key === 'save' && id === resumed))
      throw new UsageError(`${flag} "${out}" would overwrite "${read.get(id)}", which this run reads`);
    const prev = written.get(out);
    if (prev) throw new UsageError(`${flag} and ${prev} both name "${out}"`);
    written.set(out, flag);
  }
  // --pytorch DIR writes a package's files into DIR: none of them may be a file the run reads.
  if (typeof o.pytorch === 'string')
    for (const name of pytorchFileNames) {
      const id = identity(join(o.pytorch, name));
      if (id && read.has(id))
        throw new UsageError(
          `--pytorch "${o.pytorch}" would overwrite "${read.get(id)}" (its ${name}), which this run reads`,
        );
    }
}
