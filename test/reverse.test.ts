// The reverse graph as a whole: gradients summed over fan-out (x*x, a diamond), gradients of
// broadcast operands reduced to their shape (bias add, scalar mul), only nodes on a path from
// a trainable parameter to the loss differentiated, and `graph-run grad` output that
// validates and, run, gives the gradients finite differences give.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, parseGraph } from '../runtime/index.js';
import { runCli } from './support/cli.js';
import { buildReverse } from '../runtime/autodiff/reverse.js';
import { buildGraph } from '../runtime/ir/build.js';
import { buildPlan } from '../runtime/scheduler/plan.js';
import { CpuExecutor } from '../runtime/executors/cpu/cpu.js';

/** d of / d wrt at the graph's feed, in f64, by name. */
function grads(text: string): Record<string, { shape: number[]; data: number[] }> {
  const g = compile(parseGraph(text), { dtype: 'f64' }).gradients();
  return Object.fromEntries(Object.entries(g).map(([k, t]) => [k, { shape: t.shape, data: Array.from(t.data) }]));
}

const close = (got: number[], want: number[], tol = 1e-12) => {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i]!), `element ${i}: ${v} vs ${want[i]}`).toBeLessThanOrEqual(tol));
};

describe('fan-out: a value used several times gets the sum of its gradients', () => {
  it('x * x: d/dx = 2x', () => {
    const g = grads(`
inputs: {x: {shape: [3]}}
nodes:
  - {name: sq, op: mul, inputs: [x, x]}
  - {name: y, op: sum, inputs: [sq]}
outputs: [y]
feed: {x: [1.5, -2, 3]}
gradients: {of: y, wrt: [x]}
`);
    close(g.x!.data, [3, -4, 6]);
  });

  it('a diamond: y = sum(sigmoid(x) * exp(x)), both branches from x', () => {
    const x = [0.3, -1.2];
    const g = grads(`
inputs: {x: {shape: [2]}}
nodes:
  - {name: left, op: sigmoid, inputs: [x]}
  - {name: right, op: exp, inputs: [x]}
  - {name: join, op: mul, inputs: [left, right]}
  - {name: y, op: sum, inputs: [join]}
outputs: [y]
feed: {x: [${x.join(', ')}]}
gradients: {of: y, wrt: [x]}
`);
    // d/dx [s(x) e^x] = s(x)(1 - s(x)) e^x + s(x) e^x
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    close(
      g.x!.data,
      x.map((v) => s(v) * (1 - s(v)) * Math.exp(v) + s(v) * Math.exp(v)),
    );
  });

  it('a parameter used by three nodes: y = sum(w*a + w*b + w), d/dw = a + b + 1', () => {
    const g = grads(`
inputs: {a: {shape: [2]}, b: {shape: [2]}}
params: {w: {shape: [2], init: {values: [0.5, -0.5]}}}
nodes:
  - {name: wa, op: mul, inputs: [w, a]}
  - {name: wb, op: mul, inputs: [w, b]}
  - {name: s1, op: add, inputs: [wa, wb]}
  - {name: s2, op: add, inputs: [s1, w]}
  - {name: y, op: sum, inputs: [s2]}
outputs: [y]
feed: {a: [2, 3], b: [-1, 7]}
gradients: {of: y, wrt: [w]}
`);
    close(g.w!.data, [2 - 1 + 1, 3 + 7 + 1]);
  });

  it('the builder emits the sum once (nodes marked "sum over uses"), not the op rules', () => {
    const model = parseGraph(`
inputs: {x: {shape: [3]}}
nodes:
  - {name: sq, op: mul, inputs: [x, x]}
  - {name: y, op: sum, inputs: [sq]}
outputs: [y]
`);
    const built = buildGraph(model, { float: 'f64', batch: 1 });
    const { grads: gs, added } = buildReverse(built.graph, 'y', ['x']);
    const total = built.graph.node(gs.get('x')!);
    expect(total.op).toBe('add');
    expect(total.grad).toMatchObject({ of: 'x', rule: 'sum over uses', total: true });
    expect(added.filter((n) => built.graph.node(n).grad?.rule === 'sum over uses')).toHaveLength(1);
  });
});

describe("broadcasting: a broadcast operand's gradient is reduced to its shape", () => {
  const x = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  it('bias add: [2, 3] + [3] -> d/db = column sums of the upstream gradient', () => {
    const g = grads(`
inputs: {x: {shape: [2, 3]}, r: {shape: [2, 3]}}
params: {b: {shape: [3], init: 0.25}}
nodes:
  - {name: s, op: add, inputs: [x, b]}
  - {name: sr, op: mul, inputs: [s, r]}
  - {name: y, op: sum, inputs: [sr]}
outputs: [y]
feed: {x: ${JSON.stringify(x)}, r: [[1, -2, 0.5], [3, 4, -1]]}
gradients: {of: y, wrt: [b, x]}
`);
    expect(g.b!.shape).toEqual([3]);
    close(g.b!.data, [1 + 3, -2 + 4, 0.5 - 1]);
    expect(g.x!.shape).toEqual([2, 3]);
    close(g.x!.data, [1, -2, 0.5, 3, 4, -1]);
  });

  it('a [2, 1] operand against [2, 3] sums along the broadcast axis and keeps its shape', () => {
    const g = grads(`
inputs: {x: {shape: [2, 3]}}
params: {c: {shape: [2, 1], init: {values: [[2], [-3]]}}}
nodes:
  - {name: s, op: mul, inputs: [x, c]}
  - {name: y, op: sum, inputs: [s]}
outputs: [y]
feed: {x: ${JSON.stringify(x)}}
gradients: {of: y, wrt: [c]}
`);
    expect(g.c!.shape).toEqual([2, 1]);
    close(g.c!.data, [6, 15]);
  });

  it('scalar mul: d/ds of sum(s * x) = sum(x), shape []', () => {
    const g = grads(`
inputs: {x: {shape: [2, 3]}}
params: {s: {shape: [], init: 0.5}}
nodes:
  - {name: sx, op: mul, inputs: [s, x]}
  - {name: sq, op: square, inputs: [sx]}
  - {name: y, op: sum, inputs: [sq]}
outputs: [y]
feed: {x: ${JSON.stringify(x)}}
gradients: {of: y, wrt: [s]}
`);
    // d/ds sum((s x)^2) = 2 s sum(x^2)
    expect(g.s!.shape).toEqual([]);
    close(g.s!.data, [2 * 0.5 * x.flat().reduce((a, v) => a + v * v, 0)]);
  });
});

describe('only nodes on a path from a trainable parameter to the loss are differentiated', () => {
  const text = `
inputs: {x: {shape: [batch, 2]}, y: {shape: [batch]}}
params:
  w: {shape: [2], init: 0.5}
  frozen: {shape: [2], init: 2, trainable: false}
nodes:
  - {name: scaled, op: mul, inputs: [x, frozen]}
  - {name: pred, op: matmul, inputs: [scaled, w]}
  - {name: side, op: exp, inputs: [w]}
  - {name: side2, op: sum, inputs: [side]}
outputs: [pred, side2]
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: {x: [[1, 2], [3, -1]], y: [1, 0]}
  epochs: 3
  batch_size: 2
`;

  it('a branch not leading to the loss and a frozen parameter get no gradient nodes', () => {
    const s = compile(parseGraph(text), { dtype: 'f64' });
    const t = s.trainGraph(2, false);
    const g = t.built.graph;
    const reverse = g.nodes().filter((n) => n.grad);
    expect(reverse.length).toBeGreaterThan(0);
    const about = new Set(reverse.flatMap((n) => [n.grad!.of, n.grad!.from]));
    for (const off of ['side', 'side2', 'frozen', 'scaled'])
      expect(about.has(off), `gradient node for "${off}"`).toBe(false);
    expect(about.has('pred')).toBe(true);
    expect(t.grads.get('w')).toBeTruthy();
    expect(t.grads.has('frozen')).toBe(false);
  });

  it('training leaves the frozen parameter as it was and moves the trainable one', () => {
    const s = compile(parseGraph(text), { dtype: 'f64' });
    s.train();
    const p = s.parameters();
    expect(Array.from(p.frozen!.data)).toEqual([2, 2]);
    expect(Array.from(p.w!.data)).not.toEqual([0.5, 0.5]);
  });

  it('d loss / d w equals finite differences (the frozen factor included)', () => {
    // loss(w) = mean((x * frozen . w - y)^2) over both rows, by hand
    const X = [
        [1, 2],
        [3, -1],
      ],
      Y = [1, 0];
    const loss = (w: number[]) =>
      X.reduce((a, r, i) => a + (2 * r[0]! * w[0]! + 2 * r[1]! * w[1]! - Y[i]!) ** 2, 0) / 2;
    const s = compile(parseGraph(text), { dtype: 'f64' });
    const t = s.trainGraph(2, false);
    const p = buildPlan(t.built.graph, new CpuExecutor(), { outputs: [t.grads.get('w')!], bound: s.params });
    p.buffer('x').set(X.flat());
    p.buffer('y').set(Y);
    p.run();
    const got = Array.from(p.buffer(t.grads.get('w')!));
    const h = 1e-6;
    const want = [0, 1].map((i) => {
      const up = [0.5, 0.5],
        down = [0.5, 0.5];
      up[i]! += h;
      down[i]! -= h;
      return (loss(up) - loss(down)) / (2 * h);
    });
    close(got, want, 1e-6);
  });
});

describe('graph-run grad: the printed reverse graph validates and runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graph-run-grad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = runCli;

  /** `grad` the file, write the YAML, validate it, run it with --json; returns its outputs. */
  async function roundTrip(file: string): Promise<Record<string, { shape: number[]; data: number[] }>> {
    const g = await cli(['grad', file, '--dtype', 'f64']);
    expect(g.err).toBe('');
    expect(g.code).toBe(0);
    const path = join(dir, file.replace(/\W/g, '_') + '.grad.yaml');
    writeFileSync(path, g.out + '\n');
    const v = await cli(['validate', path]);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
    const r = await cli([path, '--json', '--dtype', 'f64']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return (JSON.parse(r.out) as { outputs: Record<string, { shape: number[]; data: number[] }> }).outputs;
  }

  it('gender.yaml: d loss / d each parameter on the first sample, against finite differences', async () => {
    const outs = await roundTrip('graphs/gender.yaml');
    // The tutorial's network, written out by hand: h = s(W1 x + b1), o = s(w2 . h + b2), (o - y)^2.
    const s = (v: number) => 1 / (1 + Math.exp(-v));
    const x = [-2, -1],
      y = 1; // Alice, the first training row
    const loss = (p: number[]) => {
      const [a, b, c, d, b1a, b1b, w2a, w2b, b2] = p as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const h1 = s(a * x[0]! + b * x[1]! + b1a),
        h2 = s(c * x[0]! + d * x[1]! + b1b);
      return (s(w2a * h1 + w2b * h2 + b2) - y) ** 2;
    };
    const p0 = new Array<number>(9).fill(0.1);
    const h = 1e-6;
    const fd = p0.map((_, i) => {
      const up = [...p0],
        down = [...p0];
      up[i]! += h;
      down[i]! -= h;
      return (loss(up) - loss(down)) / (2 * h);
    });
    close(outs.d_w1!.data, fd.slice(0, 4), 1e-8);
    close(outs.d_b1!.data, fd.slice(4, 6), 1e-8);
    close(outs.d_w2!.data, fd.slice(6, 8), 1e-8);
    close(outs.d_b2!.data, fd.slice(8, 9), 1e-8);
    expect(Math.abs(outs.loss!.data[0]! - loss(p0))).toBeLessThan(1e-12);
    expect(outs.d_w1!.shape).toEqual([2, 2]);
  });

  it('neuron.yaml: d loss / d w = (-20, -30)', async () => {
    const outs = await roundTrip('graphs/neuron.yaml');
    close(outs.d_w!.data, [-20, -30]);
  });

  it('autograd.yaml: d y / d x = (2, 2, 2), even though the gradient graph needs no input', async () => {
    const outs = await roundTrip('graphs/autograd.yaml');
    expect(outs.d_x).toEqual({ shape: [3], data: [2, 2, 2] });
  });
});
