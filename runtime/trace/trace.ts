// `trace`: one step of learning, every value shown. Runs training up to step N, runs step N
// with every value kept, and returns the forward values, each reverse-graph node labelled with
// the gradient it holds (`d loss / d w1`) and the rule that made it (`matmul at z1: dyᵀ · x`),
// and the updates the optimizer graph applied. Plain data (JSON-ready): the CLI prints it
// (format.ts) and `dot --trace` / the playground can label nodes with it (traceByNode).

import { UsageError } from '../errors.js';
import type { IRGraph } from '../ir/graph.js';
import type { IRNode, TypedArray } from '../ir/types.js';
import type { Session } from '../session.js';
import { constExpr, nameExpr, nodeExpr, type Expr } from './expr.js';
import type {
  Trace,
  TraceForwardNode,
  TraceNodeInfo,
  TraceOptions,
  TraceReverseNode,
  TraceRole,
  TraceUpdate,
  TraceValue,
} from './types.js';

export type {
  Trace,
  TraceForwardNode,
  TraceNodeInfo,
  TraceOptimizerNode,
  TraceOptions,
  TraceReverseNode,
  TraceRole,
  TraceUpdate,
  TraceValue,
} from './types.js';

const isWhole = (n: number) => Number.isInteger(n) && n >= 0;

function value(values: Map<string, TypedArray>, g: IRGraph, name: string): TraceValue {
  return { shape: [...g.node(name).type.shape], data: Array.from(values.get(name)!) };
}

/**
 * Train up to step `step` (steps before it run as training runs them), then run that step with
 * every value kept and return its trace. The session should be fresh from compile(); afterwards
 * it holds the parameters after the traced step. Out-of-range steps and samples throw UsageError.
 * @example
 *   const t = trace(compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' }));
 *   t.updates.find((u) => u.param === 'w1')!.gradient.data;   // d loss / d w1 on Alice
 */
export function trace(session: Session, opts: TraceOptions = {}): Trace {
  const p = tracePlan(session, opts);
  // Steps before the traced one, exactly as Session.train runs them.
  for (const r of p.before) session.step(r.start, r.count);
  return traceOf(session, p.info, session.tracedStep(p.batch.start, p.batch.count));
}

/**
 * trace() on any device: the steps before the traced one and the traced step itself run where
 * the session runs (on a GPU every value of the traced step is read back).
 * @example const t = await traceAsync(await Session.create(model, { device: 'webgpu' }));
 */
export async function traceAsync(session: Session, opts: TraceOptions = {}): Promise<Trace> {
  const p = tracePlan(session, opts);
  for (const r of p.before) await session.stepAsync(r.start, r.count);
  return traceOf(session, p.info, await session.tracedStepAsync(p.batch.start, p.batch.count));
}

/** The rows of the steps before the traced one and of the traced step; bad options throw UsageError. */
function tracePlan(session: Session, opts: TraceOptions) {
  const m = session.model;
  if (!m.loss) throw new UsageError(`${m.file} has no loss: there is no training step to trace`);
  if (!m.training) throw new UsageError(`${m.file} has no training section: there is no training step to trace`);
  const rows = session.samples;
  const bs = Math.max(1, Math.min(m.training.batchSize, rows));
  const perEpoch = Math.ceil(rows / bs);
  const epochs = opts.epochs ?? m.training.epochs;
  const steps = epochs * perEpoch;
  const step = opts.step ?? 1;
  if (!Number.isInteger(step) || step < 1) throw new UsageError(`the step to trace counts from 1, got ${step}`);
  if (step > steps) {
    throw new UsageError(
      `step ${step} is beyond the training: ${m.file} trains for ${steps} step${steps === 1 ? '' : 's'} (${epochs} epoch${epochs === 1 ? '' : 's'} of ${perEpoch} batch${perEpoch === 1 ? '' : 'es'})`,
    );
  }
  if (opts.sample !== undefined && (!isWhole(opts.sample) || opts.sample >= rows)) {
    throw new UsageError(
      isWhole(opts.sample)
        ? `sample ${opts.sample} is beyond the data: ${m.file} has ${rows} sample${rows === 1 ? '' : 's'} (0 to ${rows - 1})`
        : `the sample is a row of the training data, counting from 0, got ${opts.sample}`,
    );
  }
  const at = (k: number) => {
    const start = (k % perEpoch) * bs;
    return { start, count: Math.min(bs, rows - start) };
  };
  const batchIndex = opts.sample !== undefined ? Math.floor(opts.sample / bs) : (step - 1) % perEpoch;
  const batch = at(batchIndex);
  const info = {
    step,
    steps,
    epoch: Math.floor((step - 1) / perEpoch),
    batchIndex,
    rows: batch,
    samples: rows,
    sample: opts.sample ?? null,
  };
  return { before: Array.from({ length: step - 1 }, (_, k) => at(k)), batch, info };
}

/** The trace of a traced step: every value labelled with its role, gradient and rule. */
function traceOf(
  session: Session,
  info: ReturnType<typeof tracePlan>['info'],
  { train, values }: ReturnType<Session['tracedStep']>,
): Trace {
  const m = session.model as Session['model'] & { loss: NonNullable<Session['model']['loss']> };
  const g = train.built.graph;

  // Which nodes are which: optimizer nodes come from the model's updates; reverse nodes carry grad info.
  const optimizerNodes = new Set<string>();
  for (const u of m.updates) for (const n of u.nodes) optimizerNodes.add(n.name);
  const lossNodes = new Set(m.loss.nodes.map((n) => n.name));
  const stateNames = new Set(m.updates.flatMap((u) => u.state.map((s) => s.name)));
  const isConst = (n: IRNode) => n.op === 'const';

  // Inverse of totals: gradient node -> the values it is d loss / d of, downstream first.
  const gradientOf = new Map<string, string[]>();
  const position = new Map(g.order.map((n, i) => [n, i]));
  for (const [v, t] of train.totals) {
    const list = gradientOf.get(t);
    if (list) list.push(v);
    else gradientOf.set(t, [v]);
  }
  for (const list of gradientOf.values()) list.sort((a, b) => position.get(b)! - position.get(a)!);
  // Contributions and partial sums. A value used k times gets k contributions, summed by a chain
  // add(add(c0, c1), c2) made for it (the downstream-most value the sum's node is the gradient
  // of). The builder pushes contributions consumer by consumer, in reverse topological order,
  // so the chain's operands line up with the value's uses in that order.
  const partOf = new Map<string, { of: string; role: 'contribution' | 'partial-sum'; through?: string }>();
  for (const [t, of] of gradientOf) {
    const v = of[0]!;
    if (g.node(t).grad?.rule !== 'sum over uses') continue;
    const isPartial = (n: string) => {
      const x = g.node(n).grad;
      return x?.rule === 'sum over uses' && !x.total && x.of === v;
    };
    const parts: string[] = [];
    const walk = (n: string) => {
      for (const c of g.node(n).inputs) {
        if (isPartial(c)) {
          partOf.set(c, { of: v, role: 'partial-sum' });
          walk(c);
        } else parts.push(c);
      }
    };
    walk(t);
    const uses: string[] = [];
    for (let k = g.order.length - 1; k >= 0; k--) {
      const c = g.node(g.order[k]!);
      if (train.totals.has(c.name)) for (const i of c.inputs) if (i === v) uses.push(c.name);
    }
    parts.forEach((c, i) => {
      const entry: { of: string; role: 'contribution'; through?: string } = { of: v, role: 'contribution' };
      if (uses.length === parts.length) entry.through = uses[i]!;
      if (!partOf.has(c)) partOf.set(c, entry);
    });
  }

  const lossName = train.loss;
  // No seed when no trainable parameter reaches the loss: the step then has no reverse graph.
  const seed = train.totals.get(lossName);
  const dOf = (v: string) => `d loss / d ${v === lossName ? 'loss' : nameExpr(v).text}`;
  const gradOperand = (n: string): Expr | undefined => {
    const of = gradientOf.get(n);
    return of ? { text: `grad(${of[0] === lossName ? 'loss' : nameExpr(of[0]!).text})`, atom: true } : undefined;
  };

  // Forward: inputs, parameters, the network and the loss, in topological order.
  const forward: TraceForwardNode[] = [];
  const fwdOperand = (n: string): Expr => (isConst(g.node(n)) ? constExpr(g.node(n)) : nameExpr(n));
  for (const name of g.order) {
    const node = g.node(name);
    if (node.grad || isConst(node) || optimizerNodes.has(name) || stateNames.has(name)) continue;
    const part =
      node.op === 'input' ? 'input' : node.op === 'param' ? 'param' : lossNodes.has(name) ? 'loss' : 'network';
    forward.push({
      name,
      op: node.op,
      inputs: [...node.inputs],
      part,
      formula: nodeExpr(node, fwdOperand).text,
      value: value(values, g, name),
    });
  }

  // Reverse: the seed, then every node the reverse-graph builder added, in the order they run.
  const reverse: TraceReverseNode[] =
    seed === undefined
      ? []
      : [
          {
            name: seed,
            op: g.node(seed).op,
            inputs: [...g.node(seed).inputs],
            role: 'seed',
            gradientOf: gradientOf.get(seed) ?? [lossName],
            label: `${dOf(lossName)}`,
            rule: 'seed',
            formula: isConst(g.node(seed)) ? constExpr(g.node(seed)).text : seed,
            value: value(values, g, seed),
          },
        ];
  for (const name of g.order) {
    const node = g.node(name);
    if (!node.grad || isConst(node) || name === seed) continue;
    const info = node.grad;
    const from = info.from;
    const dy = from !== undefined ? train.totals.get(from) : undefined;
    // Operands: constants by value, the rule's incoming gradient as dy, steps of the same rule
    // inlined, other gradients as grad(v), forward values and anything else by name.
    const operand = (n: string): Expr => {
      const x = g.node(n);
      if (isConst(x)) return constExpr(x);
      if (n === dy) return { text: 'dy', atom: true };
      if (x.grad && from !== undefined && x.grad.from === from && !gradientOf.has(n) && !partOf.has(n))
        return nodeExpr(x, operand);
      // In a sum over uses, each operand is the gradient through one use.
      const use = info.rule === 'sum over uses' ? partOf.get(n) : undefined;
      if (use?.role === 'partial-sum') return nodeExpr(x, operand);
      if (use?.role === 'contribution')
        return { text: `grad(${nameExpr(use.of).text}${use.through ? ` via ${use.through}` : ''})`, atom: true };
      return (x.grad ? gradOperand(n) : undefined) ?? nameExpr(n);
    };
    const of = gradientOf.get(name);
    const part = partOf.get(name);
    let role: TraceRole, label: string;
    if (of) {
      role = 'gradient';
      label = of.map(dOf).join(' = ');
    } else if (part) {
      role = part.role;
      label =
        part.role === 'partial-sum'
          ? `partial sum of ${dOf(part.of)}`
          : `part of ${dOf(part.of)}${part.through ? ` (through ${part.through})` : ''}`;
    } else {
      role = 'intermediate';
      label = `(step of the rule at ${from ?? info.of})`;
    }
    const entry: TraceReverseNode = {
      name,
      op: node.op,
      inputs: [...node.inputs],
      role,
      gradientOf: of ?? [],
      label,
      rule: info.rule ?? node.op,
      formula: nodeExpr(node, operand).text,
      value: value(values, g, name),
    };
    if (part) entry.partOf = part.of;
    if (from !== undefined) entry.from = from;
    reverse.push(entry);
  }

  // Updates: for each parameter the optimizer graph wrote back, before / gradient / after.
  const writeback = new Map(train.writebacks.map((w) => [w.to, w.from]));
  const updates: TraceUpdate[] = [];
  for (const u of m.updates) {
    const gradNode = train.grads.get(u.param);
    const newNode = writeback.get(u.param);
    if (!gradNode || !newNode) continue;
    const own = new Set(u.nodes.map((n) => n.name));
    const states = new Set(u.state.map((s) => s.name));
    // The optimizer's own nodes are written out in place, so `w - 0.1 * (0.9 * velocity + grad(w))`
    // says the whole update; state reads by its name in the optimizer graph (`velocity`).
    const operand = (n: string): Expr => {
      const x = g.node(n);
      if (isConst(x)) return constExpr(x);
      if (n === gradNode) return { text: `grad(${u.param})`, atom: true };
      if (own.has(n)) return nodeExpr(x, operand);
      if (states.has(n)) return nameExpr(n.slice(n.lastIndexOf('/') + 1));
      return nameExpr(n);
    };
    updates.push({
      param: u.param,
      gradientNode: gradNode,
      before: value(values, g, u.param),
      gradient: value(values, g, gradNode),
      after: value(values, g, newNode),
      formula: nodeExpr(g.node(newNode), operand).text,
      state: u.state
        .filter((s) => writeback.has(s.name))
        .map((s) => ({
          name: s.name,
          before: value(values, g, s.name),
          after: value(values, g, writeback.get(s.name)!),
          formula: nodeExpr(g.node(writeback.get(s.name)!), operand).text,
        })),
      nodes: u.nodes
        .filter((n) => g.has(n.name))
        .map((n) => {
          const node = g.node(n.name);
          return {
            name: n.name,
            op: node.op,
            inputs: [...node.inputs],
            formula: nodeExpr(node, operand).text,
            value: value(values, g, n.name),
          };
        }),
    });
  }

  // The model's state: its update node's value (computed by the forward pass) is written back.
  const state = (m.state ?? [])
    .filter((s) => writeback.has(s.name))
    .map((s) => ({
      name: s.name,
      before: value(values, g, s.name),
      after: value(values, g, writeback.get(s.name)!),
      node: writeback.get(s.name)!,
    }));
  return {
    file: m.file,
    name: m.name,
    dtype: session.float,
    ...info,
    loss: { node: lossName, value: values.get(lossName)![0]! },
    forward,
    reverse,
    updates,
    ...(state.length ? { state } : {}),
  };
}

/**
 * Every traced node by its IR name. Names are those of Session.trainGraph(batch) for the
 * step's batch size, with or without the optimizer (the reverse graph is built first, so its
 * names do not change). Constants are not listed, except the seed (d loss / d loss = 1).
 * @example traceByNode(trace(session)).get('grad/z1/matmul11')?.label   // 'd loss / d w1'
 */
export function traceByNode(t: Trace): Map<string, TraceNodeInfo> {
  const out = new Map<string, TraceNodeInfo>();
  for (const n of t.forward) out.set(n.name, { value: n.value, formula: n.formula, section: 'forward' });
  for (const n of t.reverse)
    out.set(n.name, { value: n.value, formula: n.formula, label: n.label, rule: n.rule, section: 'reverse' });
  for (const u of t.updates)
    for (const n of u.nodes) out.set(n.name, { value: n.value, formula: n.formula, section: 'optimizer' });
  return out;
}
