// `trace` on the tutorial's network (graphs/gender.yaml) against the tutorial's hand derivation
// (./hand.ts, after seed_numpy.py): the first step's forward values, the gradient at every
// labelled reverse-graph node, every parameter gradient and every updated parameter; later
// steps and other samples after training by hand up to them; f64 to 1e-12, f32 to 1e-6.

import { describe, expect, it } from 'vitest';
import { compile, loadGraph, trace, traceByNode, type Trace, type TraceValue } from '../../runtime/index.js';
import { asTensors, DATA, freshNet, handStep, handUpdate, Y, type HandNet, type HandStep } from './hand.js';

function close(got: TraceValue | number[] | undefined, want: number[], tol: number, what: string): void {
  const data = Array.isArray(got) ? got : got?.data;
  if (!data) throw new Error(`${what}: missing`);
  expect(data.length, `${what}: length`).toBe(want.length);
  want.forEach((w, i) => {
    const d = Math.abs(data[i]! - w);
    // Relative to the value's size, absolute below 1 (gradients here are 1e-3 to 1).
    if (!(d <= tol * Math.max(1, Math.abs(w))))
      throw new Error(`${what}[${i}]: got ${data[i]}, by hand ${w}, |diff| ${d}`);
  });
}

/** Train the hand network over `steps` samples in data order (batch size 1, as gender.yaml). */
function handAfter(steps: number): HandNet {
  let n = freshNet();
  for (let k = 0; k < steps; k++) {
    const i = k % DATA.length;
    n = handUpdate(n, handStep(n, DATA[i]!, Y[i]!).grads);
  }
  return n;
}

const byLabel = (t: Trace, label: string) => {
  const n = t.reverse.find((r) => r.label === label);
  if (!n) throw new Error(`no reverse node labelled "${label}"; labels: ${t.reverse.map((r) => r.label).join(' | ')}`);
  return n;
};
const fwd = (t: Trace, name: string) => t.forward.find((n) => n.name === name)!.value;

/** Every number the trace shows for one step, against the hand derivation of the same step. */
function expectMatchesHand(t: Trace, before: HandNet, sample: number, tol: number): void {
  const x = DATA[sample]!,
    y = Y[sample]!;
  const h: HandStep = handStep(before, x, y);
  // Forward: the batch, the parameters as read, each neuron's sum and activation, the loss.
  close(fwd(t, 'x'), [...x], tol, 'x');
  close(fwd(t, 'y'), [y], tol, 'y');
  const p = asTensors(before);
  for (const name of ['w1', 'b1', 'w2', 'b2'] as const) close(fwd(t, name), p[name], tol, `${name} as read`);
  close(fwd(t, 's1'), [h.sumH1, h.sumH2], tol, 's1 = (sum_h1, sum_h2)');
  close(fwd(t, 'h'), [h.h1, h.h2], tol, 'h = (h1, h2)');
  close(fwd(t, 's2'), [h.sumO1], tol, 's2 = sum_o1');
  close(fwd(t, 'o'), [h.o1], tol, 'o = o1');
  close(fwd(t, 'pred'), [h.o1], tol, 'pred = y_pred');
  expect(Math.abs(t.loss.value - h.loss)).toBeLessThanOrEqual(tol);

  // Reverse graph: each labelled gradient is the chain-rule product the tutorial writes.
  close(byLabel(t, 'd loss / d loss').value, [1], 0, 'seed');
  close(byLabel(t, 'd loss / d `loss/diff` = d loss / d pred').value, [h.dLdYpred], tol, 'd_L_d_ypred');
  close(byLabel(t, 'd loss / d o').value, [h.dLdYpred], tol, 'd L / d o1');
  close(byLabel(t, 'd loss / d s2 = d loss / d z2').value, [h.dLdSumO1], tol, 'd_L_d_ypred * deriv_sigmoid(sum_o1)');
  close(byLabel(t, 'd loss / d h').value, [h.dLdH1, h.dLdH2], tol, 'd_L_d_ypred * d_ypred_d_h1, ... h2');
  close(byLabel(t, 'd loss / d s1 = d loss / d z1').value, [h.dLdSumH1, h.dLdSumH2], tol, 'd L / d sum_h1, sum_h2');
  const g = asTensors(h.grads);
  for (const name of ['w1', 'b1', 'w2', 'b2'] as const) {
    close(byLabel(t, `d loss / d ${name}`).value, g[name], tol, `reverse node d loss / d ${name}`);
  }

  // Updates: before, gradient and after for every parameter, after = before - 0.1 * gradient.
  const after = asTensors(handUpdate(before, h.grads));
  expect(t.updates.map((u) => u.param)).toEqual(['w1', 'b1', 'w2', 'b2']);
  for (const u of t.updates) {
    const name = u.param as keyof typeof g;
    close(u.before, p[name], tol, `${name} before`);
    close(u.gradient, g[name], tol, `${name} gradient`);
    close(u.after, after[name], tol, `${name} after`);
    expect(u.formula).toBe(`${name} - 0.1 * grad(${name})`);
  }
}

describe.each([
  { dtype: 'f64' as const, tol: 1e-12 },
  { dtype: 'f32' as const, tol: 1e-6 },
])('trace of gender.yaml in $dtype against the tutorial by hand', ({ dtype, tol }) => {
  const session = () => compile(loadGraph('graphs/gender.yaml'), { dtype });

  it('step 1 (Alice): every forward value, gradient and update matches the hand derivation', () => {
    const s = session();
    const t = trace(s);
    expect(t).toMatchObject({
      step: 1,
      steps: 4000,
      epoch: 0,
      batchIndex: 0,
      rows: { start: 0, count: 1 },
      samples: 4,
      sample: null,
      dtype,
    });
    expectMatchesHand(t, freshNet(), 0, tol);
    // The session is left after the traced step: its parameters are the updated ones.
    const after = asTensors(handAfter(1));
    for (const [name, v] of Object.entries(s.parameters()))
      close(Array.from(v.data), after[name as 'w1']!, tol, `session ${name}`);
  });

  it('step 7 (epoch 1, Charlie): the six steps before run as training runs them', () => {
    const t = trace(session(), { step: 7 });
    expect(t).toMatchObject({ step: 7, epoch: 1, batchIndex: 2, rows: { start: 2, count: 1 } });
    expectMatchesHand(t, handAfter(6), 2, tol * 10);
  });

  it('--sample 3 makes step 1 train on Diana instead of Alice', () => {
    const t = trace(session(), { sample: 3 });
    expect(t).toMatchObject({ step: 1, sample: 3, batchIndex: 3, rows: { start: 3, count: 1 } });
    expectMatchesHand(t, freshNet(), 3, tol);
  });

  it('the last step, 4000, is traced; the parameters then equal a full training run', () => {
    const s = session();
    const t = trace(s, { step: 4000 });
    expect(t).toMatchObject({ step: 4000, epoch: 999, batchIndex: 3 });
    const trained = compile(loadGraph('graphs/gender.yaml'), { dtype });
    trained.train();
    for (const [name, v] of Object.entries(trained.parameters())) {
      expect(Array.from(s.parameters()[name]!.data)).toEqual(Array.from(v.data));
    }
  });
});

describe('trace data for the pictures', () => {
  const t = trace(compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' }));

  it('labels reverse nodes by their names in the training graph (what dot --backward draws)', () => {
    const s = compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' });
    const graph = s.trainGraph(1, false).built.graph;
    const nodes = traceByNode(t);
    for (const r of t.reverse) expect(graph.has(r.name), r.name).toBe(true);
    expect(nodes.get('grad/z1/matmul11')).toMatchObject({
      label: 'd loss / d w1',
      rule: 'matmul',
      formula: 'dyᵀ · x',
      section: 'reverse',
    });
    expect(nodes.get('h')).toMatchObject({ formula: 'sigmoid(s1)', section: 'forward' });
    expect(nodes.get('optimizer/w1/updated')).toMatchObject({ formula: 'w1 - 0.1 * grad(w1)', section: 'optimizer' });
  });

  it("names each gradient's rule and formula as the tutorial reads it", () => {
    const rules = Object.fromEntries(
      t.reverse.map((r) => [r.label, `${r.rule}${r.from ? ` at ${r.from}` : ''}: ${r.formula}`]),
    );
    expect(rules).toMatchObject({
      'd loss / d s2 = d loss / d z2': 'sigmoid at o: dy * o * (1 - o)',
      'd loss / d h': 'matmul at z2: dy · w2',
      'd loss / d w2': 'matmul at z2: dyᵀ · h',
      'd loss / d b1': 'add (unbroadcast) at s1: sum(dy, axis 0)',
      'd loss / d `loss/diff` = d loss / d pred': 'square at loss/squared: dy * (`loss/diff` * 2)',
    });
    expect(t.reverse.map((r) => r.role)).toEqual([
      'seed',
      'intermediate',
      'gradient',
      'intermediate',
      'gradient',
      'gradient',
      'gradient',
      'gradient',
      'gradient',
      'gradient',
      'gradient',
      'gradient',
      'gradient',
    ]);
  });

  it('lists forward nodes in topological order: inputs, parameters, network, loss', () => {
    expect(t.forward.map((n) => n.name)).toEqual([
      'x',
      'y',
      'w1',
      'b1',
      'w2',
      'b2',
      'z1',
      's1',
      'h',
      'z2',
      's2',
      'o',
      'pred',
      'loss/diff',
      'loss/squared',
      'loss/loss',
    ]);
    expect(t.forward.map((n) => n.part)).toEqual([
      'input',
      'input',
      'param',
      'param',
      'param',
      'param',
      'network',
      'network',
      'network',
      'network',
      'network',
      'network',
      'network',
      'loss',
      'loss',
      'loss',
    ]);
    expect(t.forward.find((n) => n.name === 'z1')!.formula).toBe('x · w1ᵀ');
  });
});
