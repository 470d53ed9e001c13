// Seeded categorical sampling for generation: logits [..., V] -> i32 ids [...], one draw per row
// from softmax(logits / temperature), optionally restricted to the top_k largest logits. The
// random number of row r at draw counter c is the Threefry stream of ./random.ts (key: the
// graph's seed and "sample:<node name>"), word 0 of threefry(key, r, c) cut to 24 bits, so the CPU
// and the WGSL kernel draw the same u exactly; both then walk the row's cumulative weights in the
// same order. They can only part where u lies within f32 rounding of a cumulative boundary (about
// one draw in 10^6), since the WGSL kernel sums in f32 and the CPU kernel in f64.
// Sampling has no gradient: its output is i32, so no gradient path runs through it.

import { RuleError } from '../errors.js';
import { isFloat, sizeOf, type TypedArray } from '../ir/types.js';
import { Type } from './attrs.js';
import { defineOp, type OpDef } from './op.js';
import { int } from './onnx.js';
import { fnv1a32, threefry2x32, WGSL_THREEFRY } from './random.js';
import { f32, FLOAT_TESTS, u32 } from './wgsl.js';

const sampleAttrs = Type.Object(
  {
    temperature: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description: 'Logits are divided by it before the softmax: below 1 sharper, above 1 flatter; default 1.',
        default: 1,
        examples: [0.8, 1],
      }),
    ),
    top_k: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'Draw only among the k largest logits of each row (all that tie with the k-th are kept).',
        examples: [10],
      }),
    ),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "Seed of the draws; the graph's `seed` when absent (set by the loader).",
        examples: [1],
      }),
    ),
    stream: Type.Optional(
      Type.String({
        description: "Name of the draw stream; the node's name when absent (set by the loader).",
        examples: ['next'],
      }),
    ),
  },
  { additionalProperties: false },
);

interface SampleAttrs {
  temperature?: number;
  top_k?: number;
  seed?: number;
  stream?: string;
}

function key(attrs: SampleAttrs): [number, number] {
  return [(attrs.seed ?? 0) >>> 0, fnv1a32(`sample:${attrs.stream ?? 'sample'}`)];
}

/** u in [0, 1) of row r at counter c: 24 bits, exact in f32 and f64. */
export function sampleUniform(attrs: SampleAttrs, r: number, c: number): number {
  const [k0, k1] = key(attrs);
  return (threefry2x32(k0, k1, r, c)[0] >>> 8) / 16777216;
}

/** The smallest logit kept by top_k: the k-th largest counting ties once per element (kept ties included). */
function kthLargest(x: TypedArray, base: number, len: number, k: number): number {
  let t = Infinity,
    count = 0;
  while (count < k) {
    let v = -Infinity,
      c = 0;
    for (let j = 0; j < len; j++) {
      const e = x[base + j]!;
      if (e < t && e > v) {
        v = e;
        c = 0;
      }
      if (e === v) c++;
    }
    if (c === 0) break;
    t = v;
    count += c;
  }
  return t;
}

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type SampleOpName = 'sample';

export const sampleOps: { readonly [K in SampleOpName]: OpDef } = {
  sample: defineOp({
    name: 'sample',
    doc: 'One i32 id per row of logits [..., V], drawn from softmax(logits / temperature) (top_k: among the k largest), seeded.',
    notes:
      '`sample` draws reproducibly: the draw of row r is u = uniform(r, c) of the stream `sample:<node name>` ' +
      "under the graph's `seed`, c being the optional second input (a scalar draw counter, e.g. the position " +
      'being generated; 0 without it), and the id is the first j whose cumulative probability exceeds u. The ' +
      'CPU and WebGPU draw the same u, so they give the same ids (except where u falls within f32 rounding of ' +
      'a cumulative boundary). It has no gradient: its result is integer, as with argmax; sampled ids cast to ' +
      'a float on the way to a differentiated value are refused at the cast (unless through stop_gradient).',
    group: 'random',
    arity: [1, 2],
    attrs: sampleAttrs,
    infer: ([x, counter]) => {
      if (!isFloat(x!.dtype)) throw new RuleError(`sample needs float logits, got ${x!.dtype}`, 'DTypeError');
      if (x!.shape.length === 0) throw new RuleError('sample needs logits with a class axis (the last)');
      if (counter && counter.shape.length !== 0)
        throw new RuleError('the second input of sample is the scalar draw counter', 'ShapeError');
      return { shape: x!.shape.slice(0, -1), dtype: 'i32' };
    },
    cpu: ({ inputs, output, inTypes, attrs }) => {
      const x = inputs[0]!,
        counter = inputs[1];
      const len = inTypes[0]!.shape.at(-1)!;
      const rowsN = output.length;
      const inv = 1 / (attrs.temperature ?? 1);
      const [k0, k1] = key(attrs);
      return () => {
        const c = counter ? Math.round(counter[0]!) >>> 0 : 0;
        for (let r = 0; r < rowsN; r++) {
          const base = r * len;
          const t = attrs.top_k !== undefined ? kthLargest(x, base, len, attrs.top_k) : -Infinity;
          let m = -Infinity;
          for (let j = 0; j < len; j++) if (x[base + j]! >= t) m = Math.max(m, x[base + j]!);
          let s = 0;
          for (let j = 0; j < len; j++) if (x[base + j]! >= t) s += Math.exp((x[base + j]! - m) * inv);
          const target = ((threefry2x32(k0, k1, r, c)[0] >>> 8) / 16777216) * s;
          let acc = 0,
            pick = -1;
          for (let j = 0; j < len; j++) {
            if (x[base + j]! < t) continue;
            pick = j;
            acc += Math.exp((x[base + j]! - m) * inv);
            if (acc > target) break;
          }
          output[r] = pick;
        }
      };
    },
    wgsl: ({ inTypes, outType, attrs }) => {
      const len = inTypes[0]!.shape.at(-1)!;
      const [k0, k1] = key(attrs);
      const x = (j: string) => `in0[base + ${j}]`;
      const body = [
        `let base = i * ${u32(len)};`,
        `var t = ${f32(-Infinity)};`,
        ...(attrs.top_k !== undefined
          ? [
              // The k-th largest, counting ties, as the CPU's kthLargest.
              `t = ${f32(Infinity)};`,
              'var count = 0u;',
              `while (count < ${u32(attrs.top_k)}) {`,
              `  var v = ${f32(-Infinity)};`,
              '  var c = 0u;',
              `  for (var j = 0u; j < ${u32(len)}; j = j + 1u) { let e = ${x('j')}; if (e < t && e > v) { v = e; c = 0u; } if (e == v) { c = c + 1u; } }`,
              '  if (c == 0u) { break; }',
              '  t = v;',
              '  count = count + c;',
              '}',
            ]
          : []),
        `var m = ${f32(-Infinity)};`,
        `for (var j = 0u; j < ${u32(len)}; j = j + 1u) { if (${x('j')} >= t) { m = max(m, ${x('j')}); } }`,
        'var s = 0.0;',
        `for (var j = 0u; j < ${u32(len)}; j = j + 1u) { if (${x('j')} >= t) { s = s + exp((${x('j')} - m) * ${f32(1 / (attrs.temperature ?? 1))}); } }`,
        inTypes[1] ? 'let ctr = u32(i32(round(f32(in1[0]))));' : 'let ctr = 0u;',
        `let u = f32(threefry2x32(${u32(k0)}, ${u32(k1)}, i, ctr).x >> 8u) / 16777216.0;`,
        'let goal = u * s;',
        'var acc = 0.0;',
        'var pick = -1;',
        `for (var j = 0u; j < ${u32(len)}; j = j + 1u) {`,
        `  if (${x('j')} < t) { continue; }`,
        '  pick = i32(j);',
        `  acc = acc + exp((${x('j')} - m) * ${f32(1 / (attrs.temperature ?? 1))});`,
        '  if (acc > goal) { break; }',
        '}',
        'out[i] = pick;',
      ].join('\n');
      return { kind: 'map', count: sizeOf(outType.shape), body, decls: `${WGSL_THREEFRY}\n${FLOAT_TESTS}` };
    },
    grad: 'none',
    // ONNX's Multinomial draws from the runtime's own generator: the same distribution (temperature
    // and top_k applied first), not the same ids.
    onnx: (c) => {
      const dtype = c.types[0]!.dtype;
      const len = c.types[0]!.shape.at(-1)!;
      if (typeof len !== 'number') c.fail('sample: the class axis must have a fixed size to export');
      let z = c.emit('Div', [c.x[0]!, c.scalar(c.node.attrs.temperature ?? 1, dtype)]);
      if (c.node.attrs.top_k !== undefined) {
        // Kept: fewer than k logits of the row are strictly larger (the kernels' rule, ties kept).
        const col = c.emit('Unsqueeze', [z, c.i64([-1], 'col')]);
        const row = c.emit('Unsqueeze', [z, c.i64([-2], 'row')]);
        const larger = c.emit('Cast', [c.emit('Greater', [row, col])], { to: int(c.elemType(dtype)) });
        const count = c.emit('ReduceSum', [larger, c.i64([-1], 'axis')], { keepdims: int(0) });
        const keep = c.emit('Less', [count, c.scalar(c.node.attrs.top_k, dtype)]);
        const lowest = c.scalar(dtype === 'f64' ? -Number.MAX_VALUE : -3.4028234663852886e38, dtype);
        z = c.emit('Where', [keep, z, lowest]);
      }
      const flat = c.emit('Reshape', [z, c.i64([-1, len as number], 'rows')]);
      const drawn = c.emit('Multinomial', [flat], {
        dtype: int(c.elemType('i32')),
        sample_size: int(1),
        seed: { kind: 'float', value: c.node.attrs.seed ?? 0 },
      });
      const outShape = c.emit('Slice', [
        c.emit('Shape', [c.x[0]!]),
        c.i64([0], 'shape_start'),
        c.i64([-1], 'shape_end'),
        c.i64([0], 'shape_axes'),
      ]);
      c.emit('Reshape', [drawn, outShape], undefined, c.out);
    },
  }),
};
