// The batch-normalised conv net of test/reference/batch_norm.py as a graph: conv -> batch_norm ->
// relu -> mean over H, W -> linear -> batch_norm1d (momentum 0.2) -> relu -> linear, cross entropy,
// SGD, with PyTorch's initial parameters and data written inline.
import { nest } from '../ops/helpers.js';

export interface BatchNormRef {
  shapes: { N: number; C_IN: number; H: number; W: number; C1: number; HID: number; K: number };
  batch: number;
  epochs: number;
  lr: number;
  x: number[];
  label: number[];
  initial: Record<string, number[]>;
  step_losses: number[];
  first_grads: Record<string, number[]>;
  logged_losses: number[];
  params: Record<string, number[]>;
  state: Record<string, number[]>;
  eval_logits: number[];
}

export function batchNormNetYaml(r: BatchNormRef): string {
  const { N, C_IN, H, W, C1, HID, K } = r.shapes;
  const xShape = [N, C_IN, H, W];
  const rows = nest(r.x, xShape) as unknown[];
  const p = (name: string, shape: number[]) =>
    `  ${name}: {shape: ${JSON.stringify(shape)}, init: {values: ${JSON.stringify(nest(r.initial[name]!, shape))}}}`;
  // The layers' own parameters start at PyTorch's values: written into the session by the test.
  return [
    'graph-run: 1',
    'name: batch_norm_net',
    'inputs:',
    `  x: {shape: [batch, ${C_IN}, ${H}, ${W}]}`,
    '  label: {shape: [batch], dtype: i32}',
    'params:',
    p('k1', [C1, C_IN, 3, 3]),
    p('c1', [C1]),
    p('w1', [HID, C1]),
    p('b1', [HID]),
    p('w2', [K, HID]),
    p('b2', [K]),
    'nodes:',
    '  - {name: conv, op: conv2d, inputs: [x, k1, c1], attrs: {padding: 1}}',
    `  - {name: bn1, graph: std:layers/batch_norm.yaml, inputs: {x: conv}, with: {channels: ${C1}}}`,
    '  - {name: h1, op: relu, inputs: [bn1]}',
    '  - {name: pooled, op: mean, inputs: [h1], attrs: {axis: [2, 3]}}',
    '  - {name: z1, op: matmul, inputs: [pooled, w1], attrs: {transpose_b: true}}',
    '  - {name: s1, op: add, inputs: [z1, b1]}',
    `  - {name: bn2, graph: std:layers/batch_norm1d.yaml, inputs: {x: s1}, with: {channels: ${HID}, momentum: 0.2}}`,
    '  - {name: h2, op: relu, inputs: [bn2]}',
    '  - {name: z2, op: matmul, inputs: [h2, w2], attrs: {transpose_b: true}}',
    '  - {name: logits, op: add, inputs: [z2, b2]}',
    'outputs: [logits]',
    'loss:',
    '  graph: std:losses/cross_entropy.yaml',
    '  inputs: {pred: logits, target: label}',
    'optimizer:',
    '  graph: std:optimizers/sgd.yaml',
    `  with: {lr: ${r.lr}}`,
    'training:',
    '  data:',
    `    x: ${JSON.stringify(rows)}`,
    `    label: ${JSON.stringify(r.label)}`,
    `  epochs: ${r.epochs}`,
    `  batch_size: ${r.batch}`,
    '  log_every: 1',
    '',
  ].join('\n');
}

/** The layers' parameters of the reference (not in the YAML): `bn1/weight`, ... */
export const layerParams = ['bn1/weight', 'bn1/bias', 'bn2/weight', 'bn2/bias'];
