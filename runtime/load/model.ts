// The resolved model: what the resolver hands on once YAML is parsed, validated and every
// subgraph inlined. Names are global (subgraph contents prefixed with the use's name and
// "/"); shapes may still contain the symbol `batch`, bound when a plan is built. Data and
// initial values in files are described here (resolved path, columns, positions), not read:
// the data readers (runtime/data/) read them when a later stage asks.

import type { SourceLoc } from '../errors.js';
import type { LoaderIO } from './io.js';

export type Dim = number | string;
export type InputDType = 'float' | 'f32' | 'f64' | 'i32';

/** A reference to a value: a global node name, or a literal number (a scalar constant). */
export type Ref = string | number;

export interface InputDecl {
  name: string;
  shape: Dim[];
  dtype: InputDType;
  loc: SourceLoc;
  /**
   * Fed by the runtime, not by data: `step` is the 1-based optimizer step during a training
   * step and 0 in every other run (dropout reads it); `epoch` the 0-based epoch (schedules).
   */
  provided?: 'epoch' | 'step';
}

export type Init =
  | { kind: 'constant'; value: number }
  | { kind: 'values'; values: number[] }
  /** Seeded random values (docs/init.md): uniform on [a, b), or normal with mean a and std b. */
  | { kind: 'random'; dist: 'uniform' | 'normal'; a: number; b: number }
  /**
   * Values in a file (JSON nested list, headerless CSV grid, or a safetensors file's tensor
   * named `tensor`: the parameter's name as written), read when the parameter is initialised
   * (runtime/data/init-file.ts). `path` is resolved; `loc` is where the graph names it; `io` is
   * the LoaderIO the graph was loaded with (the parameter is initialised on its own).
   */
  | { kind: 'file'; path: string; loc: SourceLoc; io: LoaderIO; tensor: string };

export interface ParamDecl {
  name: string;
  shape: number[];
  init: Init;
  trainable: boolean;
  loc: SourceLoc;
}

export interface StateDecl {
  name: string;
  shape: number[];
  init: number;
  loc: SourceLoc;
}

export interface OpNodeDecl {
  name: string;
  op: string;
  inputs: Ref[];
  attrs: Record<string, unknown>;
  loc: SourceLoc;
  /** `device:` written on the node: run it there rather than on the graph's device. */
  device?: 'cpu' | 'webgpu';
}

/** The optimizer, expanded for one parameter: its nodes, state, and where new values come from. */
export interface ParamUpdate {
  param: string;
  /** Placeholder name the optimizer nodes use for the parameter's gradient. */
  gradRef: string;
  nodes: OpNodeDecl[];
  state: StateDecl[];
  newParam: Ref;
  /** State name -> the node computing its next value. */
  newState: Map<string, Ref>;
}

/** A value given in the YAML (data rows, a feed), kept with its position for data checks. */
export interface Located<T> {
  value: T;
  loc: SourceLoc;
  /** Position of item i (rows of a data column), where it is a list. */
  itemLoc: (i: number) => SourceLoc;
}

/** Path of a part of a data spec (['columns', 'x']) -> its position in the graph file. */
export type SpecLoc = (path: (string | number)[], key?: boolean) => SourceLoc;

/**
 * Where training or validation data comes from: rows written in the YAML, or a data file
 * (CSV or JSON) read on demand by runtime/data/ with `io`. `at` positions the spec's parts.
 */
export type DataSource =
  | { kind: 'inline'; columns: Map<string, Located<unknown[]>> }
  | {
      kind: 'file';
      /** The file's resolved path. */
      path: string;
      /** Input -> the column (or columns) it takes; an input takes its own name by default. */
      columns?: Record<string, string | string[]>;
      at: SpecLoc;
      io: LoaderIO;
    };

export interface TrainingDecl {
  data: DataSource;
  epochs: number;
  batchSize: number;
  logEvery: number;
  loc: SourceLoc;
  /** Where batch_size is written (data errors about it point there). */
  batchSizeLoc?: SourceLoc;
  /** Visit the training rows in a new seeded order every epoch. */
  shuffle?: boolean;
  /** Held-out data: the last `split` fraction of the rows, or separate data. */
  validation?: { split: number; loc: SourceLoc } | { data: DataSource; loc: SourceLoc };
  /** Accuracy of an output against a target input, reported per epoch. */
  accuracy?: { pred: Ref; target: string; threshold: number; loc: SourceLoc };
}

export interface Model {
  file: string;
  name: string;
  /** The LoaderIO the model was loaded with: later stages read its data files through it. */
  io?: LoaderIO;
  inputs: InputDecl[];
  /**
   * Inputs the runtime feeds (`__step`, `__epoch`; InputDecl.provided), present when a node reads
   * them. Kept apart from `inputs`, which are the values a user or data file gives.
   */
  runtime?: InputDecl[];
  params: ParamDecl[];
  /** Forward nodes in a deterministic topological order. */
  nodes: OpNodeDecl[];
  outputs: { name: string; ref: Ref; loc: SourceLoc }[];
  loss?: { ref: Ref; nodes: OpNodeDecl[]; loc: SourceLoc };
  updates: ParamUpdate[];
  /**
   * Nodes computed once per step from all gradients, before the per-parameter updates (clipping
   * by global norm); they read the gradRef placeholders of every update.
   */
  gradNodes?: OpNodeDecl[];
  /** Seed of initialisers, shuffling and dropout (docs/init.md); 0 when the graph sets none. */
  seed?: number;
  /** The graph's `device:` (docs/webgpu.md): where nodes run unless they say otherwise. */
  device?: { choice: 'cpu' | 'webgpu' | 'auto'; loc: SourceLoc };
  training?: TrainingDecl;
  predict: { name: string; feed: Map<string, Located<unknown>>; loc: SourceLoc }[];
  feed?: Map<string, Located<unknown>>;
  gradients?: { of: Ref; wrt: { ref: string; name: string; loc: SourceLoc }[]; loc: SourceLoc };
}
