// Loading entry points: a graph file (or text) -> a checked Model, or GraphErrors listing
// every problem found. Checking goes as far as it can: schema, names, subgraphs, cycles,
// then shapes and dtypes through every node, training data, predictions and feeds.
// IO-agnostic: files come through a LoaderIO (node-io.ts in Node, browser-io.ts in a browser).

import { DataError, GraphErrors, ShapeError, type GraphError } from '../errors.js';
import { buildGraph } from '../ir/build.js';
import { checkInitFiles, feedValues, trainingSets } from '../data/index.js';
import { checkLabels } from '../train/labels.js';
import { addUpdates } from '../train/updates.js';
import type { Model } from './model.js';
import type { LoaderIO } from './io.js';
import { Loader } from '../resolve/index.js';
import { buildReverse } from '../autodiff/reverse.js';

/** Parse, validate and resolve; throws GraphErrors with every problem. */
export function loadModel(path: string, text: string | undefined, io: LoaderIO): Model {
  const loader = new Loader(io);
  const model = loader.loadModel(path, text);
  const errors = [...loader.errors];
  // Shape and data checks run even after name errors: nodes that lost an input are skipped,
  // everything else is still checked, so one pass reports as much as it can.
  if (model && !errors.some((e) => e.kind === 'YamlSyntaxError' || e.kind === 'SchemaError')) {
    errors.push(...checkModel(model, errors.length > 0));
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

/** Semantic checks that need shapes: every node typed, data and feeds fitting the inputs. */
export function checkModel(model: Model, partial = false): GraphError[] {
  const errors: GraphError[] = [];
  const batch = model.training?.batchSize ?? 1;
  const built = buildGraph(model, { float: 'f32', batch, loss: true });
  errors.push(...built.errors);
  const lossName = model.loss ? built.ref(model.loss.ref) : undefined;
  if (lossName !== undefined && built.graph.has(lossName)) {
    const t = built.graph.node(lossName).type;
    if (t.shape.length)
      errors.push(
        new ShapeError(
          `the loss must be a scalar, but has shape [${t.shape.join(', ')}]`,
          model.loss!.loc,
          lossName,
          'reduce it, e.g. with op mean',
        ),
      );
  }
  // Data and initial-value files are read here, on demand (runtime/data/), not by the loader.
  // One that cannot be used counts as a loader error did: the whole-model checks below wait.
  const initsRead = checkInitFiles(model, errors);
  const sets = trainingSets(model, errors);
  const incomplete = partial || !initsRead || (model.training !== undefined && !sets.train);
  if (!built.errors.length) {
    checkLabels(built.graph, sets.train, 'training data', errors);
    checkLabels(built.graph, sets.val, 'validation data', errors);
  }
  // Without these a training section would run and change nothing (or fail later, at 1:1).
  if (model.training && !incomplete && !model.loss)
    errors.push(
      new DataError('training needs a loss to minimise', model.training.loc, undefined, 'add a `loss:` section'),
    );
  else if (model.training && !incomplete && !model.updates.length && model.params.some((p) => p.trainable))
    errors.push(
      new DataError(
        'training needs an optimizer',
        model.training.loc,
        undefined,
        'add e.g. `optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}`',
      ),
    );
  for (const q of model.predict)
    feedValues(model, q.feed, errors, `prediction "${q.name}"`, forwardInputs(model), q.loc);
  if (model.feed)
    feedValues(
      model,
      model.feed,
      errors,
      'feed',
      model.gradients ? undefined : forwardInputs(model),
      model.gradients?.loc ?? { file: model.file, line: 1, col: 1 },
    );
  if (model.gradients && !model.feed && !model.training) {
    errors.push(
      new ShapeError(
        'gradients need input values',
        model.gradients.loc,
        undefined,
        'add a `feed:` section with a value for each input',
      ),
    );
  }
  if (!errors.length && !incomplete && model.loss && model.updates.length) {
    // The optimizer's nodes, checked against each parameter's shape.
    try {
      const loss = built.ref(model.loss.ref);
      const { grads } = buildReverse(
        built.graph,
        loss,
        model.params.filter((p) => p.trainable).map((p) => p.name),
      );
      addUpdates(built, model, grads, 'f32', batch, errors);
    } catch (e) {
      if (e instanceof Error && 'kind' in e) errors.push(e as GraphError);
      else throw e;
    }
  }
  return errors;
}

/** Inputs the forward graph's outputs read (predictions need no loss targets). */
export function forwardInputs(model: Model): Set<string> {
  const built = buildGraph(model, { float: 'f32', batch: 1, loss: false });
  const outs = model.outputs.map((o) => built.ref(o.ref)).filter((n) => built.graph.has(n));
  const needed = built.graph.ancestors(outs);
  return new Set(needed.filter((n) => built.graph.node(n).op === 'input'));
}
