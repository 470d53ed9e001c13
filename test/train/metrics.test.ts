// training.metrics against PyTorch (test/reference/metrics.py -> metrics.json): per-position
// accuracy, top-k accuracy and perplexity of [N, T, C] logits, a target that is not an input,
// one-hot and binary targets; evaluation in batches (a short last batch included) equals one
// batch over all rows; bad metrics are positioned errors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkpointBytes,
  compile,
  type GraphError,
  GraphErrors,
  parseGraph,
  restoreCheckpoint,
  TrainingReporter,
} from '../../runtime/index.js';
import type { MetricDecl } from '../../runtime/load/model.js';
import { metricLayout } from '../../runtime/train/metrics.js';

interface Ref {
  sequence: {
    N: number;
    T: number;
    C: number;
    logits: number[][][];
    teacher: number[][][];
    y: number[][];
    loss: number;
    accuracy: number;
    top3_accuracy: number;
    perplexity: number;
    teacher_accuracy: number;
    teacher_top2_accuracy: number;
    teacher_perplexity: number;
    flattened_accuracy: number;
  };
  onehot: { x: number[][]; onehot: number[][]; accuracy: number; top2_accuracy: number; perplexity: number };
  binary: { z: number[][]; yb: number[]; logit_accuracy: number; prob_accuracy: number };
}
const ref = JSON.parse(readFileSync('test/reference/metrics.json', 'utf8')) as Ref;
const S = ref.sequence;
const j = JSON.stringify;

function sequenceYaml(evalBatch: number | undefined, extra = ''): string {
  return `graph-run: 1
name: seq
inputs:
  logits: {shape: [batch, ${S.T}, ${S.C}]}
  teacher: {shape: [batch, ${S.T}, ${S.C}]}
  y: {shape: [batch, ${S.T}], dtype: i32}
nodes:
  - {name: flat, op: reshape, inputs: [logits], attrs: {shape: [-1, ${S.C}]}}
  - {name: yflat, op: reshape, inputs: [y], attrs: {shape: [-1]}}
  - {name: tclass, op: argmax, inputs: [teacher], attrs: {axis: -1}}
outputs: [flat]
loss:
  graph: std:losses/cross_entropy.yaml
  inputs: {pred: flat, target: yflat}
training:
  data: {logits: ${j(S.logits)}, teacher: ${j(S.teacher)}, y: ${j(S.y)}}
  epochs: 0
  batch_size: 2
${evalBatch === undefined ? '' : `  eval_batch_size: ${evalBatch}\n`}  accuracy: {pred: logits, target: y}
  metrics:
    - {metric: top_k, k: 3, pred: logits, target: y}
    - {metric: perplexity}
    - {metric: perplexity, name: pred_perplexity, pred: logits, target: y}
    - {metric: accuracy, name: teacher_accuracy, pred: logits, target: tclass}
    - {metric: top_k, k: 2, name: teacher_top2_accuracy, pred: logits, target: tclass}
    - {metric: perplexity, name: teacher_perplexity, pred: logits, target: tclass}
${extra}`;
}

const close = (got: number | undefined, want: number, tol = 1e-12) =>
  expect(Math.abs(got! - want), `${got} vs ${want}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));

describe('training.metrics against PyTorch', () => {
  it.each([
    [3, 'batches of 3 and a last one of 1'],
    [10, 'one batch of all rows'],
    [undefined, 'the training batch size (2)'],
  ] as [number | undefined, string][])('sequence logits [N, T, C], eval_batch_size %s: %s', (evalBatch, _what) => {
    const r = compile(parseGraph(sequenceYaml(evalBatch), 'seq.yaml'), { dtype: 'f64' }).metrics(0);
    close(r.loss, S.loss);
    // Per position: 50% right, where the flattened row's argmax scores PyTorch's 10%.
    close(r.accuracy, S.accuracy);
    expect(S.flattened_accuracy).not.toBeCloseTo(S.accuracy, 2);
    close(r.top3_accuracy, S.top3_accuracy);
    close(r.perplexity, S.perplexity);
    close(r.pred_perplexity, S.perplexity);
    // A target that is a node (the argmax of other logits), not an input.
    close(r.teacher_accuracy, S.teacher_accuracy);
    close(r.teacher_top2_accuracy, S.teacher_top2_accuracy);
    close(r.teacher_perplexity, S.teacher_perplexity);
  });

  it('f32 agrees with the f64 reference within float precision', () => {
    const r = compile(parseGraph(sequenceYaml(4), 'seq.yaml')).metrics(0);
    close(r.loss, S.loss, 1e-6);
    close(r.accuracy, S.accuracy);
    close(r.perplexity, S.perplexity, 1e-5);
  });

  it('reports each metric on validation data as val_<name>', () => {
    const yaml = sequenceYaml(3).replace('  epochs: 0', '  epochs: 0\n  validation: {split: 0.3}');
    const r = compile(parseGraph(yaml, 'seq.yaml'), { dtype: 'f64' }).metrics(0);
    for (const k of ['accuracy', 'top3_accuracy', 'perplexity', 'teacher_accuracy'])
      expect(r[`val_${k}`], k).toBeTypeOf('number');
    // perplexity of the loss is exp of that data set's mean loss.
    close(r.val_perplexity, Math.exp(r.val_loss!));
    close(r.perplexity, Math.exp(r.loss));
  });

  it('one-hot targets: accuracy, top-k and perplexity against probability rows', () => {
    const O = ref.onehot;
    const yaml = `graph-run: 1
name: hot
inputs: {x: {shape: [batch, 4]}, t: {shape: [batch, 4]}}
nodes:
  - {name: d, op: sub, inputs: [x, t]}
  - {name: sq, op: mul, inputs: [d, d]}
loss: {name: l, op: mean, inputs: [sq]}
training:
  data: {x: ${j(O.x)}, t: ${j(O.onehot)}}
  epochs: 0
  eval_batch_size: 4
  metrics:
    - {metric: accuracy, pred: x, target: t}
    - {metric: top_k, k: 2, pred: x, target: t}
    - {metric: perplexity, name: ppl, pred: x, target: t}
`;
    const r = compile(parseGraph(yaml, 'hot.yaml'), { dtype: 'f64' }).metrics(0);
    close(r.accuracy, O.accuracy);
    close(r.top2_accuracy, O.top2_accuracy);
    close(r.ppl, O.perplexity);
  });

  it('binary: one value per sample against 0/1 targets, thresholded (0 for logits, 0.5 for probabilities)', () => {
    const B = ref.binary;
    const yaml = `graph-run: 1
name: bin
inputs: {z: {shape: [batch, 1]}, yb: {shape: [batch]}}
nodes:
  - {name: p, op: sigmoid, inputs: [z]}
loss: {name: l, op: mean, inputs: [p]}
training:
  data: {z: ${j(B.z)}, yb: ${j(B.yb)}}
  epochs: 0
  eval_batch_size: 2
  metrics:
    - {metric: accuracy, name: logit_accuracy, pred: z, target: yb, threshold: 0}
    - {metric: accuracy, name: prob_accuracy, pred: p, target: yb}
`;
    const r = compile(parseGraph(yaml, 'bin.yaml'), { dtype: 'f64' }).metrics(0);
    close(r.logit_accuracy, B.logit_accuracy);
    close(r.prob_accuracy, B.prob_accuracy);
  });
});

function errorsOf(yaml: string): GraphError[] {
  try {
    compile(parseGraph(yaml, 'bad.yaml')).metrics(0);
  } catch (e) {
    if (e instanceof GraphErrors) return e.errors;
    throw e;
  }
  throw new Error('no error');
}

describe('bad metrics are positioned errors', () => {
  const base = sequenceYaml(3);
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('a target without the batch axis first', () => {
    const yaml = `${base}    - {metric: accuracy, name: wrong, pred: logits, target: flat}\n`;
    const [e, ...rest] = errorsOf(yaml);
    expect(rest).toEqual([]);
    expect(e!.kind).toBe('DataError');
    expect(e!.message).toMatch(/wrong compares one value per sample: pred has shape \[2, 4, 6\] and target \[8, 6\]/);
    expect(e!.line).toBe(lineOf(yaml, 'name: wrong'));
  });

  it('a target that fits no position; top_k without a classes axis', () => {
    const m = (kind: MetricDecl['kind']): MetricDecl => ({
      kind,
      name: kind,
      threshold: 0.5,
      k: 5,
      loc: { file: 'f', line: 1, col: 1 },
    });
    expect(metricLayout(m('accuracy'), [2, 4, 6], [2, 3], 2)).toMatch(
      /pred has shape \[2, 4, 6\] \(4 positions of 6 classes per sample\), so the target needs a label per position or a row of 6 per position, but has shape \[2, 3\]/,
    );
    expect(metricLayout(m('top_k'), [2, 1], [2], 2)).toMatch(/top_k needs a classes axis/);
    expect(metricLayout(m('accuracy'), [2, 1], [2], 2)).toEqual({ positions: 1, classes: 1, oneHot: false });
    expect(metricLayout(m('accuracy'), [2, 4, 6], [2, 4], 2)).toEqual({ positions: 4, classes: 6, oneHot: false });
    expect(metricLayout(m('perplexity'), [2, 4, 6], [2, 4, 6], 2)).toEqual({ positions: 4, classes: 6, oneHot: true });
  });

  it('an unknown node, a duplicate name, a reserved name, a missing target', () => {
    const yaml = `${base}    - {metric: accuracy, name: a2, pred: logitz, target: y}
    - {metric: top_k, k: 3, pred: logits, target: y}
    - {metric: accuracy, name: val_acc, pred: logits, target: y}
    - {metric: accuracy, name: a3, pred: logits}
`;
    const errs = errorsOf(yaml).map((e) => `${e.line}: ${e.message}`);
    expect(errs).toEqual([
      expect.stringMatching(new RegExp(`^${lineOf(yaml, 'logitz')}: .*logitz`)),
      `${lineOf(yaml, 'logitz') + 1}: two metrics are named "top3_accuracy"`,
      expect.stringMatching(new RegExp(`^${lineOf(yaml, 'val_acc')}: a metric may not be named "val_acc"`)),
      expect.stringMatching(new RegExp(`^${lineOf(yaml, 'name: a3')}: metric accuracy needs a pred and a target`)),
    ]);
  });
});

describe('metrics in the training loop', () => {
  it('are logged per epoch, printed on the log lines and kept by a checkpoint', () => {
    const s = compile(parseGraph(sequenceYaml(3), 'seq.yaml'), { dtype: 'f64' });
    const log = s.train({ epochs: 2 });
    expect(Object.keys(log[0]!)).toEqual([
      'epoch',
      'loss',
      'accuracy',
      'top3_accuracy',
      'perplexity',
      'pred_perplexity',
      'teacher_accuracy',
      'teacher_top2_accuracy',
      'teacher_perplexity',
    ]);
    const lines: string[] = [];
    const rep = new TrainingReporter({
      mode: 'lines',
      out: (l) => lines.push(l),
      epochs: 2,
      from: 0,
      batchSize: 2,
      samples: S.N,
    });
    rep.onLog(log[0]!);
    expect(lines[0]).toMatch(
      /^epoch 0 {2}loss \d\.\d{6} {2}accuracy 0\.5000 {2}top3_accuracy 0\.7250 {2}perplexity \d+\.\d{4}/,
    );
    const bytes = checkpointBytes(s, { epoch: 2, losses: log });
    const back = restoreCheckpoint(compile(parseGraph(sequenceYaml(3), 'seq.yaml'), { dtype: 'f64' }), bytes, {
      resume: true,
      file: 'seq.safetensors',
    });
    expect(back!.losses).toEqual(log);
  });
});
