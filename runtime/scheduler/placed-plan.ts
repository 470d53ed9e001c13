// A placed plan: one Plan when every node runs on the main device; otherwise one Plan per run
// of same-device nodes (a segment), in a device-grouped topological order, with the copies
// between devices (transfers) made before a segment's first reader and the write-backs last.

import { DeviceError } from '../device-error.js';
import type { Executor } from '../executors/executor.js';
import { IRGraph } from '../ir/graph.js';
import { sizeOf, type IRNode, type TypedArray } from '../ir/types.js';
import { buildPlan, type Plan, type PlanStats } from './plan.js';
import type { DeviceKind, Placement } from './placement.js';

const bytesOf = (n: IRNode) => sizeOf(n.type.shape) * (n.type.dtype === 'f64' ? 8 : 4);

/** A copy between devices that a placed plan makes on every run. */
export interface Transfer {
  value: string;
  from: DeviceKind;
  to: DeviceKind;
  purpose: string;
}

/** A plan over one or more executors; `buffers` are on the graph's (main) device. */
export interface PlacedPlan<B> {
  readonly buffers: Map<string, B>;
  buffer(name: string): B;
  readonly stats: PlanStats;
  readonly transfers: Transfer[];
  /** Whether a run writes parameters or state back (a training step). */
  readonly updates: boolean;
  /** Synchronous for a single-device plan; a mixed plan awaits reads between devices. */
  run(): void | Promise<void>;
  /**
   * An output the main device cannot hold (f64 on WebGPU, computed by the CPU) is kept where
   * it was computed: its device and buffer. Undefined for outputs in `buffers`.
   */
  kept?(name: string): { device: DeviceKind; buf: unknown } | undefined;
}

export interface PlacedPlanOptions<B> {
  outputs: string[];
  /** Parameters and optimizer state, on the main device. */
  bound: Map<string, B>;
  writebacks?: { from: string; to: string }[];
}

type AnyExec = Executor<unknown>;

interface Home {
  device: DeviceKind;
  buf: unknown;
}

/** One plan when every node runs on the main device; otherwise segments and transfers. */
export function buildPlacedPlan<B>(
  g: IRGraph,
  placement: Placement,
  execs: { cpu: Executor<TypedArray>; webgpu?: Executor<unknown> },
  opts: PlacedPlanOptions<B>,
): PlacedPlan<B> {
  const main = placement.main;
  const exec = (d: DeviceKind): AnyExec => {
    const e = d === 'cpu' ? execs.cpu : execs.webgpu;
    if (!e) throw new DeviceError('NoAdapter', 'a node was placed on webgpu without a WebGPU device');
    return e as AnyExec;
  };
  const writebacks = opts.writebacks ?? [];
  const roots = [...opts.outputs, ...writebacks.map((w) => w.from)];
  const order = g.ancestors(roots);
  const dev = (n: string) => placement.nodes.get(n)?.device ?? main;
  const isSource = (n: string) => ['input', 'param', 'state', 'const'].includes(g.node(n).op);
  if (order.every((n) => (isSource(n) ? g.node(n).op !== 'const' || dev(n) === main : dev(n) === main))) {
    const plan = buildPlan(g, exec(main) as Executor<B>, opts);
    return {
      buffers: plan.buffers,
      buffer: (n) => plan.buffer(n),
      stats: plan.stats,
      transfers: [],
      updates: writebacks.length > 0,
      run: () => plan.run(),
    };
  }
  return new MixedPlan<B>(g, order, dev, exec, main, opts) as PlacedPlan<B>;
}

type Step =
  | { kind: 'plan'; plan: Plan<unknown> }
  | { kind: 'copies'; copies: { src: Home; dst: Home; dtype: IRNode['type']['dtype']; length: number }[] }
  | { kind: 'local'; exec: AnyExec; copies: (() => void)[] };

class MixedPlan<B> implements PlacedPlan<B> {
  readonly buffers = new Map<string, B>();
  readonly transfers: Transfer[] = [];
  readonly updates: boolean;
  readonly stats: PlanStats = { nodes: 0, kernels: 0, values: 0, buffers: 0, bytes: 0 };
  private readonly steps: Step[] = [];

  constructor(
    g: IRGraph,
    order: string[],
    dev: (n: string) => DeviceKind,
    exec: (d: DeviceKind) => AnyExec,
    main: DeviceKind,
    opts: PlacedPlanOptions<B>,
  ) {
    const writebacks = opts.writebacks ?? [];
    this.updates = writebacks.length > 0;
    const homes = new Map<string, Home>();
    const fresh = (d: DeviceKind, n: IRNode) => {
      this.stats.buffers++;
      this.stats.bytes += bytesOf(n);
      return exec(d).allocate(n.type.dtype, sizeOf(n.type.shape));
    };
    // Sources: inputs are written by the session on the main device, parameters and state are
    // bound there, constants are filled once on the device that first reads them.
    for (const name of order) {
      const n = g.node(name);
      if (n.op === 'input') {
        const buf = fresh(main, n);
        homes.set(name, { device: main, buf });
        this.buffers.set(name, buf as B);
      } else if (n.op === 'param' || n.op === 'state') {
        const buf = opts.bound.get(name);
        if (buf === undefined) throw new Error(`no buffer bound for ${n.op} "${name}"`);
        homes.set(name, { device: main, buf });
        this.buffers.set(name, buf);
      } else if (n.op === 'const') {
        const d = dev(name),
          buf = fresh(d, n);
        const v = n.attrs.value,
          len = sizeOf(n.type.shape);
        exec(d).write(buf, typeof v === 'number' ? new Array<number>(len).fill(v) : (v as number[]));
        homes.set(name, { device: d, buf });
      }
    }
    const ops = scheduleByDevice(
      g,
      order.filter((n) => !['input', 'param', 'state', 'const'].includes(g.node(n).op)),
      dev,
    );
    const segments: { device: DeviceKind; nodes: string[] }[] = [];
    for (const n of ops) {
      const last = segments[segments.length - 1];
      if (last && last.device === dev(n)) last.nodes.push(n);
      else segments.push({ device: dev(n), nodes: [n] });
    }
    const segOf = new Map<string, number>();
    segments.forEach((s, i) => s.nodes.forEach((n) => segOf.set(n, i)));
    const needed = new Set([...opts.outputs, ...writebacks.map((w) => w.from)]);
    // Mirrors of a value on the other device, made once per run (before the first reader).
    const mirrors = new Map<string, unknown>();

    segments.forEach((seg, si) => {
      const sub = new IRGraph(g.float);
      const inSeg = new Set(seg.nodes);
      const bound = new Map<string, unknown>();
      const copies: Extract<Step, { kind: 'copies' }>['copies'] = [];
      for (const name of seg.nodes) {
        for (const x of g.node(name).inputs) {
          if (inSeg.has(x) || bound.has(x)) continue;
          const xn = g.node(x);
          const home = homes.get(x)!;
          let buf = home.buf;
          if (home.device !== seg.device) {
            // One mirror per value and device, filled once per run before its first reader
            // (parameters change only at the write-backs, which come last).
            const key = `${x}@${seg.device}`;
            buf = mirrors.get(key);
            if (buf === undefined) {
              buf = fresh(seg.device, xn);
              mirrors.set(key, buf);
              copies.push({
                src: home,
                dst: { device: seg.device, buf },
                dtype: xn.type.dtype,
                length: sizeOf(xn.type.shape),
              });
              this.transfers.push({ value: x, from: home.device, to: seg.device, purpose: `read by ${name}` });
            }
          }
          sub.add({ name: x, op: 'state', inputs: [], attrs: { shape: [...xn.type.shape], dtype: xn.type.dtype } });
          bound.set(x, buf);
        }
        const n = g.node(name);
        sub.add({
          name,
          op: n.op,
          inputs: n.inputs,
          attrs: n.attrs,
          ...(n.loc ? { loc: n.loc } : {}),
          ...(n.grad ? { grad: n.grad } : {}),
        });
      }
      // Values read after this segment (or asked for) stay readable.
      const outs = seg.nodes.filter(
        (n) => needed.has(n) || g.consumers(n).some((c) => segOf.has(c) && segOf.get(c)! > si),
      );
      if (copies.length) this.steps.push({ kind: 'copies', copies });
      const plan = buildPlan(sub, exec(seg.device), { outputs: outs, bound });
      this.steps.push({ kind: 'plan', plan });
      for (const n of outs) homes.set(n, { device: seg.device, buf: plan.buffer(n) });
      this.stats.nodes += seg.nodes.length;
      this.stats.kernels += plan.stats.kernels;
      this.stats.values += plan.stats.values;
      this.stats.buffers += plan.stats.buffers;
      this.stats.bytes += plan.stats.bytes;
    });

    // Requested outputs on the main device, then the write-backs (after every reader of the old values).
    const finals: Extract<Step, { kind: 'copies' }>['copies'] = [];
    for (const o of opts.outputs) {
      const home = homes.get(o)!;
      if (home.device === main) {
        this.buffers.set(o, home.buf as B);
        continue;
      }
      // WGSL has no f64: such an output stays in the CPU's buffer (trace reads every value).
      if (main === 'webgpu' && g.node(o).type.dtype === 'f64') {
        this.keptOff.set(o, home as { device: DeviceKind; buf: unknown });
        continue;
      }
      const buf = fresh(main, g.node(o));
      finals.push({
        src: home,
        dst: { device: main, buf },
        dtype: g.node(o).type.dtype,
        length: sizeOf(g.node(o).type.shape),
      });
      this.transfers.push({ value: o, from: home.device, to: main, purpose: 'output' });
      this.buffers.set(o, buf as B);
    }
    const local: (() => void)[] = [];
    for (const w of writebacks) {
      const home = homes.get(w.from)!,
        dst = opts.bound.get(w.to);
      if (dst === undefined) throw new Error(`no buffer bound for "${w.to}"`);
      const length = sizeOf(g.node(w.from).type.shape);
      if (home.device === main) {
        if (home.buf !== dst) local.push(exec(main).copy(home.buf, dst, length));
      } else {
        finals.push({ src: home, dst: { device: main, buf: dst }, dtype: g.node(w.from).type.dtype, length });
        this.transfers.push({ value: w.from, from: home.device, to: main, purpose: `update of ${w.to}` });
      }
    }
    if (finals.length) this.steps.push({ kind: 'copies', copies: finals });
    if (local.length) this.steps.push({ kind: 'local', exec: exec(main), copies: local });
    this.execOf = exec;
  }

  private readonly execOf: (d: DeviceKind) => AnyExec;
  private readonly keptOff = new Map<string, { device: DeviceKind; buf: unknown }>();

  kept(name: string): { device: DeviceKind; buf: unknown } | undefined {
    return this.keptOff.get(name);
  }

  buffer(name: string): B {
    const b = this.buffers.get(name);
    if (b === undefined) throw new Error(`plan has no buffer for "${name}"`);
    return b;
  }

  async run(): Promise<void> {
    for (const s of this.steps) {
      switch (s.kind) {
        case 'plan':
          s.plan.run();
          break;
        case 'copies': {
          // All reads of one hand-over in flight together; each write once its data is back.
          await Promise.all(
            s.copies.map(async (c) => {
              const data = await this.execOf(c.src.device).read(c.src.buf, c.dtype, c.length);
              this.execOf(c.dst.device).write(c.dst.buf, data);
            }),
          );
          break;
        }
        case 'local':
          s.exec.begin();
          for (const c of s.copies) c();
          s.exec.end();
          break;
        default:
          s satisfies never;
      }
    }
  }
}

/**
 * A topological order of `ops` that keeps same-device nodes together: among the nodes whose
 * inputs are ready, take those on the current device first (in the graph's order) and switch
 * devices only when none is left, so a fallback costs as few hand-overs as the graph allows.
 */
function scheduleByDevice(g: IRGraph, ops: string[], dev: (n: string) => DeviceKind): string[] {
  const set = new Set(ops);
  const pos = new Map(ops.map((n, i) => [n, i]));
  const waiting = new Map<string, number>();
  for (const n of ops) waiting.set(n, new Set(g.node(n).inputs.filter((i) => set.has(i))).size);
  const ready: string[] = ops.filter((n) => waiting.get(n) === 0);
  const out: string[] = [];
  let current = ready.length ? dev(ready[0]!) : 'cpu';
  while (ready.length) {
    ready.sort((a, b) => pos.get(a)! - pos.get(b)!);
    let k = ready.findIndex((n) => dev(n) === current);
    if (k < 0) {
      k = 0;
      current = dev(ready[0]!);
    }
    const n = ready.splice(k, 1)[0]!;
    out.push(n);
    for (const c of new Set(g.consumers(n))) {
      if (!set.has(c)) continue;
      const left = waiting.get(c)! - 1;
      waiting.set(c, left);
      if (left === 0) ready.push(c);
    }
  }
  return out;
}
