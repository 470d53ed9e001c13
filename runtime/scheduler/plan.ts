// The plan: built once from an IRGraph, run many times. Fixes the order (the graph's
// topological order restricted to what the requested results need), gives every value a
// buffer (reusing a buffer once its value's last consumer has run), fills constants, and
// prepares every kernel. Running it allocates nothing.

import type { Executor } from '../executors/executor.js';
import type { IRGraph } from '../ir/graph.js';
import { sizeOf, type TypedArray } from '../ir/types.js';
import { isElementwise } from '../ir/fusion.js';
import {
  fuseElementwise,
  type FusedGroup,
  type FusingExecutor,
  type GemmEpilogueGroup,
  gemmEpilogues,
} from './fusion.js';
import { DataError, GraphErrors } from '../errors.js';
import { IndexRangeError } from '../ops/index-ops.js';

export interface PlanOptions<B> {
  /** Values to keep readable after a run. */
  outputs: string[];
  /** Buffers owned outside the plan (parameters, optimizer state), by node name. */
  bound: Map<string, B>;
  /** After each run, copy value `from` into the bound buffer of `to`. */
  writebacks?: { from: string; to: string }[];
}

export interface PlanStats {
  nodes: number;
  kernels: number;
  values: number;
  buffers: number;
  bytes: number;
}

export class Plan<B> {
  constructor(
    readonly order: string[],
    /** Buffers of inputs, outputs and bound values, by node name. */
    readonly buffers: Map<string, B>,
    private readonly kernels: (() => void)[],
    private readonly exec: Executor<B>,
    readonly stats: PlanStats,
    /** The node each kernel computes (a fused group's output; '' for a writeback copy). */
    private readonly kernelNodes: string[] = [],
    private readonly graph?: IRGraph,
  ) {}

  run(): void {
    this.exec.begin();
    const k = this.kernels;
    let i = 0;
    try {
      for (; i < k.length; i++) k[i]!();
    } catch (e) {
      // An index outside its axis (ids, labels) computed inside the graph or fed without the
      // data checks: a data error naming the node, instead of a kernel's stack trace.
      const name = this.kernelNodes[i];
      if (!(e instanceof IndexRangeError) || !name || !this.graph) throw e;
      const node = this.graph.node(name);
      throw new GraphErrors([
        new DataError(
          `node "${name}" (${node.op}) got index ${e.index}, outside [0, ${e.size})`,
          node.loc,
          name,
          `the indices reaching "${name}" must lie in [0, ${e.size})`,
        ),
      ]);
    }
    this.exec.end();
  }

  buffer(name: string): B {
    const b = this.buffers.get(name);
    if (b === undefined) throw new Error(`plan has no buffer for "${name}"`);
    return b;
  }
}

export function buildPlan<B>(g: IRGraph, exec: Executor<B>, opts: PlanOptions<B>): Plan<B> {
  const writebacks = opts.writebacks ?? [];
  const roots = [...opts.outputs, ...writebacks.map((w) => w.from)];
  const order = g.ancestors(roots);
  const pos = new Map(order.map((n, i) => [n, i]));
  const keep = new Set(roots);
  // Elementwise chains the executor runs as one loop (scheduler/fusion.ts): a group runs at
  // its output's place and reads the group's inputs; its other members get no buffer.
  const fuser = exec as Partial<FusingExecutor<B>>;
  const held = new Set([...keep, ...opts.bound.keys()]);
  // Matrix products finished by their bias (and ReLU) in the gemm: first, so that the
  // elementwise groups below leave those nodes to them.
  const epis =
    fuser.epilogue && fuser.prepareEpilogue
      ? gemmEpilogues(g, order, held, (mm) =>
          fuser.epilogue!(
            mm,
            mm.inputs.map((x) => g.node(x).type),
          ),
        )
      : [];
  const epiOf = new Map<string, GemmEpilogueGroup>();
  for (const e of epis) for (const n of [e.matmul, ...e.rest]) epiOf.set(n.name, e);
  const fusible = fuser.fusible?.bind(fuser);
  const groups = fuser.prepareFused
    ? fuseElementwise(g, order, {
        keep: held,
        fusible: (n) => !epiOf.has(n.name) && (fusible ? fusible(n) : isElementwise(n)),
      })
    : [];
  const groupOf = new Map<string, FusedGroup>();
  for (const gr of groups) for (const n of gr.nodes) groupOf.set(n.name, gr);
  const reads = (n: string): string[] => {
    const e = epiOf.get(n);
    if (e) return e.output === n ? [...e.matmul.inputs, e.bias] : [];
    const gr = groupOf.get(n);
    return gr === undefined ? g.node(n).inputs : gr.output === n ? gr.inputs : [];
  };
  // Reshapes that share their input's buffer (where the executor allows): each maps to the value
  // that owns the buffer, whose lifetime then covers the reshape's readers too.
  const owner = new Map<string, string>();
  if (exec.reshapeShares)
    for (const n of order) {
      const node = g.node(n);
      if (node.op === 'reshape' && node.type.dtype === g.node(node.inputs[0]!).type.dtype)
        owner.set(n, owner.get(node.inputs[0]!) ?? node.inputs[0]!);
    }
  const own = (v: string): string => owner.get(v) ?? v;
  // Last position at which each buffer's value is read; kept values (and what they share) live to the end.
  const lastUse = new Map<string, number>();
  for (const n of order)
    for (const i of reads(n)) lastUse.set(own(i), Math.max(lastUse.get(own(i)) ?? -1, pos.get(n)!));
  const kept = new Set([...keep].map(own));

  const buffers = new Map<string, B>();
  const exposed = new Map<string, B>();
  const free = new Map<string, B[]>();
  const kernels: (() => void)[] = [];
  const kernelNodes: string[] = [];
  let allocated = 0,
    bytes = 0;
  const fresh = (dtype: string, len: number): B => {
    allocated++;
    bytes += len * (dtype === 'f64' ? 8 : 4);
    return exec.allocate(dtype as never, len);
  };
  const persistent = new Set<string>();

  order.forEach((name, i) => {
    const node = g.node(name);
    const len = sizeOf(node.type.shape);
    const key = `${node.type.dtype}:${len}`;
    let buf: B;
    switch (node.op) {
      case 'param':
      case 'state': {
        const b = opts.bound.get(name);
        if (b === undefined) throw new Error(`no buffer bound for ${node.op} "${name}"`);
        buf = b;
        persistent.add(name);
        break;
      }
      case 'input':
        buf = fresh(node.type.dtype, len);
        persistent.add(name);
        exposed.set(name, buf);
        break;
      case 'const': {
        buf = fresh(node.type.dtype, len);
        const v = node.attrs.value;
        exec.write(buf, typeof v === 'number' ? new Array<number>(len).fill(v) : (v as number[]));
        persistent.add(name);
        break;
      }
      default: {
        const shared = owner.get(name);
        if (shared !== undefined) {
          buf = buffers.get(shared)!;
          break;
        }
        const gr = groupOf.get(name);
        if (gr !== undefined && gr.output !== name) return; // computed inside its group's loop
        const epi = epiOf.get(name);
        if (epi !== undefined && epi.output !== name) return; // computed in its gemm's epilogue
        const pool = free.get(key);
        buf = pool?.length ? pool.pop()! : fresh(node.type.dtype, len);
        kernelNodes.push(name);
        if (epi !== undefined) {
          const mm = epi.matmul;
          kernels.push(
            fuser.prepareEpilogue!(
              mm,
              mm.inputs.map((x) => buffers.get(x)!),
              mm.inputs.map((x) => g.node(x).type),
              buffers.get(epi.bias)!,
              epi.rest.length > 1,
              buf,
            ),
          );
        } else if (gr !== undefined)
          kernels.push(
            fuser.prepareFused!(
              gr,
              gr.inputs.map((x) => buffers.get(x)!),
              gr.inputs.map((x) => g.node(x).type),
              buf,
            ),
          );
        else
          kernels.push(
            exec.prepare(
              node,
              node.inputs.map((x) => buffers.get(x)!),
              buf,
              node.inputs.map((x) => g.node(x).type),
            ),
          );
      }
    }
    buffers.set(name, buf);
    if (keep.has(name) || opts.bound.has(name)) exposed.set(name, buf);
    // Values whose last reader was this node go back to the pool.
    for (const x of new Set(reads(name).map(own))) {
      if (lastUse.get(x) === i && !kept.has(x) && !persistent.has(x)) {
        const t = g.node(x).type;
        const k = `${t.dtype}:${sizeOf(t.shape)}`;
        const list = free.get(k);
        if (list) list.push(buffers.get(x)!);
        else free.set(k, [buffers.get(x)!]);
      }
    }
  });
  for (const w of writebacks) {
    const src = buffers.get(w.from)!,
      dst = opts.bound.get(w.to);
    if (dst === undefined) throw new Error(`no buffer bound for "${w.to}"`);
    if (src !== dst) {
      kernels.push(exec.copy(src, dst, sizeOf(g.node(w.from).type.shape)));
      kernelNodes.push('');
    }
  }
  const stats: PlanStats = {
    nodes: order.length,
    kernels: kernels.length,
    values: order.length,
    buffers: allocated,
    bytes,
  };
  return new Plan(order, exposed, kernels, exec, stats, kernelNodes, g);
}

export type CpuPlan = Plan<TypedArray>;
