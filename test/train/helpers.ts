// Helpers for the training tests: the reference runs' graphs, and comparing series (losses per
// epoch) with a reference.

/** Largest |a_i - b_i| / |b_i| over a series (Infinity when the lengths differ or a value is NaN). */
export function seriesRelErr(got: number[], want: number[]): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  got.forEach((g, i) => {
    const d = Math.abs(g - want[i]!) / Math.abs(want[i]!);
    worst = Math.max(worst, d !== d ? Infinity : d);
  });
  return worst;
}

export interface OptimizerResult {
  losses: number[];
  w: number[];
  b: number[];
}
export interface OptimizerRun {
  name: string;
  optimizer: Record<string, unknown>;
  batch: number;
  f64: OptimizerResult;
  f32: OptimizerResult;
}
export interface OptimizerRef {
  x: number[][];
  y: number[][];
  w0: number[][];
  b0: number[];
  epochs: number;
  runs: OptimizerRun[];
}

/** test/reference/optimizers.py's linear model (pred = x W^T + b, MSE) with a run's optimizer section. */
export function linearModelYaml(ref: OptimizerRef, run: OptimizerRun): string {
  return `graph-run: 1
name: ${run.name}
inputs:
  x: {shape: [batch, 3]}
  y: {shape: [batch, 2]}
params:
  w: {shape: [2, 3], init: {values: ${JSON.stringify(ref.w0)}}}
  b: {shape: [2], init: {values: ${JSON.stringify(ref.b0)}}}
nodes:
  - {name: z, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
  - {name: pred, op: add, inputs: [z, b]}
outputs: [pred]
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
optimizer: ${JSON.stringify(run.optimizer)}
training:
  data: {x: ${JSON.stringify(ref.x)}, y: ${JSON.stringify(ref.y)}}
  epochs: ${ref.epochs}
  batch_size: ${run.batch}
`;
}

export interface LossRun {
  name: string;
  model: 'linear' | 'binary' | 'softmax';
  act: string | null;
  target: 'y' | 'yb' | 'yc' | 'ys';
  graph: string;
  with: Record<string, number>;
  lr: number;
  f64: OptimizerResult & { initial: number };
  f32: OptimizerResult & { initial: number };
}
export interface LossRef {
  epochs: number;
  x: number[][];
  y: number[][];
  yb: number[];
  yc: number[];
  ys: number[][];
  init: Record<string, { w: number[][]; b: number[] }>;
  runs: LossRun[];
}

/** test/reference/losses.py's model for a run: linear regression, a binary or a 3-class classifier. */
export function lossModelYaml(ref: LossRef, run: LossRun): string {
  const init = ref.init[run.model]!;
  const out = init.w.length;
  const target = {
    y: `{shape: [batch, 2]}`,
    yb: `{shape: [batch]}`,
    yc: `{shape: [batch], dtype: i32}`,
    ys: `{shape: [batch, 3]}`,
  }[run.target];
  const nodes = [
    '  - {name: z, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}',
    '  - {name: s, op: add, inputs: [z, b]}',
  ];
  let pred = 's';
  if (run.model === 'binary') {
    nodes.push('  - {name: logit, op: reshape, inputs: [s], attrs: {shape: [batch]}}');
    pred = 'logit';
    if (run.act) {
      nodes.push(`  - {name: prob, op: ${run.act}, inputs: [logit]}`);
      pred = 'prob';
    }
  }
  return `graph-run: 1
name: ${run.name}
inputs:
  x: {shape: [batch, 3]}
  t: ${target}
params:
  w: {shape: [${out}, 3], init: {values: ${JSON.stringify(init.w)}}}
  b: {shape: [${out}], init: {values: ${JSON.stringify(init.b)}}}
nodes:
${nodes.join('\n')}
outputs: [${pred}]
loss: {graph: '${run.graph}', inputs: {pred: ${pred}, target: t}, with: ${JSON.stringify(run.with)}}
optimizer: {graph: 'std:optimizers/sgd.yaml', with: {lr: ${run.lr}}}
training:
  data: {x: ${JSON.stringify(ref.x)}, t: ${JSON.stringify(ref[run.target])}}
  epochs: ${ref.epochs}
  batch_size: ${ref.x.length}
`;
}
