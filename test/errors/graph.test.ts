// Errors in the graph's structure and types: a cycle (naming its nodes and their lines), a
// shape mismatch (saying both shapes), the wrong number of inputs, a bad op attribute.

import { describe, expect, it } from 'vitest';
import { ArityError, AttrError, CycleError, ShapeError } from '../../runtime/index.js';
import { expectUserError } from './expect-error.js';

describe('graph structure and types', () => {
  it('cycle: a -> b -> c -> a, reported at its first node with every node and line', async () => {
    const [e] = await expectUserError('cycle.yaml', { cls: CycleError, line: 7, col: 5, node: 'a' });
    expect(e!.message).toContain('"a" (line 7)');
    expect(e!.message).toContain('"b" (line 8)');
    expect(e!.message).toContain('"c" (line 9)');
    expect(e!.message).not.toContain('"start"');
  });

  it('shape mismatch: matmul of [batch, 3] and [2, 4] names both shapes', async () => {
    const [e] = await expectUserError('shape-mismatch.yaml', {
      cls: ShapeError,
      line: 8,
      col: 5,
      node: 'fc1',
      message: /inner dimensions differ/,
    });
    expect(e!.message).toMatch(/\[1, 3\]|\[batch, 3\]/);
    expect(e!.message).toContain('[2, 4]');
    expect(e!.message).toContain('3 vs 2');
  });

  it('wrong arity: add with three inputs', async () => {
    await expectUserError('arity.yaml', {
      cls: ArityError,
      line: 6,
      col: 5,
      node: 'total',
      message: /add takes 2 inputs, got 3/,
    });
  });

  it('bad op attribute: transpose_b: "yes please", at the value', async () => {
    await expectUserError('bad-attr.yaml', {
      cls: AttrError,
      line: 8,
      col: 64,
      node: 'y',
      message: /transpose_b must be boolean/,
    });
  });
});
