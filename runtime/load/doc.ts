// The parsed graph document: what a schema-valid YAML file holds, typed as the resolver reads
// it (schemas/graph.schema.json is the authority; these types follow it).

import type { Dim, InputDType } from './model.js';
import type { SourceFile } from './source.js';

export interface NodeDoc {
  name?: string;
  op?: string;
  graph?: string;
  inputs?: unknown;
  attrs?: Record<string, unknown>;
  /** Attribute values: numbers, or (in a subgraph) names of the using graph's own attributes. */
  with?: Record<string, number | string>;
  /** Subgraph uses: stack this many copies, each one's output feeding the next one's `chain` input. */
  repeat?: number;
  /** The input of the subgraph that takes the previous copy's output (default: its first input). */
  chain?: string;
  device?: 'cpu' | 'webgpu';
}

/** How a graph names a data file: `file`, and for each input the column (or columns) it takes. */
export interface DataFileSpec {
  file: string;
  columns?: Record<string, string | string[]>;
}

/** The YAML forms of a random initialiser (values and files are described apart). */
export interface RandomInitSpec {
  uniform?: { low?: number; high?: number };
  normal?: { mean?: number; std?: number };
  xavier_uniform?: FanSpec & { gain?: number };
  xavier_normal?: FanSpec & { gain?: number };
  kaiming_uniform?: FanSpec & KaimingSpec;
  kaiming_normal?: FanSpec & KaimingSpec;
}

/** Fans: numbers, or (in the YAML) names of the graph's attributes, replaced by their values when resolved. */
export interface FanSpec {
  fan_in?: number | string;
  fan_out?: number | string;
}

export interface KaimingSpec {
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
}

export interface AttrDecl {
  default?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export interface ParamDoc {
  shape: Dim[];
  init: number | ({ constant?: number; values?: unknown[]; file?: string } & RandomInitSpec);
  trainable?: boolean;
}

export interface StateDoc {
  shape?: Dim[];
  init?: number | string;
  /** Model graphs: the node whose value becomes the state's next value after a training forward. */
  update?: string;
}

/** One input's data in a binary array file. */
export interface InputFileSpec {
  file: string;
  array?: string;
  scale?: number;
}

/** Inline data: input -> rows, or an input's own array file. */
export type InlineDataDoc = Record<string, unknown[] | InputFileSpec>;

export interface TrainingDoc {
  data: InlineDataDoc | DataFileSpec;
  epochs: number;
  batch_size?: number;
  log_every?: number;
  validation?: { split?: number; file?: string; columns?: DataFileSpec['columns']; data?: InlineDataDoc };
  shuffle?: boolean;
  accuracy?: { pred: string; target: string; threshold?: number };
  eval_batch_size?: number;
  metrics?: MetricDoc[];
}

/** One entry of `training.metrics`. */
export interface MetricDoc {
  metric: 'accuracy' | 'top_k' | 'perplexity';
  name?: string;
  pred?: string;
  target?: string;
  threshold?: number;
  k?: number;
}

export interface OptimizerDoc {
  graph: string;
  with?: Record<string, number>;
  /** Per-parameter options: name pattern (`*` any characters) -> `with` overrides, or trainable: false. */
  params?: Record<string, Record<string, number | boolean>>;
  schedule?: { graph: string; with?: Record<string, number>; every?: 'epoch' | 'step' };
  clip_grad_norm?: number;
}

export interface GraphDoc {
  name?: string;
  device?: 'cpu' | 'webgpu' | 'auto';
  attrs?: Record<string, AttrDecl>;
  inputs?: Record<string, { shape?: Dim[]; dtype?: InputDType; vocab?: string }>;
  seed?: number;
  params?: Record<string, ParamDoc>;
  state?: Record<string, StateDoc>;
  nodes?: NodeDoc[];
  outputs?: string[] | Record<string, string>;
  loss?: NodeDoc;
  optimizer?: OptimizerDoc;
  training?: TrainingDoc;
  predict?: Record<string, Record<string, unknown>>;
  feed?: Record<string, unknown>;
  gradients?: { of: string; wrt: string[] };
}

/** A graph file read, parsed and schema-checked: its positions and its document. */
export interface Loaded {
  file: SourceFile;
  doc: GraphDoc;
}
