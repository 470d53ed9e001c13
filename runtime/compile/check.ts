// Compile-time checks: everything `checkModel` checked, now done by compiling the model's
// Program (f32) so the graphs, data and optimizer checked here are the ones a session runs.
// Checking goes as far as it can: nodes that lost an input are skipped, the rest still typed.

import { DataError, ShapeError, type GraphError } from '../errors.js';
import type { IRGraph } from '../ir/graph.js';
import { MAX_ELEMENTS } from '../load/limits.js';
import type { Model } from '../load/model.js';
import { checkDataHeaders, checkInitFiles, feedValues } from '../data/index.js';
import { metricShapeErrors } from '../train/metrics.js';
import { lossShapeError, Program } from './program.js';

/**
 * Semantic checks that need shapes: every node typed, data and feeds fitting the inputs, the
 * optimizer against each parameter. `partial`: the loader already reported name errors.
 */
export function checkModel(model: Model, partial = false): GraphError[] {
  const errors: GraphError[] = [];
  const program = Program.of(model, 'f32');
  const batch = program.batchSize;
  // The graph this model runs at its batch size: the training step's with a loss, else the forward one.
  const built = model.loss ? program.typed(batch) : program.typedForward(batch);
  errors.push(...built.errors);
  const lossErr = built.errors.length ? null : lossShapeError(model, built);
  if (lossErr) errors.push(lossErr);
  // Data and initial-value files are read here, on demand (runtime/data/), not by the loader.
  // One that cannot be used counts as a loader error did: the whole-model checks below wait.
  // Data files are checked as far as their headers tell (columns, shapes, dtypes, sizes); their
  // values are read when a session trains or evaluates (Program.data, which checks the labels).
  const initsRead = checkInitFiles(model, errors);
  const t = model.training;
  const v = t?.validation;
  const inline = [t?.data, v && 'data' in v ? v.data : undefined].every((d) => !d || (d.kind === 'inline' && !d.files));
  // Rows written in the graph are checked in full (labels too): they are already in memory.
  const dataOk = inline ? !t || program.data(errors).train !== null : checkDataHeaders(model, errors);
  const incomplete = partial || !initsRead || !dataOk;
  if (!built.errors.length) {
    checkSizes(built.graph, `at batch size ${batch}`, model, errors);
    errors.push(
      ...metricShapeErrors(model.training?.metrics, batch, (r) => {
        const n = built.ref(r);
        return built.graph.has(n) ? built.graph.node(n).type.shape : undefined;
      }),
    );
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
  const fwd = program.forwardInputs();
  for (const q of model.predict) feedValues(model, q.feed, errors, `prediction "${q.name}"`, fwd, q.loc);
  if (model.feed)
    feedValues(
      model,
      model.feed,
      errors,
      'feed',
      model.gradients ? undefined : fwd,
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
    // The reverse graph and the optimizer's nodes, checked against each parameter's shape: the
    // training step the session will run at this batch size.
    try {
      const step = program.train(batch, errors);
      if (!errors.length) checkSizes(step.built.graph, `in a training step at batch size ${batch}`, model, errors);
    } catch (e) {
      if (e instanceof Error && 'kind' in e) errors.push(e as GraphError);
      else throw e;
    }
  }
  return errors;
}

/**
 * Every value a plan of `g` allocates, against the per-tensor limit (docs/format.md, "Limits"):
 * a graph whose intermediate would not fit fails here, at the node, not with a RangeError mid-run.
 */
function checkSizes(g: IRGraph, where: string, model: Model, errors: GraphError[]): void {
  for (const name of g.order) {
    const n = g.node(name);
    const size = n.type.shape.reduce((a, d) => a * d, 1);
    if (size <= MAX_ELEMENTS) continue;
    errors.push(
      new ShapeError(
        `node "${name}" would hold ${size.toExponential(3)} values ${where} ([${n.type.shape.join(', ')}]), over the limit of 2^28 per tensor`,
        n.loc ?? model.training?.loc ?? { file: model.file, line: 1, col: 1 },
        name,
        'use a smaller batch_size or smaller layers',
      ),
    );
    return; // the first such node: later ones usually follow from it
  }
}
