// Gradient checking (`graph-run check`): every gradient the reverse graph produces is compared
// with central finite differences of the same graph in f64 — element by element for small
// tensors, along seeded random directions for large ones (as JAX's check_grads does). What is
// differentiated: the loss on the first training batch (dropout active at a fixed step), or a
// graph's `gradients:` request (d sum(of) / d wrt) at its feed.

import { GraphErrors, DataError, type GraphError } from '../errors.js';
import { CpuExecutor } from '../executors/cpu/cpu.js';
import type { IRGraph } from '../ir/graph.js';
import type { TypedArray } from '../ir/types.js';
import type { Model } from '../load/model.js';
import { Stream } from '../ops/random.js';
import { buildPlan, type Plan } from '../scheduler/plan.js';
import { Session } from '../session.js';
import type { Column } from '../data/index.js';

/** Options of `checkGradients`: which elements or directions to probe, the step, the tolerances. */
export interface CheckOptions {
  /** Tensors with at most this many elements are checked element by element (default 64). */
  elementLimit?: number;
  /** Random directions for larger tensors (default 8). */
  directions?: number;
  /** Relative step of the differences (default 1e-6, times max(1, |value|)). */
  step?: number;
  /** Pass when |analytic - numeric| <= atol * max(1, |f|) + rtol * max(|analytic|, |numeric|). */
  rtol?: number;
  atol?: number;
  /** Seed of the random directions (default 0). */
  seed?: number;
}

/** One parameter's comparison of the reverse graph's gradient with central finite differences. */
export interface CheckRow {
  /** The parameter (or input) differentiated. */
  name: string;
  elements: number;
  mode: 'elements' | 'directions' | 'no path';
  probes: number;
  maxAbs: number;
  maxRel: number;
  ok: boolean;
}

/** What `checkGradients` found: one row per parameter and whether every row is within tolerance. */
export interface CheckResult {
  /** What was differentiated, in words (for the table's title). */
  target: string;
  /** Value of the differentiated scalar at the unperturbed point. */
  value: number;
  rows: CheckRow[];
  ok: boolean;
  rtol: number;
  atol: number;
}

/** The differentiated scalar and the leaves, over one compiled f64 plan. */
interface Probe {
  target: string;
  plan: Plan<TypedArray>;
  /** Sum of these buffers' elements is the scalar (a loss buffer has one element). */
  output: TypedArray;
  leaves: { name: string; buf: TypedArray; grad: TypedArray | null }[];
}

function sum(a: TypedArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

function fail(errors: GraphError[]): never {
  throw new GraphErrors(errors);
}

/** Feed the runtime's own inputs: a training step (dropout on, at step 1) of epoch 0. */
function feedRuntime(model: Model, plan: Plan<TypedArray>): void {
  for (const i of model.runtime ?? []) {
    if (!i.provided) continue;
    const buf = plan.buffers.get(i.name);
    if (buf) buf[0] = i.provided === 'step' ? 1 : 0;
  }
}

function trainingProbe(model: Model, session: Session, seed: number): Probe {
  // The session's training rows (read once, with the session; a validation split's are held out).
  const cols = session.data.columns ?? new Map<string, Column>();
  const rows = Math.max(0, ...[...cols.values()].filter((c) => c.batched).map((c) => c.rows));
  // Without data (a benchmark graph), two rows of seeded normal values (labels 0) stand in.
  const batch = model.training ? Math.max(1, Math.min(model.training.batchSize, rows)) : 2;
  const t = session.trainGraph(batch, false);
  const outputs = [t.loss, ...[...t.grads.values()].filter((g): g is string => g !== null)];
  const plan = compile(t.built.graph, session, outputs);
  for (const [name, c] of cols) {
    const buf = plan.buffers.get(name);
    if (!buf) continue;
    const n = c.batched ? batch * c.rowSize : c.values.length;
    for (let j = 0; j < n; j++) buf[j] = c.values[j]!;
  }
  if (!model.training) {
    for (const i of model.inputs) {
      const buf = plan.buffers.get(i.name);
      if (!buf || i.provided || i.dtype === 'i32') continue;
      const s = new Stream(seed, `check-input:${i.name}`);
      for (let j = 0; j < buf.length; j++) buf[j] = s.normal(j);
    }
  }
  feedRuntime(model, plan);
  const leaves = model.params
    .filter((p) => p.trainable)
    .map((p) => {
      const g = t.grads.get(p.name) ?? null;
      return { name: p.name, buf: session.weights.buffer(p.name), grad: g ? plan.buffer(g) : null };
    });
  const where = model.training
    ? `the first batch (${batch} row${batch === 1 ? '' : 's'})`
    : `${batch} rows of random inputs (the graph has no data)`;
  return { target: `d loss / d parameters on ${where}`, plan, output: plan.buffer(t.loss), leaves };
}

function gradientsProbe(model: Model, session: Session): Probe {
  const { built, grads, values } = session.gradientGraph();
  const req = model.gradients!;
  const of = built.ref(req.of);
  const outputs = [of, ...[...grads.values()].filter((g): g is string => g !== null)];
  const plan = compile(built.graph, session, outputs);
  for (const [name, v] of values) plan.buffers.get(name)?.set(v);
  feedRuntime(model, plan);
  const leaves = req.wrt.map((w) => {
    const g = grads.get(w.ref) ?? null;
    const buf = session.weights.params.get(w.ref) ?? plan.buffers.get(w.ref);
    if (!buf) fail([new DataError(`"${w.name}" has no value to perturb`, w.loc)]);
    return { name: w.name, buf, grad: g ? plan.buffer(g) : null };
  });
  const shape = built.graph.node(of).type.shape;
  return {
    target: `d ${shape.length ? 'sum(' + String(req.of) + ')' : String(req.of)} / d ${req.wrt.map((w) => w.name).join(', ')} at the feed`,
    plan,
    output: plan.buffer(of),
    leaves,
  };
}

function compile(g: IRGraph, session: Session, outputs: string[]): Plan<TypedArray> {
  return buildPlan(g, new CpuExecutor(), { outputs, bound: session.weights.bound });
}

/**
 * Compare the reverse graph's gradients with central differences, in f64.
 * @example const r = checkGradients(loadGraph('graphs/xor.yaml')); console.log(formatCheck(r)); r.ok
 */
export function checkGradients(model: Model, opts: CheckOptions = {}): CheckResult {
  const elementLimit = opts.elementLimit ?? 64;
  const directions = opts.directions ?? 8;
  const rel = opts.step ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-8;
  const session = new Session(model, { dtype: 'f64' });
  let probe: Probe;
  if (model.loss && model.training) probe = trainingProbe(model, session, opts.seed ?? 0);
  else if (model.gradients) probe = gradientsProbe(model, session);
  else if (model.loss && model.updates.length) probe = trainingProbe(model, session, opts.seed ?? 0);
  else {
    fail([
      new DataError(
        'nothing to check: the graph has neither a loss with training data nor a `gradients:` request',
        { file: model.file, line: 1, col: 1 },
        undefined,
        'add a training section (loss, data) or gradients: {of: ..., wrt: [...]} with a feed',
      ),
    ]);
  }
  const f = () => {
    probe.plan.run();
    return sum(probe.output);
  };
  const value = f();
  const grads = probe.leaves.map((l) => (l.grad ? Float64Array.from(l.grad) : null));
  const scale = Math.max(1, Math.abs(value));
  const rows: CheckRow[] = probe.leaves.map((leaf, li) => {
    const n = leaf.buf.length;
    const grad = grads[li]!;
    const row: CheckRow = { name: leaf.name, elements: n, mode: 'elements', probes: 0, maxAbs: 0, maxRel: 0, ok: true };
    const compare = (analytic: number, numeric: number) => {
      const abs = Math.abs(analytic - numeric);
      const mag = Math.max(Math.abs(analytic), Math.abs(numeric));
      row.maxAbs = Math.max(row.maxAbs, abs);
      row.maxRel = Math.max(row.maxRel, mag === 0 ? 0 : abs / mag);
      // NaN anywhere fails (abs > ... is false for NaN, so test the negation).
      if (!(abs <= atol * scale + rtol * mag)) row.ok = false;
      row.probes++;
    };
    const orig = Float64Array.from(leaf.buf);
    if (!grad) row.mode = 'no path';
    if (n <= elementLimit) {
      for (let i = 0; i < n; i++) {
        const x = orig[i]!;
        const h = rel * Math.max(1, Math.abs(x));
        // The steps actually taken (x + h is rounded) divide the difference.
        const xp = x + h,
          xm = x - h;
        leaf.buf[i] = xp;
        const fp = f();
        leaf.buf[i] = xm;
        const fm = f();
        leaf.buf[i] = x;
        compare(grad ? grad[i]! : 0, (fp - fm) / (xp - xm));
      }
    } else {
      if (grad) row.mode = 'directions';
      const s = new Stream(opts.seed ?? 0, `check:${leaf.name}`);
      const v = new Float64Array(n);
      let maxAbsX = 0;
      for (let i = 0; i < n; i++) maxAbsX = Math.max(maxAbsX, Math.abs(orig[i]!));
      const h = rel * Math.max(1, maxAbsX);
      for (let k = 0; k < directions; k++) {
        let norm = 0;
        for (let i = 0; i < n; i++) {
          v[i] = s.normal(k * n + i);
          norm += v[i]! * v[i]!;
        }
        norm = Math.sqrt(norm);
        let analytic = 0;
        for (let i = 0; i < n; i++) {
          v[i]! /= norm;
          analytic += (grad ? grad[i]! : 0) * v[i]!;
        }
        for (let i = 0; i < n; i++) leaf.buf[i] = orig[i]! + h * v[i]!;
        const fp = f();
        for (let i = 0; i < n; i++) leaf.buf[i] = orig[i]! - h * v[i]!;
        const fm = f();
        leaf.buf.set(orig);
        compare(analytic, (fp - fm) / (2 * h));
      }
    }
    return row;
  });
  return { target: probe.target, value, rows, ok: rows.every((r) => r.ok), rtol, atol };
}

function sci(x: number): string {
  return x === 0 ? '0' : x.toExponential(2);
}

/** The check as a table: parameter, elements, how it was probed, max abs and rel error, verdict. */
export function formatCheck(r: CheckResult, title = ''): string {
  const head = ['parameter', 'elements', 'probes', 'max abs err', 'max rel err', ''];
  const body = r.rows.map((x) => [
    x.name,
    String(x.elements),
    x.mode === 'directions'
      ? `${x.probes} direction${x.probes === 1 ? '' : 's'}`
      : `${x.probes} element${x.probes === 1 ? '' : 's'}${x.mode === 'no path' ? ' (no path)' : ''}`,
    sci(x.maxAbs),
    sci(x.maxRel),
    x.ok ? 'ok' : 'FAIL',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    `gradient check${title ? ` of ${title}` : ''}: ${r.target}, f64 central differences`,
    line(head),
    ...body.map(line),
    r.ok
      ? `${r.rows.length === 1 ? 'the gradient agrees' : `all ${r.rows.length} gradients agree`} (|err| <= ${r.atol} * max(1, |f|) + ${r.rtol} * |g|)`
      : `${r.rows.filter((x) => !x.ok).length} of ${r.rows.length} gradients disagree beyond |err| <= ${r.atol} * max(1, |f|) + ${r.rtol} * |g|`,
  ];
  return out.join('\n');
}
