// Parameter initialisers: the YAML `init:` forms (constant, values, file, uniform, normal,
// Xavier/Glorot and He/Kaiming, uniform and normal) reduced at load time to a constant, explicit
// values, or a seeded uniform/normal distribution; and the values themselves, drawn from the
// named stream "init:<parameter>" (docs/init.md), so a seed gives the same numbers everywhere.

import type { Init, ParamDecl } from '../load/model.js';
import { Stream } from '../ops/random.js';
import { sizeOf } from '../ir/types.js';

/** The YAML forms of a random initialiser (values and files are handled by the loader). */
export interface RandomInitSpec {
  uniform?: { low?: number; high?: number };
  normal?: { mean?: number; std?: number };
  xavier_uniform?: FanSpec & { gain?: number };
  xavier_normal?: FanSpec & { gain?: number };
  kaiming_uniform?: FanSpec & KaimingSpec;
  kaiming_normal?: FanSpec & KaimingSpec;
}

interface FanSpec {
  fan_in?: number;
  fan_out?: number;
}

interface KaimingSpec {
  a?: number;
  mode?: 'fan_in' | 'fan_out';
  nonlinearity?: 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
}

export const randomInitKinds = [
  'uniform',
  'normal',
  'xavier_uniform',
  'xavier_normal',
  'kaiming_uniform',
  'kaiming_normal',
] as const;

/**
 * PyTorch's fans: for a weight of shape [out, in, ...rest], fan_in = in * prod(rest) and
 * fan_out = out * prod(rest) (nn.Linear's layout). Explicit fan_in / fan_out override them.
 */
function fans(shape: number[], spec: FanSpec): { fanIn: number; fanOut: number } | string {
  if (spec.fan_in !== undefined && spec.fan_out !== undefined) return { fanIn: spec.fan_in, fanOut: spec.fan_out };
  if (shape.length < 2)
    return `fans are defined for tensors with at least 2 axes ([out, in, ...]); give fan_in and fan_out for shape [${shape.join(', ')}]`;
  const rf = sizeOf(shape.slice(2));
  return { fanIn: spec.fan_in ?? shape[1]! * rf, fanOut: spec.fan_out ?? shape[0]! * rf };
}

/** torch.nn.init.calculate_gain. */
function gain(nonlinearity: KaimingSpec['nonlinearity'], a: number): number {
  switch (nonlinearity ?? 'leaky_relu') {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu':
      return Math.sqrt(2 / (1 + a * a));
    case 'selu':
      return 3 / 4;
    default:
      return 1;
  }
}

/** The distribution a random initialiser stands for, or an error message. */
export function randomInit(spec: RandomInitSpec, shape: number[]): Init | string {
  if (spec.uniform) {
    const low = spec.uniform.low ?? 0,
      high = spec.uniform.high ?? 1;
    if (!(low < high)) return `uniform needs low < high, got [${low}, ${high})`;
    return { kind: 'random', dist: 'uniform', a: low, b: high };
  }
  if (spec.normal) {
    const std = spec.normal.std ?? 1;
    if (!(std >= 0)) return `normal needs std >= 0, got ${std}`;
    return { kind: 'random', dist: 'normal', a: spec.normal.mean ?? 0, b: std };
  }
  const x = spec.xavier_uniform ?? spec.xavier_normal;
  if (x) {
    const f = fans(shape, x);
    if (typeof f === 'string') return f;
    const std = (x.gain ?? 1) * Math.sqrt(2 / (f.fanIn + f.fanOut));
    if (spec.xavier_uniform) {
      const bound = Math.sqrt(3) * std;
      return { kind: 'random', dist: 'uniform', a: -bound, b: bound };
    }
    return { kind: 'random', dist: 'normal', a: 0, b: std };
  }
  const k = spec.kaiming_uniform ?? spec.kaiming_normal;
  if (k) {
    const f = fans(shape, k);
    if (typeof f === 'string') return f;
    const fan = (k.mode ?? 'fan_in') === 'fan_in' ? f.fanIn : f.fanOut;
    const std = gain(k.nonlinearity, k.a ?? 0) / Math.sqrt(fan);
    if (spec.kaiming_uniform) {
      const bound = Math.sqrt(3) * std;
      return { kind: 'random', dist: 'uniform', a: -bound, b: bound };
    }
    return { kind: 'random', dist: 'normal', a: 0, b: std };
  }
  return 'unknown initialiser';
}

/**
 * A parameter's initial values (in f64; an f32 buffer rounds each to nearest on store).
 * @example initialValues(model.params[0], model.seed ?? 0)
 */
export function initialValues(p: ParamDecl, seed: number): ArrayLike<number> {
  const n = sizeOf(p.shape);
  const init = p.init;
  switch (init.kind) {
    case 'constant':
      return new Float64Array(n).fill(init.value);
    case 'values':
      return init.values;
    case 'random': {
      const s = new Stream(seed, `init:${p.name}`);
      const out = new Float64Array(n);
      if (init.dist === 'uniform') for (let i = 0; i < n; i++) out[i] = init.a + (init.b - init.a) * s.uniform(i, 0);
      else for (let i = 0; i < n; i++) out[i] = init.a + init.b * s.normal(i);
      return out;
    }
    default:
      return init satisfies never;
  }
}
