// All errors in a file are reported, in file order, not just the first: an unknown name, a
// shape mismatch, an unknown op and a wrong arity in four different nodes.

import { describe, expect, it } from 'vitest';
import { ArityError, NameError, ShapeError } from '../../runtime/index.js';
import { cli, expectErrorMatches, fixture, loadErrors, STACK } from './expect-error.js';

describe('several errors in one file', () => {
  it('reports all four, each with its class, position and node', async () => {
    const file = fixture('several.yaml');
    const errors = loadErrors(file);
    expect(errors).toHaveLength(4);
    expectErrorMatches(errors[0]!, { cls: NameError, line: 8, col: 33, node: 'a', hint: /did you mean "x"/ }, file);
    expectErrorMatches(errors[1]!, { cls: ShapeError, line: 9, col: 5, node: 'b', message: /\[2\] and \[3\]/ }, file);
    expectErrorMatches(errors[2]!, { cls: NameError, line: 10, col: 19, node: 'c', hint: /did you mean "tanh"/ }, file);
    expectErrorMatches(errors[3]!, { cls: ArityError, line: 11, col: 5, node: 'd' }, file);
    const r = await cli([file]);
    expect(r.code).toBe(1);
    const lines = r.err.split('\n').filter((l) => l.startsWith(file));
    expect(lines.map((l) => l.split(': ')[0])).toEqual([
      `${file}:8:33`,
      `${file}:9:5`,
      `${file}:10:19`,
      `${file}:11:5`,
    ]);
    expect(r.err).toMatch(/^4 errors$/m);
    expect(r.err).not.toMatch(STACK);
  });
});

describe('several errors in one node', () => {
  it('an unknown op and an unknown input are both reported, each at its position', async () => {
    const file = fixture('op-and-input.yaml');
    const errors = loadErrors(file);
    expect(errors).toHaveLength(2);
    expectErrorMatches(errors[0]!, { cls: NameError, line: 6, col: 19, node: 'h', hint: /did you mean "tanh"/ }, file);
    expectErrorMatches(errors[1]!, { cls: NameError, line: 6, col: 35, node: 'h', hint: /did you mean "x"/ }, file);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^2 errors$/m);
    expect(r.err).not.toMatch(STACK);
  });
});
