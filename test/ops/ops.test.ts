// Every op case of test/reference/*.json (made by PyTorch, test/reference/ops.py, conv.py) run through
// graph-run from YAML: the forward value and the gradient of sum(y * w) against PyTorch in f64
// and f32, then the gradient check (central differences) on the same graph.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { internalOpNames, userOpNames } from '../../runtime/ops/registry.js';
import { Session } from '../../runtime/session.js';
import { checkGradients, formatCheck } from '../../runtime/check/gradcheck.js';
import { opCaseYaml, maxRelErr, referenceCases } from './helpers.js';

const ref = { cases: referenceCases() };

// Cases finite differences cannot judge: a three-way tie (a one-sided kink) and stop_gradient
// (its value depends on the input; by definition no gradient flows).
const noFiniteDifferences = new Set(['max_ties', 'max_pool2d_ties', 'max_pool2d_ties_2x2', 'stop_gradient']);

describe.each(ref.cases.map((c) => [c.name, c] as const))('op case %s', (_name, c) => {
  const text = opCaseYaml(c);
  for (const dtype of ['f64', 'f32'] as const) {
    const tol = dtype === 'f64' ? 1e-12 : 1e-5;
    it(`${c.op} forward and gradients agree with PyTorch (${dtype})`, () => {
      const model = parseGraph(text, `${c.name}.yaml`);
      const s = new Session(model, { dtype });
      const feed = new Map(c.inputs.filter((i) => i.dtype === 'i32').map((i) => [i.name, i.data]));
      const y = s.run(feed, 1).y!;
      expect(y.shape).toEqual(c.output.shape);
      expect(y.dtype).toBe(c.output.dtype === 'i32' ? 'i32' : dtype);
      expect(maxRelErr(y.data, c.output.data)).toBeLessThanOrEqual(tol);
      if (c.grads) {
        const g = s.gradients();
        for (const [name, want] of Object.entries(c.grads)) {
          if (!(name in g)) continue; // a condition input: no gradient taken
          expect(maxRelErr(g[name]!.data, want), `d/d${name}`).toBeLessThanOrEqual(tol);
        }
      }
    });
  }
  if (c.grads && !noFiniteDifferences.has(c.name)) {
    it(`${c.op} passes the gradient check`, () => {
      const r = checkGradients(parseGraph(text, `${c.name}.yaml`));
      expect(r.ok, formatCheck(r)).toBe(true);
      expect(r.rows.length).toBeGreaterThan(0);
    });
  }
});

describe('coverage', () => {
  it('every user op has a PyTorch case, or is tested elsewhere for a stated reason', () => {
    // Internal ops (gradient helpers) are emitted by the reverse graph and checked through the op
    // whose rule uses them; dropout's masks have no PyTorch counterpart (test/train/random.test.ts);
    // scatter_add is gather's gradient, checked through gather; sample draws from graph-run's own streams
    // (test/ops/sample.test.ts checks it against test/reference/sample.py and PyTorch's softmax);
    // is_training is the run's mode, checked through batch normalisation against PyTorch's
    // train() and eval() (test/train/batch-norm.test.ts).
    const elsewhere = new Set<string>([...internalOpNames, 'scatter_add', 'dropout', 'sample', 'is_training']);
    const covered = new Set(ref.cases.map((c) => c.op));
    expect(userOpNames.filter((op) => !covered.has(op) && !elsewhere.has(op))).toEqual([]);
  });
});
