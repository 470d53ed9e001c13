// Loading entry points: a graph file (or text) -> a checked Model, or GraphErrors listing
// every problem found. Checking goes as far as it can: schema, names, subgraphs, cycles,
// then (through the caller's `check`, the compile stage) shapes and dtypes through every
// node, training data, predictions and feeds; all errors are reported together, in order.
// IO-agnostic: files come through a LoaderIO (node-io.ts in Node, browser-io.ts in a browser).

import { GraphErrors, type GraphError } from '../errors.js';
import type { Model } from '../load/model.js';
import type { LoaderIO } from '../load/io.js';
import type { Setting } from '../load/settings.js';
import { Loader } from './index.js';

/**
 * The checks a later stage runs on a loaded model (compile/check.ts: shapes, data, feeds), given
 * by the caller so loading imports no later stage; `partial`: name errors were already found.
 */
export type ModelCheck = (model: Model, partial: boolean) => GraphError[];

/** Parse, validate, resolve and `check`; throws GraphErrors with every problem. */
export function loadModel(
  path: string,
  text: string | undefined,
  io: LoaderIO,
  check?: ModelCheck,
  settings?: readonly Setting[],
): Model {
  const loader = new Loader(io);
  const model = loader.loadModel(path, text, settings);
  const errors = [...loader.errors];
  // Shape and data checks run even after name errors: nodes that lost an input are skipped,
  // everything else is still checked, so one pass reports as much as it can.
  if (check && model && !errors.some((e) => e.kind === 'YamlSyntaxError' || e.kind === 'SchemaError')) {
    errors.push(...check(model, errors.length > 0));
  }
  if (errors.length || !model) throw new GraphErrors(sortByPosition(dedupe(errors)));
  return model;
}

/** Errors in reading order: by file (first seen first), then line and column. */
function sortByPosition(errors: GraphError[]): GraphError[] {
  const files: string[] = [];
  for (const e of errors) if (e.file && !files.includes(e.file)) files.push(e.file);
  const key = (e: GraphError) => [e.file ? files.indexOf(e.file) : -1, e.line ?? 0, e.col ?? 0];
  return [...errors].sort((a, b) => {
    const ka = key(a),
      kb = key(b);
    return ka[0]! - kb[0]! || ka[1]! - kb[1]! || ka[2]! - kb[2]!;
  });
}

function dedupe(errors: GraphError[]): GraphError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.file}:${e.line}:${e.col}:${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
