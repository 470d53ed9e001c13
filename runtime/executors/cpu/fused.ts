// CPU code for a fused elementwise group (scheduler/fusion.ts): one generated JavaScript loop
// that computes the group's output from its external inputs, the intermediates living in
// locals. f32 intermediates are rounded with Math.fround exactly where the unfused kernels
// would have stored them in a Float32Array, so fusion changes no result, not even the last
// bit. Generated functions are cached by their source text.
//
// Inputs that broadcast are read without index maps where the shapes allow: the loop is
// split into outer × inner so each input is read as x[i] (full), x[j] (a row repeated, e.g.
// a bias), x[o] (a column repeated) or a hoisted scalar; anything else reads through a
// precomputed index map.

import { broadcastStrides, contiguousStrides } from '../../ops/broadcast.js';
import { elementwiseExpr, indexMap } from '../../ops/elementwise.js';
import { sizeOf, type TensorType, type TypedArray } from '../../ir/types.js';
import type { FusedGroup } from '../../ir/fusion.js';
import type { Kernels } from './threads.js';
import { elementwiseModule, groupKey, lowerable, type WasmAccess } from './wasm/elementwise.js';
import type { SimdRule } from '../../ops/op.js';

type Access = 'full' | 'inner' | 'outer' | 'scalar' | 'map';

/** A generated loop: called with its buffers and sizes. */
type Loop = (...args: unknown[]) => unknown;

const compiled = new Map<string, Loop>();
function compile(src: string): Loop {
  let f = compiled.get(src);
  if (!f) {
    f = new Function(`return ${src}`)() as Loop;
    compiled.set(src, f);
  }
  return f;
}

/** Per input, how it is read when the loop is split at dimension `s` (null: not possible). */
export function classify(shape: readonly number[], out: readonly number[], s: number): Access {
  const n = sizeOf(shape);
  if (n === sizeOf(out)) return 'full';
  if (n === 1) return 'scalar';
  const st = broadcastStrides(shape, out);
  const outerSt = contiguousStrides(out.slice(0, s));
  const innerSt = contiguousStrides(out.slice(s));
  const outerZero = st.slice(0, s).every((x, d) => x === 0 || out[d] === 1);
  const innerZero = st.slice(s).every((x, d) => x === 0 || out[s + d] === 1);
  const innerContig = st.slice(s).every((x, d) => x === innerSt[d] || out[s + d] === 1);
  const outerContig = st.slice(0, s).every((x, d) => x === outerSt[d] || out[d] === 1);
  if (outerZero && innerContig) return 'inner';
  if (innerZero && outerContig) return 'outer';
  return 'map';
}

export interface FusedCode {
  source: string;
  /** The step closure; `start` > 0 (flat loops only) skips the elements before it. */
  run: (inputs: TypedArray[], output: TypedArray, start?: number) => () => void;
}

/** The generated loop for `group`, given the types of its external inputs. */
export function fusedKernel(group: FusedGroup, inTypes: TensorType[]): FusedCode {
  const out = group.nodes[group.nodes.length - 1]!.type;
  const f32 = out.dtype === 'f32';
  const shape = out.shape;
  // Choose the split with the fewest index maps (then the longest inner loop).
  let best = { s: shape.length, access: [] as Access[], maps: Infinity };
  for (let s = shape.length; s >= 0; s--) {
    const access = inTypes.map((t) => classify(t.shape, shape, s));
    const maps = access.filter((a) => a === 'map').length;
    const needsSplit = access.some((a) => a === 'inner' || a === 'outer');
    if (
      maps < best.maps ||
      (maps === best.maps && !needsSplit && best.access.some((a) => a === 'inner' || a === 'outer'))
    ) {
      best = { s, access, maps };
    }
  }
  const { s, access } = best;
  const outer = sizeOf(shape.slice(0, s)),
    inner = sizeOf(shape.slice(s));
  const split = access.some((a) => a === 'inner' || a === 'outer');
  const name = new Map<string, string>(); // value -> JS expression
  const pre: string[] = [],
    outerLoads: string[] = [],
    loads: string[] = [];
  group.inputs.forEach((v, k) => {
    const a = access[k]!;
    if (a === 'scalar') pre.push(`const v${k} = x${k}[0];`);
    else if (a === 'outer') outerLoads.push(`const v${k} = x${k}[o];`);
    else if (a === 'inner') loads.push(`const v${k} = x${k}[j];`);
    else if (a === 'map') loads.push(`const v${k} = x${k}[m${k}[i]];`);
    else loads.push(`const v${k} = x${k}[i];`);
    name.set(v, `v${k}`);
  });
  const body: string[] = [];
  group.nodes.forEach((n, t) => {
    const args = n.inputs.map((i) => name.get(i)!);
    const un = (elementwiseExpr.unary as Record<string, (x: string) => string>)[n.op];
    const bin = (elementwiseExpr.binary as Record<string, (a: string, b: string) => string>)[n.op];
    const e = un ? un(args[0]!) : bin!(args[0]!, args[1]!);
    if (t === group.nodes.length - 1) body.push(`y[i] = ${e};`);
    else {
      body.push(`const t${t} = ${f32 ? `fr(${e})` : `(${e})`};`);
      name.set(n.name, `t${t}`);
    }
  });
  const params = [
    ...group.inputs.map((_, k) => `x${k}`),
    'y',
    'outer',
    'inner',
    'start',
    ...group.inputs.map((_, k) => `m${k}`),
  ];
  const loop = split
    ? `for (let o = 0, i = 0; o < outer; o++) {\n${outerLoads.join('\n')}\nfor (let j = 0; j < inner; j++, i++) {\n${loads.join('\n')}\n${body.join('\n')}\n}\n}`
    : `const n = outer * inner;\nfor (let i = start; i < n; i++) {\n${loads.join('\n')}\n${body.join('\n')}\n}`;
  const source = `function fused(${params.join(', ')}) {\nconst fr = Math.fround;\n${pre.join('\n')}\n${loop}\n}`;
  const fn = compile(source);
  const maps = inTypes.map((t, k) => (access[k] === 'map' ? indexMap(t.shape, shape) : null));
  return {
    source,
    run: (inputs, output, start = 0) => {
      // A bound function: each call passes the fixed arguments without building an array.
      return fn.bind(null, ...inputs, output, outer, inner, split ? 0 : start, ...maps) as () => void;
    },
  };
}

/** Groups of fewer elements run the JavaScript loop: a call into WebAssembly costs more. */
const WASM_MIN = 256;
/** Elements (or rows × inner) per chunk when a loop is split across threads: 2 MB per array (1M-float loops measured no faster split). */
const PER_CHUNK = 1 << 19;

/**
 * The step closure for a group (or a single elementwise node as a group of one): WebAssembly
 * SIMD over the arena buffers where every op has a lowering and the inputs are read whole,
 * as a scalar, as a repeated row or as one value per row (rows of 4 or more); the generated
 * JavaScript loop otherwise.
 */
export function prepareGroup(
  K: Kernels | null,
  group: FusedGroup,
  inputs: TypedArray[],
  inTypes: TensorType[],
  output: TypedArray,
): () => void {
  const js = fusedKernel(group, inTypes);
  const n = output.length;
  if (!K || n < WASM_MIN || !lowerable(group.nodes) || !K.arena.holds(output)) return js.run(inputs, output);
  for (let k = 0; k < inputs.length; k++) {
    if (inTypes[k]!.dtype !== 'f32') return js.run(inputs, output);
    if (inputs[k]!.length > 1 && !K.arena.holds(inputs[k]!)) return js.run(inputs, output);
  }
  const shape = output.length === 0 ? [] : group.nodes[group.nodes.length - 1]!.type.shape;
  // Flat (every input whole or scalar), or rows of 4 or more (some input a repeated row, or one
  // value per row).
  let access: WasmAccess[] | null = null,
    inner = 0;
  const flat = inTypes.map((t) => classify(t.shape, shape, shape.length));
  if (flat.every((a) => a === 'full' || a === 'scalar')) access = flat as WasmAccess[];
  else {
    for (let s = shape.length - 1; s >= 1 && !access; s--) {
      const a = inTypes.map((t) => classify(t.shape, shape, s));
      const w = sizeOf(shape.slice(s));
      // A ragged row ends with an overlapping vector: not in place.
      if (w >= 4 && (w % 4 === 0 || !inputs.includes(output)) && a.every((x) => x !== 'map')) {
        access = a as WasmAccess[];
        inner = w;
      }
    }
  }
  if (!access) return js.run(inputs, output);
  // Scalars of fewer than 64 elements are plain arrays outside the arena: copy to arena scratch.
  const staged = inputs.map((x) => (K.arena.holds(x) ? null : K.arena.f32(Math.max(1, x.length))));
  const ptrs = [...inputs.map((x, k) => (staged[k] ?? x).byteOffset), output.byteOffset];
  const id = K.mapKernel(groupKey(group, access), () => elementwiseModule(group, access!, K.arena.maxPages));
  const scalars = inputs.map((x, k) => [x, staged[k]] as const).filter(([, st]) => st !== null) as [
    TypedArray,
    Float32Array,
  ][];
  const bound = K.bindMap(id, ptrs, inner);
  if (inner > 0) {
    const rows = n / inner;
    const perChunk = Math.max(1, Math.floor(PER_CHUNK / inner));
    return () => {
      for (let q = 0; q < scalars.length; q++) scalars[q]![1][0] = scalars[q]![0][0]!;
      K.map(id, bound, 0, rows, inner, ptrs, perChunk, 1);
    };
  }
  const n4 = n & ~3;
  const tail = n4 < n ? js.run(inputs, output, n4) : null;
  return () => {
    for (let q = 0; q < scalars.length; q++) scalars[q]![1][0] = scalars[q]![0][0]!;
    K.map(id, bound, 0, n4, 0, ptrs, PER_CHUNK, 4);
    if (tail) tail();
  };
}

/**
 * A SIMD lowering outside the fused tier (an op with its own kernel, as gelu): one module per
 * `key` over whole f32 arrays of one length in the arena; `tail(start)` finishes the last
 * length % 4 elements. null where an array is not in the arena or too short to gain.
 */
export function prepareSimd(
  K: Kernels,
  key: string,
  rule: SimdRule,
  inputs: TypedArray[],
  output: TypedArray,
  tail: (start: number) => () => void,
): (() => void) | null {
  const n = output.length;
  if (n < WASM_MIN || ![...inputs, output].every((x) => x.length === n && K.arena.holds(x))) return null;
  const names = inputs.map((_, k) => `in${k}`);
  const group: FusedGroup = {
    output: 'y',
    inputs: names,
    nodes: [{ name: 'y', op: key, inputs: names, attrs: {}, type: { shape: [n], dtype: 'f32' } }],
  };
  const access = inputs.map((): WasmAccess => 'full');
  const id = K.mapKernel(`simd:${key}`, () => elementwiseModule(group, access, K.arena.maxPages, { [key]: rule }));
  const ptrs = [...inputs.map((x) => x.byteOffset), output.byteOffset];
  const bound = K.bindMap(id, ptrs, 0);
  const n4 = n & ~3;
  const rest = n4 < n ? tail(n4) : null;
  return () => {
    K.map(id, bound, 0, n4, 0, ptrs, SIMD_CHUNK, 4);
    if (rest) rest();
  };
}

/** Elements per chunk for these lowerings: ~50 instructions per vector (gelu), so a thread's share pays for its wake-up well below PER_CHUNK. */
const SIMD_CHUNK = 1 << 16;
