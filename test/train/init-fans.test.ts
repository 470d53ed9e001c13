// Initialisers on 1-D parameters (biases): PyTorch computes no fans for them, so graph-run asks
// only for the fans the initialiser uses (Kaiming: its mode's; Xavier: both) and then gives
// PyTorch's bound / std for a weight with those fans (test/reference/init_fans.py). The error
// names the parameter as a parameter, at its `init:`, with a hint.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AttrError, parseGraph } from '../../runtime/index.js';
import { randomInit, type RandomInitSpec } from '../../runtime/train/init.js';
import { expectErrorMatches } from '../errors/expect-error.js';

interface Case {
  shape: number[];
  kind: string;
  spec: Record<string, unknown>;
  dist: string;
  a: number;
  b: number;
}
const ref = JSON.parse(readFileSync(new URL('../reference/init_fans.json', import.meta.url), 'utf8')) as {
  refused_1d: Record<string, boolean>;
  cases: Case[];
};

const graph = (init: string) => `graph-run: 1
inputs:
  x: {shape: [batch, 4]}
params:
  w: {shape: [3, 4], init: {kaiming_uniform: {}}}
  b: {shape: [3], init: ${init}}
nodes:
  - {name: z, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
  - {name: o, op: add, inputs: [z, b]}
outputs: [o]
`;

const errorsOf = (text: string) => {
  try {
    parseGraph(text, 'net.yaml');
  } catch (e) {
    return (e as { errors: never[] }).errors;
  }
  throw new Error('loaded without errors');
};

describe('fans of 1-D parameters', () => {
  it.each(ref.cases.map((c) => [`${c.kind} ${JSON.stringify(c.spec)} [${c.shape}]`, c] as const))(
    "%s: PyTorch's bound / std for a weight with those fans",
    (_n, c) => {
      const r = randomInit({ [c.kind]: c.spec } as RandomInitSpec, c.shape) as { dist: string; a: number; b: number };
      expect(typeof r).toBe('object');
      expect(r.dist).toBe(c.dist);
      expect(r.a).toBeCloseTo(c.a, 14);
      expect(r.b).toBeCloseTo(c.b, 14);
    },
  );
  it('kaiming in fan_in mode needs only fan_in; a missing fan is refused as PyTorch refuses 1-D tensors', () => {
    expect(Object.values(ref.refused_1d).every((x) => x)).toBe(true);
    expect(randomInit({ kaiming_uniform: { fan_in: 4 } }, [3])).toMatchObject({ dist: 'uniform' });
    expect(randomInit({ kaiming_normal: { mode: 'fan_out', fan_out: 3 } }, [3])).toMatchObject({ dist: 'normal' });
    expect(randomInit({ kaiming_uniform: {} }, [3])).toMatch(/kaiming_uniform \(mode fan_in\) needs fan_in for/);
    expect(randomInit({ kaiming_normal: { mode: 'fan_out', fan_in: 4 } }, [3])).toMatch(/needs fan_out for/);
    expect(randomInit({ xavier_uniform: { fan_in: 4 } }, [3])).toMatch(/xavier_uniform needs fan_out for/);
  });
  it('a graph whose bias has kaiming_uniform without fan_in: one error naming the parameter, with a hint', () => {
    const errors = errorsOf(graph('{kaiming_uniform: {}}'));
    expect(errors).toHaveLength(1);
    expectErrorMatches(
      errors[0]!,
      { cls: AttrError, line: 6, col: 25, message: /parameter "b"/, hint: /fan_in/ },
      'net.yaml',
    );
    expect((errors[0] as { nodeName?: string }).nodeName).toBeUndefined();
    expect(String((errors[0] as Error).message)).not.toMatch(/fan_out/);
  });
  it('a graph whose bias gives its layer fan_in loads', () => {
    expect(() => parseGraph(graph('{kaiming_uniform: {fan_in: 4}}'))).not.toThrow();
  });
});
