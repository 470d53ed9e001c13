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
  /** For token ids: the characters they stand for, id k = the k-th (`graph-run generate`). */
  vocab?: string;
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

/**
 * Non-trainable state kept across runs: an optimizer's per-parameter state, or a model's own
 * (running statistics), whose `update` node gives its next value after a training forward.
 */
export interface StateDecl {
  name: string;
  shape: number[];
  init: number;
  loc: SourceLoc;
  /** Model state only: the node whose value a training step writes into the state. */
  update?: Ref;
  /** Where `update:` is written. */
  updateLoc?: SourceLoc;
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

/**
 * A subgraph use with `repeat:` of 2 or more: the first copy's output is the next copy's
 * chained input, so it must have that input's shape and dtype (checked as the IR is built).
 */
export interface RepeatDecl {
  /** The use's global name (`blocks`). */
  use: string;
  /** What the first copy's chained input is bound to, and that input's name in the subgraph. */
  input: Ref;
  inputName: string;
  /** The first copy's output. */
  output: Ref;
  /** The `repeat:` value. */
  loc: SourceLoc;
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
  | {
      kind: 'inline';
      columns: Map<string, Located<unknown[]>>;
      /** Inputs whose data is a binary array file of their own (`x: {file: images.idx}`). */
      files?: Map<string, InputFile>;
    }
  | {
      kind: 'file';
      /** The file's resolved path. */
      path: string;
      /** Input -> the column (or columns) it takes; an input takes its own name by default. */
      columns?: Record<string, string | string[]>;
      at: SpecLoc;
      io: LoaderIO;
    };

/** One input's data in a binary array file (.npy, IDX, or an array of an .npz or safetensors file). */
export interface InputFile {
  /** The file's resolved path. */
  path: string;
  /** The array of an .npz or safetensors file (default: the input's name). */
  array?: string;
  /** Every value is multiplied by it (u8 pixels to [0, 1]). */
  scale?: number;
  /** Positions of the spec's parts (['file'], ['scale']) in the graph file. */
  at: SpecLoc;
  io: LoaderIO;
}

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
  /** Rows per evaluation and prediction batch (default: batchSize). */
  evalBatchSize?: number;
  /** Metrics reported per logged epoch (`accuracy:` is the first one's shorthand). */
  metrics?: MetricDecl[];
}

/**
 * A metric of a prediction against a target (any two nodes), or perplexity of the loss:
 * accuracy (argmax per position, or a threshold for one value), top-k accuracy, perplexity.
 */
export interface MetricDecl {
  kind: 'accuracy' | 'top_k' | 'perplexity';
  /** The record's key (`accuracy`, `top5_accuracy`, `perplexity`, or the `name:` given). */
  name: string;
  /** Absent for perplexity of the loss. */
  pred?: Ref;
  target?: Ref;
  threshold: number;
  k: number;
  loc: SourceLoc;
}

/**
 * A loaded, checked and resolved graph file: inputs, parameters, nodes, loss, training section
 * (what `loadGraph` returns).
 */
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
  /**
   * The model's state (`state:` with `update:`, in the graph and its subgraphs): read by every
   * run, written with its update node's value at the end of each training step only.
   */
  state?: StateDecl[];
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
  /** `ofName`: `of` as written (`loss`), where `of` is the node it names (`loss/loss`). */
  gradients?: { of: Ref; ofName?: string; wrt: { ref: string; name: string; loc: SourceLoc }[]; loc: SourceLoc };
  /** Repeated subgraph uses whose copies' types the IR checks (RepeatDecl). */
  repeats?: RepeatDecl[];
}
