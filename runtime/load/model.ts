// The resolved model: what the loader hands on once YAML is parsed, validated and every
// subgraph inlined. Names are global (subgraph contents prefixed with the use's name and
// "/"); shapes may still contain the symbol `batch`, bound when a plan is built.

import type { SourceLoc } from '../errors.js';

export type Dim = number | string;
export type InputDType = 'float' | 'f32' | 'f64' | 'i32';

/** A reference to a value: a global node name, or a literal number (a scalar constant). */
export type Ref = string | number;

export interface InputDecl {
  name: string;
  shape: Dim[];
  dtype: InputDType;
  loc: SourceLoc;
}

export type Init = { kind: 'constant'; value: number } | { kind: 'values'; values: number[] };

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

export interface TrainingDecl {
  data: Map<string, Located<unknown[]>>;
  epochs: number;
  batchSize: number;
  logEvery: number;
  loc: SourceLoc;
}

export interface Model {
  file: string;
  name: string;
  inputs: InputDecl[];
  params: ParamDecl[];
  /** Forward nodes in a deterministic topological order. */
  nodes: OpNodeDecl[];
  outputs: { name: string; ref: Ref; loc: SourceLoc }[];
  loss?: { ref: Ref; nodes: OpNodeDecl[]; loc: SourceLoc };
  updates: ParamUpdate[];
  training?: TrainingDecl;
  predict: { name: string; feed: Map<string, Located<unknown>>; loc: SourceLoc }[];
  feed?: Map<string, Located<unknown>>;
  gradients?: { of: Ref; wrt: { ref: string; name: string; loc: SourceLoc }[]; loc: SourceLoc };
}
