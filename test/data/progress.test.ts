// Loading progress: the data stage tells the LoaderIO's `progress` how far a streamed data file
// has been read (from 0 when it opens, to its size, then once with `done`), and the CLI draws a
// line from that on a terminal's stderr once loading takes over a second — never under --quiet
// or --json, nor when stderr is not a terminal.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../runtime/cli/main.js';
import { type LoaderIO, loadGraph, nodeIO, readDataset, type Terminal } from '../../runtime/index.js';
import { scratch } from '../hardening/helpers.js';

const graph = (file: string) => `graph-run: 1
inputs:
  x: {shape: [batch, 3]}
  y: {shape: [batch], dtype: i32}
params:
  w: {shape: [2, 3], init: 0.1}
nodes:
  - {name: logits, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
outputs: [logits]
loss: {graph: std:losses/cross_entropy.yaml, inputs: {pred: logits, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: {file: ${file}${file.endsWith('.csv') ? ', columns: {x: x0..x2}' : ''}}
  epochs: 1
  batch_size: 4
`;

const rows = (n: number) => Array.from({ length: n }, (_, i) => `${i / 7},${i % 3},0.25,${i % 2}`);
const csv = (n: number) => `x0,x1,x2,y\n${rows(n).join('\n')}\n`;
// A JSON file past the positioned reader's size (2 MiB): the streamed reader.
const json = (n: number) =>
  `{"x": [${Array.from({ length: n }, (_, i) => `[${i / 7}, ${i % 3}, 0.25]`).join(', ')}], "y": [${Array.from({ length: n }, (_, i) => i % 2).join(', ')}]}`;

type Call = [path: string, bytes: number, total: number, done: boolean];

function recording(): { io: LoaderIO; calls: Call[] } {
  const calls: Call[] = [];
  return { io: { ...nodeIO(), progress: (...c) => void calls.push(c) }, calls };
}

function expectProgress(calls: Call[], size: number): void {
  expect(calls.length).toBeGreaterThanOrEqual(2);
  expect(calls[0]!.slice(1)).toEqual([0, size, false]);
  expect(calls.at(-1)!.slice(1)).toEqual([size, size, true]);
  expect(calls.filter((c) => c[3])).toHaveLength(1);
  for (let i = 1; i < calls.length; i++) expect(calls[i]![1]).toBeGreaterThanOrEqual(calls[i - 1]![1]);
}

describe('data loading progress', () => {
  it('CSV and large JSON files report bytes read, from 0 to their size, then done', () => {
    for (const [name, text] of [
      ['d.csv', csv(50)],
      ['d.json', json(120_000)],
    ] as const) {
      const dir = scratch({ [name]: text, 'g.yaml': graph(name) });
      const { io, calls } = recording();
      const model = loadGraph(join(dir, 'g.yaml'), io);
      const set = readDataset(model, join(dir, name), io);
      expect(set.rows).toBe(name.endsWith('csv') ? 50 : 120_000);
      expectProgress(calls, Buffer.byteLength(text));
      expect(new Set(calls.map((c) => c[0]))).toEqual(new Set([join(dir, name)]));
    }
  });

  it('a read stopped by an error still ends with done, short of the size', () => {
    const text = `x0,x1,x2,y\n1,2,3,0\n1,oops,3,1\n`;
    const dir = scratch({ 'd.csv': text, 'g.yaml': graph('d.csv') });
    const { io, calls } = recording();
    const model = loadGraph(join(dir, 'g.yaml'), io);
    expect(() => readDataset(model, join(dir, 'd.csv'), io)).toThrow(/oops/);
    expect(calls.at(-1)![3]).toBe(true);
  });
});

describe('the CLI loading line', () => {
  afterEach(() => vi.restoreAllMocks());

  /** `graph-run argv` with stderr a fake terminal, and a clock that moves 1 s at each reading. */
  async function run(argv: string[], isTTY = true): Promise<{ code: number; tty: string; err: string[] }> {
    let t = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => (t += 1000));
    const written: string[] = [];
    const err: string[] = [];
    const term: Terminal = { isTTY, columns: 100, write: (s) => void written.push(s) };
    const code = await main(
      argv,
      () => {},
      (s) => void err.push(s),
      undefined,
      term,
    );
    return { code, tty: written.join(''), err };
  }

  it('draws the line in place while loading takes over a second, and ends it with one line', async () => {
    const dir = scratch({ 'd.csv': csv(40), 'g.yaml': graph('d.csv') });
    const file = join(dir, 'g.yaml');
    const r = await run(['run', file, '--epochs', '1']);
    expect(r.code).toBe(0);
    const size = Buffer.byteLength(csv(40));
    // Each drawing ends by erasing the rest of the line (ESC [K).
    const parts = r.tty.split('\u001b[K');
    expect(parts[0]).toMatch(/^\rloading \S*d\.csv {2}[\d.]+ MiB of [\d.]+ MiB$/);
    expect(parts.at(-2)).toMatch(
      new RegExp(`^\\rloaded \\S*d\\.csv {2}${(size / 1048576).toFixed(1)} MiB in [\\d.]+ s$`),
    );
    expect(parts.at(-1)).toBe('\n');
    expect(r.err.join('\n')).not.toMatch(/loading/);
  });

  it('is silent under --quiet, --json, and when stderr is not a terminal', async () => {
    const dir = scratch({ 'd.csv': csv(40), 'g.yaml': graph('d.csv') });
    const file = join(dir, 'g.yaml');
    for (const [argv, tty] of [
      [['run', file, '--epochs', '1', '--quiet'], true],
      [['run', file, '--epochs', '1', '-q'], true],
      [['run', file, '--epochs', '1', '--json'], true],
      [['run', file, '--epochs', '1'], false],
    ] as const) {
      const r = await run([...argv], tty);
      expect(r.code).toBe(0);
      expect(r.tty).toBe('');
    }
  });
});
