// The trace's plain-data types (JSON-ready): what `trace` returns and `traceByNode` indexes.

/** A tensor value as plain data: shape and the flat row-major elements. */
export interface TraceValue {
  shape: number[];
  data: number[];
}

/** A forward-graph node of a `Trace` with its value in the step. */
export interface TraceForwardNode {
  name: string;
  op: string;
  inputs: string[];
  /** An input, a parameter, a node of the network, or a node of the loss graph. */
  part: 'input' | 'param' | 'network' | 'loss';
  /** What the node computes, e.g. `x · w1ᵀ` (the op name for inputs and parameters). */
  formula: string;
  value: TraceValue;
}

/**
 * The role of a reverse-graph node:
 * - seed: d loss / d loss = 1, where the reverse graph starts;
 * - gradient: the complete d loss / d v of one or more forward values v (`gradientOf`);
 * - contribution: d loss / d v through one use of v, summed with the others (`partOf`);
 * - partial-sum: a running sum of such contributions (`partOf`);
 * - intermediate: a step inside one rule (e.g. `2 * diff` inside square's rule).
 */
export type TraceRole = 'seed' | 'gradient' | 'contribution' | 'partial-sum' | 'intermediate';

/** A reverse-graph node of a `Trace`: its value, what it is the gradient of, and its role. */
export interface TraceReverseNode {
  name: string;
  op: string;
  inputs: string[];
  role: TraceRole;
  /** Forward values this node holds the complete gradient of, downstream first (`add` passes one gradient to both inputs). */
  gradientOf: string[];
  /** For a contribution or partial sum: the value whose gradient it is part of. */
  partOf?: string;
  /** Human-readable: `d loss / d w1`, `d loss / d s2 = d loss / d z2`, `part of d loss / d h (through z2)`. */
  label: string;
  /** The forward node whose gradient rule made this node (absent for the seed and sums over uses). */
  from?: string;
  /** That node's op, with how the builder used it: `mul`, `add (unbroadcast)`, `sum over uses`, `seed`. */
  rule: string;
  /** What this node computes; `dy` is d loss / d `from`, steps of the same rule are inlined. */
  formula: string;
  value: TraceValue;
}

/** An optimizer node of a `Trace` (an update rule's intermediate value). */
export interface TraceOptimizerNode {
  name: string;
  op: string;
  inputs: string[];
  formula: string;
  value: TraceValue;
}

/** A parameter's update in a `Trace`: its value before and after, and its gradient. */
export interface TraceUpdate {
  param: string;
  /** The reverse-graph node holding d loss / d param. */
  gradientNode: string;
  before: TraceValue;
  gradient: TraceValue;
  after: TraceValue;
  /** The new value's formula in terms of the parameter, its gradient and the state, e.g. `w1 - 0.1 * grad(w1)`. */
  formula: string;
  /** Optimizer state this update read and wrote (momenta, step counts). */
  state: { name: string; before: TraceValue; after: TraceValue; formula: string }[];
  /** Every node the optimizer graph ran for this parameter, in order. */
  nodes: TraceOptimizerNode[];
}

/**
 * One optimizer step with every value shown (`trace`): forward, reverse and optimizer nodes, and
 * the updates.
 */
export interface Trace {
  /** The graph file and name. */
  file: string;
  name: string;
  dtype: string;
  /** The traced step (from 1) and the training's length in steps. */
  step: number;
  steps: number;
  /** Epoch (from 0) and batch within the epoch (from 0) of the traced step. */
  epoch: number;
  batchIndex: number;
  /** Rows of the training data the step used: [start, start + count). */
  rows: { start: number; count: number };
  /** Training samples in the data. */
  samples: number;
  /** The sample asked for with `sample`, or null for the step's own batch in data order. */
  sample: number | null;
  loss: { node: string; value: number };
  forward: TraceForwardNode[];
  reverse: TraceReverseNode[];
  updates: TraceUpdate[];
  /** The model's state (running statistics) the step writes: before, after, and its update node. */
  state?: { name: string; before: TraceValue; after: TraceValue; node: string }[];
}

/** Options of `trace`: which step, and which data row it trains on. */
export interface TraceOptions {
  /** The optimizer step to trace, counting from 1 (default 1). Steps count batches, across epochs. */
  step?: number;
  /**
   * A sample (row of the training data, from 0) for the traced step to train on instead of the
   * step's own batch. With batch size 1 the step uses that sample alone; with batch size B it
   * uses the batch of the epoch that holds the sample (rows B⌊K/B⌋ onward), so the step still
   * sees a batch training would. Default: the step's own batch in data order.
   */
  sample?: number;
  /** Override the training's epochs (only changes the training length, hence the valid steps). */
  epochs?: number;
}

/** What `dot --trace` and the playground label a node with, by IR node name. */
export interface TraceNodeInfo {
  value: TraceValue;
  /** The formula; for reverse nodes also the gradient label and rule. */
  formula: string;
  label?: string;
  rule?: string;
  section: 'forward' | 'reverse' | 'optimizer';
}
