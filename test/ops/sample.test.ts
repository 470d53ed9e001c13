// The `sample` op against its reference (test/reference/sample.py, written from the documented
// algorithm on the same Threefry streams): the same ids for every temperature, top_k and draw
// counter; ids drawn over 4,000 counters whose frequencies follow PyTorch's softmax; the same ids
// on WebGPU as on the CPU (skipped without an adapter, a failure in CI).
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { probeWebGpu } from '../webgpu/device.js';

interface SampleRef {
  seed: number;
  node: string;
  logits: { shape: number[]; data: number[] };
  cases: { temperature: number; top_k: number | null; counter: number; ids: number[][] }[];
  freq: { seed: number; row: number[]; temperature: number; draws: number; probs: number[]; counts: number[] };
}
const ref = JSON.parse(readFileSync(new URL('../reference/sample.json', import.meta.url), 'utf8')) as SampleRef;

function yaml(seed: number, shape: number[], attrs: Record<string, unknown>): string {
  return [
    'graph-run: 1',
    `seed: ${seed}`,
    'inputs:',
    `  x: {shape: ${JSON.stringify(shape)}}`,
    '  c: {shape: []}',
    'nodes:',
    `  - {name: next, op: sample, inputs: [x, c], attrs: ${JSON.stringify(attrs)}}`,
    'outputs: [next]',
    '',
  ].join('\n');
}

const attrsOf = (c: SampleRef['cases'][number]) => ({
  temperature: c.temperature,
  ...(c.top_k !== null ? { top_k: c.top_k } : {}),
});

describe('sample', () => {
  it.each(ref.cases.map((c) => [`T=${c.temperature} top_k=${c.top_k} counter ${c.counter}`, c] as const))(
    'draws the reference ids (%s)',
    (_n, c) => {
      const s = new Session(parseGraph(yaml(ref.seed, ref.logits.shape, attrsOf(c)), 'sample.yaml'), { dtype: 'f64' });
      const y = s.run(
        new Map([
          ['x', ref.logits.data],
          ['c', [c.counter]],
        ]),
        1,
      ).next!;
      expect(y.dtype).toBe('i32');
      expect(y.shape).toEqual(ref.logits.shape.slice(0, -1));
      expect(Array.from(y.data)).toEqual(c.ids.flat());
    },
  );

  it("draws ids whose frequencies follow PyTorch's softmax (chi-square, 4 degrees of freedom)", () => {
    const f = ref.freq;
    const s = new Session(parseGraph(yaml(f.seed, [1, f.row.length], { temperature: f.temperature }), 's.yaml'));
    const counts = new Array<number>(f.row.length).fill(0);
    for (let c = 0; c < f.draws; c++) {
      const id = s.run(
        new Map([
          ['x', f.row],
          ['c', [c]],
        ]),
        1,
      ).next!.data[0]!;
      counts[id]!++;
    }
    expect(counts).toEqual(f.counts);
    const chi2 = counts.reduce((a, n, j) => a + (n - f.draws * f.probs[j]!) ** 2 / (f.draws * f.probs[j]!), 0);
    expect(chi2).toBeLessThan(13.28); // the 1% critical value
  });

  it('keeps only the top_k logits and refuses a non-scalar counter at the node', () => {
    const s = new Session(parseGraph(yaml(1, [1, 4], { top_k: 1 }), 's.yaml'));
    for (let c = 0; c < 20; c++)
      expect(
        s.run(
          new Map([
            ['x', [0, 3, 1, 2]],
            ['c', [c]],
          ]),
          1,
        ).next!.data[0],
      ).toBe(1);
    const bad = yaml(1, [1, 4], {}).replace('c: {shape: []}', 'c: {shape: [2]}');
    expect(() => parseGraph(bad, 'bad.yaml')).toThrow(
      /bad.yaml:7:5: ShapeError in node "next": the second input of sample is the scalar draw counter/,
    );
  });
});

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

describe.skipIf(!probe.gpu)('sample on WebGPU', () => {
  it('draws the same ids as the CPU for every reference case', async () => {
    for (const c of ref.cases) {
      const model = parseGraph(yaml(ref.seed, ref.logits.shape, attrsOf(c)), 'sample.yaml');
      const feed = new Map([
        ['x', ref.logits.data],
        ['c', [c.counter]],
      ]);
      const gpu = await Session.create(model, { dtype: 'f32', device: 'webgpu', gpu: probe.gpu!, strictDevice: true });
      const cpu = new Session(model, { dtype: 'f32' });
      const want = Array.from(cpu.run(feed, 1).next!.data);
      expect(Array.from((await gpu.runAsync(feed, 1)).next!.data)).toEqual(want);
      expect(want).toEqual(c.ids.flat());
    }
  });
});
