// The op registry, combined from the op modules. Each module declares the union of the names it
// defines and a table that is a mapped type over that union, so a name without a definition, or a
// definition without a name, fails to compile in that module; this file lists modules, never op
// names, and fails to compile when two modules define the same name. Nothing registers itself as a
// side effect. The published schema's op list and attributes and docs/ops.md are generated from it
// (scripts/gen-ops.ts; test/ops/generated.test.ts fails when they are stale).

import { binaryOps, unaryOps } from './elementwise.js';
import type { BinaryOpName } from './binary.js';
import { type ConvOpName, convOps } from './conv.js';
import { type EmbeddingOpName, embeddingOps } from './embedding.js';
import { type ExtremaOpName, extremaOps } from './extrema.js';
import { type GeluOpName, geluOps } from './gelu.js';
import { type IdentityOpName, identityOps } from './identity.js';
import { type IndexOpName, indexOps } from './index-ops.js';
import { type MaskingOpName, maskingOps } from './masking.js';
import { type MatmulOpName, matmulOps } from './matmul.js';
import { type ModeOpName, modeOps } from './mode.js';
import type { OpDef } from './op.js';
import { type PadOpName, padOps } from './pad.js';
import { type PiecewiseOpName, piecewiseOps } from './piecewise.js';
import { type PoolOpName, poolOps } from './pool.js';
import { type RandomOpName, randomOps } from './random.js';
import { type ReduceOpName, reduceOps } from './reduce.js';
import { type SampleOpName, sampleOps } from './sample.js';
import { type ShapeOpName, shapeOps } from './shape.js';
import { type SlicingOpName, slicingOps } from './slicing.js';
import { type SoftmaxOpName, softmaxOps } from './softmax.js';
import { type SourceOpName, sourceOps } from './source.js';
import type { UnaryOpName } from './unary.js';
import { type WhereOpName, whereOps } from './where.js';

/** Each op module's names. A new module adds its union here and its table to `all` below. */
type ModuleOpNames = [
  SourceOpName,
  UnaryOpName,
  BinaryOpName,
  ReduceOpName,
  ShapeOpName,
  MatmulOpName,
  ConvOpName,
  PoolOpName,
  PadOpName,
  ExtremaOpName,
  GeluOpName,
  IdentityOpName,
  IndexOpName,
  PiecewiseOpName,
  RandomOpName,
  SlicingOpName,
  SoftmaxOpName,
  WhereOpName,
  EmbeddingOpName,
  MaskingOpName,
  SampleOpName,
  ModeOpName,
];

/** Every op: graph-run's vocabulary, the union of the modules' unions. */
export type OpName = ModuleOpNames[number];

/** The names more than one module declares: each module's union met with the unions before it. */
type Duplicated<T extends unknown[], Seen = never> = T extends [infer H, ...infer R]
  ? (H & Seen) | Duplicated<R, Seen | H>
  : never;

// Two modules defining one name fails here, naming it (a spread would silently keep the later one).
const unique: [Duplicated<ModuleOpNames>] extends [never] ? true : { duplicated: Duplicated<ModuleOpNames> } = true;
void unique;

const all = {
  ...sourceOps,
  ...unaryOps,
  ...binaryOps,
  ...reduceOps,
  ...shapeOps,
  ...matmulOps,
  ...convOps,
  ...poolOps,
  ...padOps,
  ...extremaOps,
  ...geluOps,
  ...identityOps,
  ...indexOps,
  ...piecewiseOps,
  ...randomOps,
  ...slicingOps,
  ...softmaxOps,
  ...whereOps,
  ...embeddingOps,
  ...maskingOps,
  ...sampleOps,
  ...modeOps,
};

// A module's table spread into `all` whose union is missing from ModuleOpNames fails here
// (spreads escape excess-property checks)...
const noExtra: [Exclude<keyof typeof all, OpName>] extends [never] ? true : false = true;
void noExtra;

// ...and a union listed without its table fails here.
/** Every op's definition (shape rule, CPU and WGSL kernels, gradient rule), by op name. */
export const registry: { readonly [K in OpName]: OpDef } = all;

const names = (Object.keys(registry) as OpName[]).sort();

/** Ops a user may write in a graph's `nodes` (`--help`, docs, the schema's completions). */
export const userOpNames: OpName[] = names.filter((k) => !(k in sourceOps) && !registry[k].internal);

/** Ops a graph's `nodes` may hold: the user's and the internal ones, which printed reverse graphs use. */
export const graphOpNames: OpName[] = names.filter((k) => !(k in sourceOps));

/** The internal ops (the reverse graph's helpers). */
export const internalOpNames: OpName[] = names.filter((k) => registry[k].internal === true);

export function getOp(name: string): OpDef | undefined {
  return Object.hasOwn(registry, name) ? registry[name as OpName] : undefined;
}

export function opArity(def: OpDef): [number, number] {
  return typeof def.arity === 'number' ? [def.arity, def.arity] : def.arity;
}
