// Every op with a gradient rule, checked against central finite differences in f64 on
// seeded random inputs: several shapes, broadcasting for binary ops, axis/keepdims for
// reductions, transposes and vectors for matmul. The scalar checked is L = sum(op(...) * r)
// with a random r, so every output element's gradient counts with its own weight.
// A registered op with a gradient rule and no cases here fails the coverage test.

import { describe, expect, it } from 'vitest';
import { registry } from '../runtime/index.js';
import { IRGraph } from '../runtime/ir/graph.js';
import { sizeOf } from '../runtime/ir/types.js';
import { buildReverse } from '../runtime/autodiff/reverse.js';
import { buildPlan } from '../runtime/scheduler/plan.js';
import { CpuExecutor } from '../runtime/executors/cpu/cpu.js';
import { broadcastShapes } from '../runtime/ops/broadcast.js';
import { indexMap } from '../runtime/ops/elementwise.js';
import { referenceCases } from './ops/helpers.js';
import { prng as rng } from './support/prng.js';

/**
 * Where an input's values come from: `any` in [-2, 2]; `positive` in [0.5, 2] (log, sqrt, a
 * pow base); `nonzero` with |x| in [0.3, 2] (kinks at 0: relu, abs; a divisor).
 */
type Dist = 'any' | 'positive' | 'nonzero';

interface Case {
  shapes: number[][];
  attrs?: Record<string, unknown>;
  dist?: Dist[];
  /** For maximum/minimum: keep every broadcast pair at least 0.2 apart (away from the kink). */
  apart?: boolean;
}

const unaryShapes = [[], [5], [2, 3]];
const unary = (dist: Dist = 'any'): Case[] => unaryShapes.map((s) => ({ shapes: [s], dist: [dist] }));

/** Broadcasting pairs: same shape, bias, scalar either side, both sides, added leading axes. */
const binaryShapes: number[][][] = [
  [
    [2, 3],
    [2, 3],
  ],
  [[2, 3], [3]],
  [[2, 3], []],
  [[], [4]],
  [
    [3, 1],
    [1, 4],
  ],
  [[4], [2, 1, 4]],
  [
    [2, 1, 3],
    [2, 3],
  ],
];
const binary = (dist: Dist[] = ['any', 'any'], apart = false): Case[] =>
  binaryShapes.map((shapes) => ({ shapes, dist, apart }));

const reduceCases: Case[] = [
  { shapes: [[5]] },
  { shapes: [[5]], attrs: { axis: 0 } },
  { shapes: [[2, 3, 4]] },
  { shapes: [[2, 3, 4]], attrs: { keepdims: true } },
  { shapes: [[2, 3, 4]], attrs: { axis: 1 } },
  { shapes: [[2, 3, 4]], attrs: { axis: -1, keepdims: true } },
  { shapes: [[2, 3, 4]], attrs: { axis: [0, 2] } },
  { shapes: [[2, 3, 4]], attrs: { axis: [2, 0], keepdims: true } },
];

/** Cases per op; the key set must cover every op whose gradient rule is not 'none'. */
const cases: Record<string, Case[]> = {
  neg: unary(),
  exp: unary(),
  log: unary('positive'),
  sigmoid: unary(),
  tanh: unary(),
  relu: unary('nonzero'),
  square: unary(),
  sqrt: unary('positive'),
  abs: unary('nonzero'),
  add: binary(),
  sub: binary(),
  mul: binary(),
  div: binary(['any', 'nonzero']),
  pow: binary(['positive', 'any']),
  maximum: binary(['any', 'any'], true),
  minimum: binary(['any', 'any'], true),
  sum: reduceCases,
  mean: reduceCases,
  reshape: [
    { shapes: [[2, 3]], attrs: { shape: [3, 2] } },
    { shapes: [[6]], attrs: { shape: [2, -1] } },
    { shapes: [[2, 3, 2]], attrs: { shape: [12] } },
    { shapes: [[]], attrs: { shape: [1, 1] } },
  ],
  transpose: [
    { shapes: [[2, 3]] },
    { shapes: [[2, 3, 4]] },
    { shapes: [[2, 3, 4]], attrs: { perm: [1, 2, 0] } },
    { shapes: [[2, 3, 4]], attrs: { perm: [2, 0, 1] } },
    { shapes: [[5]], attrs: { perm: [0] } },
  ],
  broadcast_to: [
    { shapes: [[3]], attrs: { shape: [2, 3] } },
    { shapes: [[2, 1]], attrs: { shape: [2, 3] } },
    { shapes: [[]], attrs: { shape: [2, 2] } },
    { shapes: [[1, 3]], attrs: { shape: [4, 2, 3] } },
  ],
  matmul: [
    {
      shapes: [
        [2, 3],
        [3, 4],
      ],
    },
    {
      shapes: [
        [3, 2],
        [3, 4],
      ],
      attrs: { transpose_a: true },
    },
    {
      shapes: [
        [2, 3],
        [4, 3],
      ],
      attrs: { transpose_b: true },
    },
    {
      shapes: [
        [3, 2],
        [4, 3],
      ],
      attrs: { transpose_a: true, transpose_b: true },
    },
    { shapes: [[2, 3], [3]] },
    { shapes: [[3, 2], [3]], attrs: { transpose_a: true } },
    { shapes: [[3], [3, 4]] },
    { shapes: [[3], [4, 3]], attrs: { transpose_b: true } },
    { shapes: [[3], [3]] },
    {
      shapes: [
        [1, 3],
        [3, 1],
      ],
    },
    {
      shapes: [
        [2, 2, 3],
        [3, 4],
      ],
    },
    {
      shapes: [
        [2, 3],
        [2, 3, 4],
      ],
    },
    {
      shapes: [
        [2, 2, 3],
        [2, 3, 4],
      ],
    },
    {
      shapes: [
        [2, 3, 2],
        [2, 4, 3],
      ],
      attrs: { transpose_a: true, transpose_b: true },
    },
    { shapes: [[2, 2, 3], [3]] },
    { shapes: [[3], [2, 3, 4]] },
    { shapes: [[2, 3, 2], [3]], attrs: { transpose_a: true } },
  ],
  gelu: unary(),
  softplus: unary(),
  sin: unary(),
  cos: unary(),
  leaky_relu: [...unary('nonzero'), { shapes: [[2, 3]], attrs: { negative_slope: 0.2 }, dist: ['nonzero'] }],
  clip: [
    { shapes: [[2, 3]], attrs: { min: -0.5, max: 0.7 } },
    { shapes: [[5]], attrs: { min: 0 }, dist: ['nonzero'] },
  ],
  max: reduceCases,
  min: reduceCases,
  logsumexp: reduceCases,
  softmax: [{ shapes: [[5]] }, { shapes: [[2, 3]] }, { shapes: [[2, 3, 4]], attrs: { axis: 1 } }],
  log_softmax: [
    { shapes: [[5]] },
    { shapes: [[2, 3]], attrs: { axis: 0 } },
    { shapes: [[2, 3, 4]], attrs: { axis: -1 } },
  ],
  concat: [
    {
      shapes: [
        [2, 3],
        [2, 1],
      ],
      attrs: { axis: 1 },
    },
    {
      shapes: [
        [1, 3],
        [2, 3],
        [1, 3],
      ],
    },
  ],
  slice: [
    { shapes: [[4, 5]], attrs: { starts: [1, 0], ends: [3, 5], steps: [1, 2] } },
    { shapes: [[6]], attrs: { starts: [-4], ends: [100] } },
  ],
  cast: [{ shapes: [[2, 3]], attrs: { dtype: 'f64' } }],
};

/**
 * Ops with a gradient rule that this harness (all inputs f64, all differentiated) cannot drive:
 * an i32 index input (gather), a runtime step input (dropout), a condition input (where).
 * test/ops/ops.test.ts checks them against PyTorch and finite differences from YAML graphs, as it
 * does every op with a PyTorch case (test/reference/*.json): a new op needs only that case.
 */
const checkedElsewhere = new Set([
  'gather',
  'dropout',
  'where',
  ...referenceCases()
    .filter((c) => c.grads)
    .map((c) => c.op),
]);

function sample(r: () => number, n: number, dist: Dist): number[] {
  return Array.from({ length: n }, () => {
    const u = r();
    switch (dist) {
      case 'any':
        return 4 * u - 2;
      case 'positive':
        return 0.5 + 1.5 * u;
      case 'nonzero':
        return (u < 0.5 ? -1 : 1) * (0.3 + 3.4 * Math.abs(u - 0.5));
      default:
        return dist satisfies never;
    }
  });
}

function inputsFor(c: Case, seed: number): number[][] {
  const r = rng(seed);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const vals = c.shapes.map((s, i) => sample(r, sizeOf(s), c.dist?.[i] ?? 'any'));
    if (!c.apart) return vals;
    const out = broadcastShapes(c.shapes[0]!, c.shapes[1]!);
    const ia = indexMap(c.shapes[0]!, out),
      ib = indexMap(c.shapes[1]!, out);
    if (ia.every((a, k) => Math.abs(vals[0]![a]! - vals[1]![ib[k]!]!) >= 0.2)) return vals;
  }
  throw new Error('could not sample inputs away from the kink');
}

interface Check {
  analytic: number[][];
  numeric: number[][];
}

/**
 * Build L = sum(op(in0, in1, ...) * r) in f64, differentiate with respect to `leaves`
 * (indices of inputs), run the reverse graph, and compare with central differences of L.
 */
function check(op: string, c: Case, values: number[][], leaves: number[], seed: number): Check {
  const g = new IRGraph('f64');
  const names = c.shapes.map((_, i) => `in${i}`);
  c.shapes.forEach((s, i) => g.add({ name: names[i]!, op: 'input', inputs: [], attrs: { shape: s, dtype: 'f64' } }));
  const y = g.add({ name: 'y', op, inputs: names, attrs: c.attrs ?? {} });
  g.add({ name: 'r', op: 'input', inputs: [], attrs: { shape: y.type.shape, dtype: 'f64' } });
  g.add({ name: 'yr', op: 'mul', inputs: ['y', 'r'] });
  g.add({ name: 'L', op: 'sum', inputs: ['yr'] });
  const wrt = leaves.map((i) => names[i]!);
  const { grads } = buildReverse(g, 'L', wrt);
  const gradNames = wrt.map((w) => {
    const d = grads.get(w);
    if (!d) throw new Error(`no gradient node for ${w}`);
    return d;
  });
  const plan = buildPlan(g, new CpuExecutor(), { outputs: ['L', ...gradNames], bound: new Map() });
  const bufs = names.map((n) => plan.buffer(n));
  bufs.forEach((b, i) => b.set(values[i]!));
  plan.buffer('r').set(sample(rng(seed + 7), sizeOf(y.type.shape), 'any'));
  plan.run();
  const analytic = gradNames.map((d, k) => {
    const t = Array.from(plan.buffer(d) as ArrayLike<number>);
    expect(t.length, `gradient of ${wrt[k]} has ${t.length} elements`).toBe(values[leaves[k]!]!.length);
    return t;
  });
  const L = () => {
    plan.run();
    return plan.buffer('L')[0]!;
  };
  // h = 1e-5: truncation error ~h^2 and rounding ~1e-16/h, both near 1e-10 here.
  const h = 1e-5;
  const numeric = leaves.map((i) => {
    const b = bufs[i]!;
    return values[i]!.map((v, k) => {
      b[k] = v + h;
      const up = L();
      b[k] = v - h;
      const down = L();
      b[k] = v;
      return (up - down) / (2 * h);
    });
  });
  return { analytic, numeric };
}

function expectGradClose({ analytic, numeric }: Check, label: string): void {
  analytic.forEach((a, k) => {
    a.forEach((v, j) => {
      const want = numeric[k]![j]!;
      const tol = 1e-6 * Math.max(1, Math.abs(want));
      if (!(Math.abs(v - want) <= tol)) {
        throw new Error(
          `${label}: gradient of input ${k}, element ${j}: reverse graph ${v}, finite differences ${want}`,
        );
      }
    });
  });
}

const describeCase = (c: Case) =>
  `${c.shapes.map((s) => `[${s.join(',')}]`).join(' · ')}${c.attrs ? ' ' + JSON.stringify(c.attrs) : ''}`;

describe('op gradients against central finite differences (f64)', () => {
  for (const [op, list] of Object.entries(cases)) {
    describe(op, () => {
      list.forEach((c, n) => {
        const seed = 1000 * n + op.length * 31 + op.charCodeAt(0);
        it(describeCase(c), () => {
          const values = inputsFor(c, seed);
          const all = c.shapes.map((_, i) => i);
          expectGradClose(check(op, c, values, all, seed), `${op} ${describeCase(c)}`);
          // With several inputs, each alone too: rules see needs[i] false for the others.
          if (all.length > 1) {
            for (const i of all)
              expectGradClose(check(op, c, values, [i], seed), `${op} ${describeCase(c)} wrt input ${i} only`);
          }
        });
      });
    });
  }
});

describe('gradient-check coverage', () => {
  it('covers every registered op that has a gradient rule, and nothing else', () => {
    const withGrad = Object.entries(registry)
      .filter(([, d]) => d.grad !== 'none')
      .map(([k]) => k)
      .sort();
    const missing = withGrad.filter((k) => !checkedElsewhere.has(k) && (!(k in cases) || cases[k]!.length === 0));
    expect(
      missing,
      `ops with a gradient rule but no finite-difference cases in test/ops-grad.test.ts: ${missing.join(', ')}`,
    ).toEqual([]);
    const stray = Object.keys(cases).filter((k) => !withGrad.includes(k));
    expect(stray, 'cases for ops that are not registered or have no gradient rule').toEqual([]);
  });

  it('catches a wrong gradient (the checker itself can fail)', () => {
    const c: Case = { shapes: [[3]] };
    const values = inputsFor(c, 5);
    const res = check('exp', c, values, [0], 5);
    res.analytic[0]![1]! += 1e-3;
    expect(() => expectGradClose(res, 'tampered exp')).toThrow(/finite differences/);
  });
});
