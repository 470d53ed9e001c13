// The training mode as a value: `is_training` is 1 in the forward pass of a training step and 0
// in every other run (evaluation, predictions, feeds, gradient requests, exports), so a graph can
// choose between two computations by mode with `where` (batch normalisation: the batch's
// statistics while training, the running ones otherwise). It reads the runtime's step counter,
// as dropout does; the loader appends it.

import { RuleError } from '../errors.js';
import { isFloat } from '../ir/types.js';
import { noAttrs } from './attrs.js';
import { defineOp, type OpDef } from './op.js';

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type ModeOpName = 'is_training';

export const modeOps: { readonly [K in ModeOpName]: OpDef } = {
  is_training: defineOp({
    name: 'is_training',
    doc: "1 in a training step's forward pass, 0 in every other run (a scalar of the graph's float): choose by mode with `where`.",
    group: 'random',
    notes:
      "`is_training` is written without inputs; the loader gives it the runtime's step counter (`__step`, as " +
      'dropout). Evaluation, `eval`, `predict`, feeds, `gradients:` requests and ONNX export (a constant 0) all ' +
      'see 0. Batch normalisation uses it to pick the batch statistics while training and the running statistics ' +
      'otherwise ([layers.md](layers.md#batch-normalisation)).',
    arity: [0, 1],
    attrs: noAttrs,
    // The exported (inference) graph is the constant 0: the step counter is not read.
    onnxReads: 0,
    infer: ([step]) => {
      if (!step)
        throw new RuleError('is_training needs the step counter as its input (the loader adds it)', 'ArityError');
      if (step.shape.length !== 0 || !isFloat(step.dtype))
        throw new RuleError('the input of is_training is the scalar step counter');
      return { shape: [], dtype: step.dtype };
    },
    cpu: ({ inputs, output }) => {
      const step = inputs[0]!;
      return () => {
        output[0] = step[0]! > 0 ? 1 : 0;
      };
    },
    wgsl: () => ({ kind: 'map', count: 1, body: 'out[i] = select(TO(0), TO(1), in0[0] > T0(0));' }),
    grad: 'none',
    onnx: (c) => void c.emit('Identity', [c.scalar(0, c.node.type.dtype)], undefined, c.out),
    trace: () => ({ text: 'is_training', atom: true }),
  }),
};
