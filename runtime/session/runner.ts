// What a session's jobs run on: a Runner prepares a plan for a graph kind and batch size (once:
// plans are cached per kind and batch), feeds it rows or values, executes it and reads results.
// The CPU runner answers at once; the device runner (device-runner.ts) answers with promises
// where the GPU must be waited for. The jobs (jobs.ts) are written once over this interface.

import type { IRGraph } from '../ir/graph.js';
import type { Program } from '../compile/program.js';
import type { InputDecl } from '../load/model.js';
import type { TypedArray } from '../ir/types.js';
import type { Column } from '../data/index.js';
import { countBuild } from '../stats.js';
import type { Clock } from './state.js';

/** Rows to feed: columns by input name, and the order to visit them in (null: data order). */
export interface RowSource {
  readonly columns: Map<string, Column> | null;
  readonly order: Int32Array | null;
}

/** A value now (CPU) or later (a device that must be waited for). */
export type Pending<T> = T | Promise<T>;

export type PlanKind = 'train' | 'eval' | 'forward' | 'gradient';

/** The graph, results and write-backs of a plan of one kind at one batch size. */
export interface PlanSpec {
  graph: IRGraph;
  outputs: string[];
  writebacks: { from: string; to: string }[];
}

export function planSpec(program: Program, kind: PlanKind, batch: number): PlanSpec {
  switch (kind) {
    case 'train': {
      const t = program.train(batch);
      return { graph: t.built.graph, outputs: [t.loss], writebacks: t.writebacks };
    }
    case 'eval': {
      const e = program.eval(batch);
      const nodes = e.metrics.flatMap((m) => [m.pred, m.target]).filter((n): n is string => n !== undefined);
      return { graph: e.built.graph, outputs: [...new Set([e.loss, ...nodes])], writebacks: [] };
    }
    case 'forward': {
      const f = program.forward(batch);
      return { graph: f.built.graph, outputs: f.outputs.map((o) => o.node), writebacks: [] };
    }
    case 'gradient': {
      const g = program.gradient();
      const outputs = [...g.grads.values()].filter((n): n is string => n !== null);
      return { graph: g.built.graph, outputs, writebacks: [] };
    }
  }
}

/** Every input a plan may read: the model's, then those the runtime feeds (`__step`, `__epoch`). */
export function fedInputs(program: Program): InputDecl[] {
  return [...program.model.inputs, ...(program.model.runtime ?? [])];
}

/** A plan made ready to run, and what it was made from. */
export interface Prepared<H> {
  run: H;
  spec: PlanSpec;
}

export interface Runner<H> {
  readonly kind: 'cpu' | 'device';
  /** The plan of `kind` at `batch`, built on first use. */
  prepare(kind: PlanKind, batch: number): Prepared<H>;
  /**
   * Write rows [start, start + count) of `src` into the plan's inputs, in `src.order` (a
   * shuffled epoch) or in data order; the clock into `__step`/`__epoch`.
   */
  feedRows(h: H, start: number, count: number, src: RowSource, clock: Clock): void;
  /** Write given values (flat, row-major) into the plan's inputs; the clock into the runtime's. */
  feed(h: H, values: Map<string, ArrayLike<number>> | Record<string, ArrayLike<number>>, clock?: Clock): void;
  execute(h: H): Pending<void>;
  /** A value the plan keeps (the CPU's live buffer: copy it to keep it past the next run). */
  read(h: H, name: string): Pending<TypedArray>;
  /** Parameters and state back in the host buffers. */
  toHost(): Pending<void>;
}

export function isPending<T>(v: Pending<T>): v is Promise<T> {
  // Runners answer with native promises (async functions), so this is exact, and cheap on the CPU's hot path.
  return v instanceof Promise;
}

/**
 * Prepared plans by graph kind and batch size: each built once, on first use, by `make`, and
 * counted in the build statistics. Both runners keep their plans here.
 */
export class PlanCache<H> {
  private readonly runs = new Map<string, Prepared<H>>();

  constructor(
    private readonly program: Program,
    private readonly make: (spec: PlanSpec) => H,
  ) {}

  get(kind: PlanKind, batch: number): Prepared<H> {
    const key = `${kind} ${batch}`;
    let r = this.runs.get(key);
    if (!r) {
      const spec = planSpec(this.program, kind, batch);
      countBuild(`plan ${kind} batch ${batch}`);
      r = { run: this.make(spec), spec };
      this.runs.set(key, r);
    }
    return r;
  }

  clear(): void {
    this.runs.clear();
  }
}
