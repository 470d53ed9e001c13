// Random initialisers: the YAML forms (uniform, normal, Xavier/Glorot and He/Kaiming, uniform
// and normal) reduced at resolve time to a seeded uniform or normal distribution with PyTorch's
// fans and gains (docs/init.md). Drawing the values is train/init.ts's job.

import type { FanSpec, KaimingSpec, RandomInitSpec } from '../load/doc.js';
import type { Init } from '../load/model.js';

/** Elements of a shape (kept here: the resolver builds no IR and imports none of it). */
function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
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
