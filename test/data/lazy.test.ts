// The resolve stage reads graph files only; data and initial-value files are read by the data
// readers when a later stage asks, once per model, through the IO the model was loaded with.
import { describe, expect, it } from 'vitest';
import { checkInitFiles, trainingSets } from '../../runtime/data/index.js';
import { nodeIO } from '../../runtime/load/node-io.js';
import type { LoaderIO } from '../../runtime/load/io.js';
import { resolveGraph } from '../../runtime/resolve/index.js';
import { compile, parseGraph } from '../../runtime/index.js';

const graph = `graph-run: 1
inputs: {x: {shape: [batch, 2]}, y: {shape: [batch, 1]}}
params:
  w: {shape: [1, 2], init: {file: w.json}}
nodes:
  - {name: pred, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
outputs: [pred]
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: {file: data.csv, columns: {x: [a, b], y: [y]}}
  epochs: 1
  batch_size: 2
`;

/** The graph's files in memory (graph-run's own library from disk), counting reads per path. */
function countingIO(): { io: LoaderIO; reads: Map<string, number> } {
  const files: Record<string, string> = { 'g.yaml': graph, 'w.json': '[[1, 2]]', 'data.csv': 'a,b,y\n1,2,3\n4,5,6\n' };
  const disk = nodeIO();
  const reads = new Map<string, number>();
  return {
    reads,
    io: {
      resolve: (from, spec) => (spec.startsWith('std:') ? disk.resolve(from, spec) : spec),
      read: (p) => {
        reads.set(p, (reads.get(p) ?? 0) + 1);
        return files[p] ?? disk.read(p);
      },
    },
  };
}

describe('data is read on demand', () => {
  it('resolving reads graph files only; the model describes its data and keeps its IO', () => {
    const { io, reads } = countingIO();
    const { model, errors } = resolveGraph('g.yaml', undefined, io);
    expect(errors).toEqual([]);
    expect([...reads.keys()].filter((p) => p in { 'g.yaml': 1, 'w.json': 1, 'data.csv': 1 })).toEqual(['g.yaml']);
    expect(model!.io).toBe(io);
    expect(model!.training!.data).toMatchObject({
      kind: 'file',
      path: 'data.csv',
      columns: { x: ['a', 'b'], y: ['y'] },
    });
    expect(model!.params[0]!.init).toMatchObject({ kind: 'file', path: 'w.json' });
  });
  it('the data readers read each file once per model and report the same rows every time', () => {
    const { io, reads } = countingIO();
    const { model } = resolveGraph('g.yaml', undefined, io);
    const first = trainingSets(model!, []);
    const again = trainingSets(model!, []);
    expect(checkInitFiles(model!, [])).toBe(true);
    expect(Array.from(first.train!.get('x')!.values)).toEqual([1, 2, 4, 5]);
    expect(Array.from(again.train!.get('y')!.values)).toEqual([3, 6]);
    expect(reads.get('data.csv')).toBe(1);
    expect(reads.get('w.json')).toBe(1);
  });
  it('a session initialises file parameters from the file', () => {
    const { io } = countingIO();
    const s = compile(parseGraph(graph, 'g.yaml', io));
    expect(Array.from(s.parameters().w!.data)).toEqual([1, 2]);
  });
});
