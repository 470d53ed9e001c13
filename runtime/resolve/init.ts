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
 * PyTorch's fans (torch.nn.init._calculate_fan_in_and_fan_out): for a weight of shape
 * [out, in, ...rest], fan_in = in * prod(rest) and fan_out = out * prod(rest) (nn.Linear's
 * layout). Explicit fan_in / fan_out override them. A tensor with fewer than 2 axes has no fans
 * (PyTorch refuses it), so only the fans the initialiser uses must then be given: both for
 * Xavier, the mode's one for Kaiming (a bias takes its layer's fan_in, as nn.Linear's does).
 */
function fans(
  shape: number[],
  spec: FanSpec,
  uses: 'both' | 'fan_in' | 'fan_out',
  what: string,
): { fanIn: number; fanOut: number } | string {
  // Fans named by attributes were bound to numbers when the parameter was resolved (params.ts).
  const given = { fan_in: num(spec.fan_in), fan_out: num(spec.fan_out) };
  if (shape.length < 2) {
    const missing = (['fan_in', 'fan_out'] as const).filter(
      (f) => (uses === 'both' || uses === f) && given[f] === undefined,
    );
    if (missing.length)
      return `fans are defined for tensors with at least 2 axes ([out, in, ...]); ${what} needs ${missing.join(' and ')} for shape [${shape.join(', ')}]`;
    return { fanIn: given.fan_in ?? Number.NaN, fanOut: given.fan_out ?? Number.NaN };
  }
  const rf = sizeOf(shape.slice(2));
  return { fanIn: given.fan_in ?? shape[1]! * rf, fanOut: given.fan_out ?? shape[0]! * rf };
}

const num = (v: number | string | undefined): number | undefined => (typeof v === 'number' ? v : undefined);

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
    const f = fans(shape, x, 'both', spec.xavier_uniform ? 'xavier_uniform' : 'xavier_normal');
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
    const mode = k.mode ?? 'fan_in';
    const f = fans(shape, k, mode, `${spec.kaiming_uniform ? 'kaiming_uniform' : 'kaiming_normal'} (mode ${mode})`);
    if (typeof f === 'string') return f;
    const fan = mode === 'fan_in' ? f.fanIn : f.fanOut;
    const std = gain(k.nonlinearity, k.a ?? 0) / Math.sqrt(fan);
    if (spec.kaiming_uniform) {
      const bound = Math.sqrt(3) * std;
      return { kind: 'random', dist: 'uniform', a: -bound, b: bound };
    }
    return { kind: 'random', dist: 'normal', a: 0, b: std };
  }
  return 'unknown initialiser';
}
