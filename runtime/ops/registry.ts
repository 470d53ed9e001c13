// The op registry: a mapped type over every op name, so a missing entry is a compile error
// and nothing registers itself as a side effect.

import { binaryOps, unaryOps } from './elementwise.js';
import { matmulOps } from './matmul.js';
import type { OpDef } from './op.js';
import { reduceOps } from './reduce.js';
import { shapeOps } from './shape.js';
import { sourceOps } from './source.js';
import { extremaOps } from './extrema.js';
import { geluOps } from './gelu.js';
import { identityOps } from './identity.js';
import { indexOps } from './index_ops.js';
import { piecewiseOps } from './piecewise.js';
import { randomOps } from './random.js';
import { slicingOps } from './slicing.js';
import { softmaxOps } from './softmax.js';
import { whereOps } from './where.js';

const all = {
  ...unaryOps,
  ...binaryOps,
  ...reduceOps,
  ...shapeOps,
  ...matmulOps,
  ...sourceOps,
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

export type OpName = keyof typeof all;
export const registry: { readonly [K in OpName]: OpDef } = all;

/** Ops a user may write in a graph's `nodes` (source kinds are declared in their own sections). */
export const userOpNames: OpName[] = (Object.keys(registry) as OpName[]).filter((k) => !(k in sourceOps)).sort();

export function getOp(name: string): OpDef | undefined {
  return Object.prototype.hasOwnProperty.call(registry, name) ? registry[name as OpName] : undefined;
}

export function opArity(def: OpDef): [number, number] {
  return typeof def.arity === 'number' ? [def.arity, def.arity] : def.arity;
}
