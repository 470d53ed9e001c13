// `batch` kept symbolic: a graph is typed once with dims that may follow the batch size
// (batch, 2*batch, batch+3), bound to numbers only for a plan. Shape rules decide what holds
// at every batch size, report what cannot be decided at the node, and the reverse graph built
// once gives the right gradients at any batch size.

import { describe, expect, it } from 'vitest';
import { buildStats, compile, parseGraph, predict, resetBuildStats } from '../runtime/index.js';
import { BATCH, BatchDim, dimAdd, dimDiv, dimMul, dimToString, sizeOfDims } from '../runtime/ir/dim.js';
import { shapeStr } from '../runtime/ir/types.js';
import { Program } from '../runtime/compile/program.js';
import { GraphErrors } from '../runtime/errors.js';

describe('symbolic dims', () => {
  it('are linear forms, interned: === compares them', () => {
    expect(dimMul(BATCH, 2)).toBe(BatchDim.of(2, 0));
    expect(dimAdd(BATCH, 3)).toBe(BatchDim.of(1, 3));
    expect(dimDiv(dimMul(BATCH, 6), BATCH)).toBe(6);
    expect(dimDiv(dimMul(BATCH, 6), 3)).toBe(dimMul(BATCH, 2));
    expect(dimDiv(dimAdd(BATCH, 1), 2)).toBeUndefined();
    expect(sizeOfDims([BATCH, 2, 3])).toBe(BatchDim.of(6, 0));
    expect(() => dimMul(BATCH, BATCH)).toThrow(/squares the batch/);
    expect(shapeStr([BATCH, dimMul(BATCH, 2), dimAdd(BATCH, -1), 4])).toBe('[batch, 2*batch, batch-1, 4]');
    expect(dimToString(BatchDim.of(-1, 0))).toBe('-batch');
  });
});

const folded = `
inputs: {x: {shape: [batch, 2]}}
params: {w: {shape: [2], init: 0.5}}
nodes:
  - {name: y, op: mul, inputs: [x, w]}
  - {name: both, op: concat, inputs: [y, x], attrs: {axis: 0}}
  - {name: flat, op: reshape, inputs: [both], attrs: {shape: [-1]}}
  - {name: rows, op: reshape, inputs: [flat], attrs: {shape: [batch, 4]}}
  - {name: loss, op: mean, inputs: [flat]}
outputs: [rows, loss]
`;

describe('a graph typed once with batch symbolic', () => {
  it('types reshape, concat and broadcasting over the batch', () => {
    const built = Program.of(parseGraph(folded)).symbolicForward();
    expect(built.errors).toEqual([]);
    const shape = (n: string) => shapeStr(built.graph.node(n).type.shape);
    expect(shape('y')).toBe('[batch, 2]');
    expect(shape('both')).toBe('[2*batch, 2]');
    expect(shape('flat')).toBe('[4*batch]');
    expect(shape('rows')).toBe('[batch, 4]');
    expect(shape('loss')).toBe('[]');
  });

  it('is bound per batch size without being built again', () => {
    const s = compile(parseGraph(folded));
    resetBuildStats();
    const a = predict(s, {
      x: [
        [1, 2],
        [3, 4],
      ],
    });
    const b = predict(s, {
      x: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
    });
    expect(a.rows!.shape).toEqual([2, 4]);
    expect(b.rows!.shape).toEqual([3, 4]);
    // y = x * 0.5, then x: rows of flat [y0, y1, x0, x1]...
    expect(Array.from(a.rows!.data)).toEqual([0.5, 1, 1.5, 2, 1, 2, 3, 4]);
    expect(b.loss!.data[0]).toBeCloseTo((1.5 * 21) / 12, 6);
    const stats = buildStats();
    expect(Object.keys(stats).filter((k) => k.startsWith('graph'))).toEqual([]);
    expect(stats['plan forward batch 2']).toBe(1);
    expect(stats['plan forward batch 3']).toBe(1);
  });

  it('a reverse graph built once sums over the batch and divides by it at each batch size', () => {
    // d mean(concat(x*w, x)) / d w = sum over rows of x / (4*batch).
    const at = (xs: number[][]) => {
      const g = compile(parseGraph(`${folded}feed: {x: ${JSON.stringify(xs)}}\ngradients: {of: loss, wrt: [w]}\n`), {
        dtype: 'f64',
      }).gradients();
      return Array.from(g.w!.data);
    };
    expect(
      at([
        [1, 2],
        [3, 4],
      ]),
    ).toEqual([4 / 8, 6 / 8]);
    expect(
      at([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    ).toEqual([9 / 12, 12 / 12]);
    expect(at([[7, 9]])).toEqual([7 / 4, 9 / 4]);
  });

  it('what cannot hold at every batch size is a shape error at the node, written as the model writes it', () => {
    let err: unknown;
    try {
      parseGraph(`
inputs: {x: {shape: [batch, 3]}}
params: {m: {shape: [3, 3], init: 1}}
nodes:
  - {name: bad, op: add, inputs: [x, m]}
outputs: [bad]
`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphErrors);
    const e = (err as GraphErrors).errors[0]!;
    expect(e.nodeName).toBe('bad');
    expect(e.loc?.line).toBe(5);
    expect(e.message).toContain('[batch, 3] and [3, 3] do not broadcast');
    expect(e.message).toContain('batch vs 3');
  });
});
