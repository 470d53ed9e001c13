// Seeded randomness, the same on every machine and backend: the Threefry-2x32 counter-based
// generator (20 rounds; Salmon et al., SC'11, as in JAX and Random123), the named streams built
// on it (initialisers, shuffling, dropout; docs/init.md) and the dropout op. A counter-based
// generator has no state to carry: value i of a stream is a pure function of (seed, stream, i),
// so a dropout mask can be recomputed by its gradient and by a reference script in any language.

import { RuleError } from '../errors.js';
import { isFloat } from '../ir/types.js';
import { defineOp, type OpDef, type WgslGen } from './op.js';
import { f32, u32 } from './wgsl.js';
import { Type } from './attrs.js';

const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

/** Threefry-2x32-20 of the counter (c0, c1) under the key (k0, k1): two uint32 words. */
export function threefry2x32(k0: number, k1: number, c0: number, c1: number): [number, number] {
  const ks = [k0 >>> 0, k1 >>> 0, (0x1bd11bda ^ k0 ^ k1) >>> 0];
  let x0 = (c0 + ks[0]!) >>> 0;
  let x1 = (c1 + ks[1]!) >>> 0;
  for (let block = 0; block < 5; block++) {
    const rot = block % 2 === 0 ? 0 : 4;
    for (let r = 0; r < 4; r++) {
      x0 = (x0 + x1) >>> 0;
      const s = ROT[rot + r]!;
      x1 = ((x1 << s) | (x1 >>> (32 - s))) >>> 0;
      x1 = (x1 ^ x0) >>> 0;
    }
    // Key injection after every four rounds.
    const i = block + 1;
    x0 = (x0 + ks[i % 3]!) >>> 0;
    x1 = (x1 + ks[(i + 1) % 3]! + i) >>> 0;
  }
  return [x0, x1];
}

/** FNV-1a (32-bit) of a string's UTF-16 code units: turns a stream name into a key word. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A named random stream under a seed: key = (seed mod 2^32, fnv1a32(name)). */
export class Stream {
  readonly k0: number;
  readonly k1: number;
  constructor(
    seed: number,
    readonly name: string,
  ) {
    this.k0 = seed >>> 0;
    this.k1 = fnv1a32(name);
  }

  /** A double in [0, 1) with 53 random bits, from counter (i, j). */
  uniform(i: number, j: number): number {
    const [a, b] = threefry2x32(this.k0, this.k1, i, j);
    // The usual 53-bit construction: 27 high bits of a, 26 of b.
    return ((a >>> 5) * 67108864 + (b >>> 6)) / 9007199254740992;
  }

  /** A standard normal for element i (Box–Muller on counters (i, 1) and (i, 2)). */
  normal(i: number): number {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const u1 = 1 - this.uniform(i, 1);
    const u2 = this.uniform(i, 2);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/** The order of `n` samples in epoch `epoch`: Fisher–Yates driven by stream "shuffle". */
export function shuffledOrder(seed: number, n: number, epoch: number, out = new Int32Array(n)): Int32Array {
  const s = new Stream(seed, 'shuffle');
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(s.uniform(i, epoch) * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

/**
 * Element i of a dropout mask at training step `step` (1-based) is kept when
 * uniform(i, step) of stream "dropout:<stream>" is below 1 - p.
 */
function fillMask(mask: Uint8Array, seed: number, stream: string, p: number, step: number): void {
  const s = new Stream(seed, `dropout:${stream}`);
  const keep = 1 - p;
  for (let i = 0; i < mask.length; i++) mask[i] = s.uniform(i, step) < keep ? 1 : 0;
}

const dropoutAttrs = Type.Object(
  {
    p: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      description: 'Probability of zeroing an element (training only).',
      examples: [0.1, 0.5],
    }),
    seed: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "Seed of the mask stream; the graph's `seed` when absent (set by the loader).",
        examples: [42],
      }),
    ),
    stream: Type.Optional(
      Type.String({
        description: "Name of the mask stream; the node's name when absent (set by the loader).",
        examples: ['drop1'],
      }),
    ),
  },
  { additionalProperties: false },
);

/** The step input: 0 outside training (dropout is the identity), else the 1-based step. */
function stepOf(v: number): number {
  return Math.round(v);
}

/** One kernel for dropout and its gradient: both are x -> mask * x / (1 - p). */
const dropoutKernel: OpDef['cpu'] = ({ inputs, output, attrs }) => {
  const x = inputs[0]!,
    stepBuf = inputs[1]!;
  const p = attrs.p as number,
    seed = (attrs.seed as number | undefined) ?? 0;
  const stream = (attrs.stream as string | undefined) ?? 'dropout';
  const n = output.length;
  // PyTorch scales kept elements by 1/(1-p) so the expected value is unchanged.
  const scale = 1 / (1 - p);
  const mask = new Uint8Array(n);
  let maskStep = -1;
  return () => {
    const step = stepOf(stepBuf[0]!);
    if (step <= 0 || p === 0) {
      output.set(x);
      return;
    }
    // The forward and gradient kernels of one step share (seed, stream, step): the same mask.
    if (step !== maskStep) {
      fillMask(mask, seed, stream, p, step);
      maskStep = step;
    }
    for (let i = 0; i < n; i++) output[i] = mask[i] ? x[i]! * scale : 0;
  };
};

/** Threefry-2x32-20 in WGSL, word for word the function above. */
export const WGSL_THREEFRY = `fn rotl(x: u32, s: u32) -> u32 { return (x << s) | (x >> (32u - s)); }
fn threefry2x32(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {
  var ks = array<u32, 3>(k0, k1, 0x1bd11bdau ^ k0 ^ k1);
  var rot = array<u32, 8>(${ROT.map((r) => `${r}u`).join(', ')});
  var x0 = c0 + k0;
  var x1 = c1 + k1;
  for (var block = 0u; block < 5u; block = block + 1u) {
    let base = select(4u, 0u, block % 2u == 0u);
    for (var r = 0u; r < 4u; r = r + 1u) {
      x0 = x0 + x1;
      x1 = rotl(x1, rot[base + r]) ^ x0;
    }
    let i = block + 1u;
    x0 = x0 + ks[i % 3u];
    x1 = x1 + ks[(i + 1u) % 3u] + i;
  }
  return vec2<u32>(x0, x1);
}`;

/**
 * WGSL dropout: the CPU's mask bit for bit. Stream.uniform(i, step) < 1 - p compares the 53-bit
 * integer (a >> 5)·2^26 + (b >> 6) with (1 - p)·2^53; WGSL has no f64, so the threshold is
 * split into its high 27 bits and the ceiling of the rest, and the comparison done on u32s.
 */
const dropoutWgsl: WgslGen = ({ outType, attrs }) => {
  const p = attrs.p as number,
    seed = (attrs.seed as number | undefined) ?? 0;
  const s = new Stream(seed, `dropout:${(attrs.stream as string | undefined) ?? 'dropout'}`);
  const t = (1 - p) * 9007199254740992;
  const hi = Math.floor(t / 67108864),
    lo = Math.ceil(t - hi * 67108864);
  const body = [
    'let step = i32(round(in1[0]));',
    `if (step <= 0${p === 0 ? ' || true' : ''}) { out[i] = in0[i]; return; }`,
    `let h = threefry2x32(${u32(s.k0)}, ${u32(s.k1)}, i, u32(step));`,
    'let a = h.x >> 5u;',
    'let b = h.y >> 6u;',
    `let keep = a < ${u32(hi)} || (a == ${u32(hi)} && b < ${u32(lo)});`,
    `out[i] = select(0.0, in0[i] * ${f32(1 / (1 - p))}, keep);`,
  ].join('\n');
  return { kind: 'map', count: outType.shape.reduce((x, y) => x * y, 1), body, decls: WGSL_THREEFRY };
};

/** The ops this module defines: a name here without a definition below, or the reverse, does not compile. */
export type RandomOpName = 'dropout' | 'dropout_grad';

export const randomOps: { readonly [K in RandomOpName]: OpDef } = {
  dropout: defineOp({
    name: 'dropout',
    doc: 'Zero each element with probability p and scale the rest by 1/(1-p) during training steps; the identity otherwise.',
    // The loader appends the runtime's step counter as the second input.
    group: 'random',
    notes:
      "The loader gives every dropout node a second input, the runtime's step counter (`__step`: the 1-based " +
      'optimizer step during training, 0 in every other run). Element i of the mask at step s is kept when ' +
      "uniform(i, s) of the stream `dropout:<node name>` under the graph's `seed` is below 1 − p " +
      '([init.md](init.md)): forward and gradient recompute the same mask, and a script in any language can ' +
      'too (test/reference/streams.py does).',
    // The exported (inference) graph is the identity: the step counter input is not read.
    onnxReads: 1,
    arity: [1, 2],
    attrs: dropoutAttrs,
    infer: ([x, step]) => {
      if (!isFloat(x!.dtype)) throw new RuleError(`dropout needs a float tensor, got ${x!.dtype}`, 'DTypeError');
      if (!step)
        throw new RuleError('dropout needs the step counter as its second input (the loader adds it)', 'ArityError');
      if (step.shape.length !== 0) throw new RuleError('the second input of dropout is the scalar step counter');
      return { shape: [...x!.shape], dtype: x!.dtype };
    },
    cpu: dropoutKernel,
    wgsl: dropoutWgsl,
    grad: (g, node, dy, needs) => [
      needs[0]
        ? g.op('dropout_grad', [dy, node.inputs[1]!], {
            ...node.attrs,
            stream: (node.attrs.stream as string | undefined) ?? 'dropout',
          })
        : null,
      null,
    ],
    onnx: (c) => void c.emit('Identity', [c.x[0]!], undefined, c.out),
  }),
  dropout_grad: defineOp({
    name: 'dropout_grad',
    doc: 'The gradient of dropout: dy through the same mask (recomputed from seed, stream and step).',
    group: 'helper',
    internal: true,
    arity: 2,
    attrs: dropoutAttrs,
    infer: ([dy]) => ({ shape: [...dy!.shape], dtype: dy!.dtype }),
    // Dropout is linear in x, so its gradient is the same masked scaling applied to dy.
    cpu: dropoutKernel,
    wgsl: dropoutWgsl,
    grad: 'none',
    onnx: 'none',
  }),
};
