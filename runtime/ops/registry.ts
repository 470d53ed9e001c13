// The op registry: a mapped type over a declared union of op names, so a name without a
// definition, or a definition without a name, fails to compile; nothing registers itself as a
// side effect. The published schema's op list and attributes and docs/ops.md are generated from
// it (scripts/gen-ops.ts; test/ops/generated.test.ts fails when they are stale).

import { binaryOps, unaryOps } from './elementwise.js';
import { extremaOps } from './extrema.js';
import { geluOps } from './gelu.js';
import { identityOps } from './identity.js';
import { indexOps } from './index_ops.js';
import { matmulOps } from './matmul.js';
import type { OpDef } from './op.js';
import { piecewiseOps } from './piecewise.js';
import { randomOps } from './random.js';
import { reduceOps } from './reduce.js';
import { shapeOps } from './shape.js';
import { slicingOps } from './slicing.js';
import { softmaxOps } from './softmax.js';
import { sourceOps } from './source.js';
import { whereOps } from './where.js';

/** Every op: graph-run's vocabulary. A new op adds its name here and its definition in its module. */
export type OpName =
  // sources (declared in their own sections of a graph)
  | 'input'
  | 'param'
  | 'state'
  | 'const'
  // elementwise, one input (unary.ts, gelu.ts, piecewise.ts, identity.ts)
  | 'neg'
  | 'exp'
  | 'log'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'square'
  | 'sqrt'
  | 'abs'
  | 'sign'
  | 'floor'
  | 'cos'
  | 'sin'
  | 'softplus'
  | 'silu'
  | 'gelu'
  | 'leaky_relu'
  | 'clip'
  | 'stop_gradient'
  | 'cast'
  // elementwise, two or three inputs (binary.ts, where.ts)
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'pow'
  | 'maximum'
  | 'minimum'
  | 'greater'
  | 'greater_equal'
  | 'less'
  | 'less_equal'
  | 'equal'
  | 'not_equal'
  | 'where'
  // reductions and normalisation (reduce.ts, extrema.ts, softmax.ts)
  | 'sum'
  | 'mean'
  | 'max'
  | 'min'
  | 'argmax'
  | 'argmin'
  | 'logsumexp'
  | 'softmax'
  | 'log_softmax'
  // matrices, shapes and indexing (matmul.ts, shape.ts, slicing.ts, index_ops.ts)
  | 'matmul'
  | 'reshape'
  | 'transpose'
  | 'broadcast_to'
  | 'concat'
  | 'slice'
  | 'gather'
  | 'scatter_add'
  | 'one_hot'
  // randomness (random.ts)
  | 'dropout'
  // the reverse graph's helpers (internal)
  | 'sigmoid_grad'
  | 'tanh_grad'
  | 'softplus_grad'
  | 'relu_grad'
  | 'leaky_relu_grad'
  | 'gelu_grad'
  | 'clip_grad'
  | 'slice_grad'
  | 'dropout_grad';

const all = {
  ...sourceOps,
  ...unaryOps,
  ...binaryOps,
  ...reduceOps,
  ...shapeOps,
  ...matmulOps,
  ...extremaOps,
  ...geluOps,
  ...identityOps,
  ...indexOps,
  ...piecewiseOps,
  ...randomOps,
  ...slicingOps,
  ...softmaxOps,
  ...whereOps,
};

// A module's op that the union does not name fails here (spreads escape excess-property checks).
const noExtra: [Exclude<keyof typeof all, OpName>] extends [never] ? true : false = true;
void noExtra;

// A name of the union without a definition fails here.
export const registry: { readonly [K in OpName]: OpDef } = all;

const names = (Object.keys(registry) as OpName[]).sort();

/** Ops a user may write in a graph's `nodes` (`--help`, docs, the schema's completions). */
export const userOpNames: OpName[] = names.filter((k) => !(k in sourceOps) && !registry[k].internal);

/** Ops a graph's `nodes` may hold: the user's and the internal ones, which printed reverse graphs use. */
export const graphOpNames: OpName[] = names.filter((k) => !(k in sourceOps));

/** The internal ops (the reverse graph's helpers). */
export const internalOpNames: OpName[] = names.filter((k) => registry[k].internal === true);

export function getOp(name: string): OpDef | undefined {
  return Object.prototype.hasOwnProperty.call(registry, name) ? registry[name as OpName] : undefined;
}

export function opArity(def: OpDef): [number, number] {
  return typeof def.arity === 'number' ? [def.arity, def.arity] : def.arity;
}
