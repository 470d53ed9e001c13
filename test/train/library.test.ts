// The layer library, graphs/lib/layers/: every layer loads through `graph: std:layers/...` with
// `with:` and computes a finite output of the expected shape; any further file there is at least
// a schema-valid graph. linear.yaml starts as torch.nn.Linear does (reset_parameters: bounds
// from test/reference/layers.py, run with PyTorch). Agreement with PyTorch: layers.test.ts.

import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GraphError } from '../../runtime/index.js';
import { parseGraph } from '../../runtime/index.js';
import { GraphFiles } from '../../runtime/load/files.js';
import { nodeIO } from '../../runtime/load/node-io.js';
import { Session } from '../../runtime/session.js';

const LIB = 'graphs/lib/layers';

/** Each layer: its `with:`, the shape of x (batch 2) and of y. */
const layers: Record<string, { with: Record<string, number>; x: number[]; y: number[] }> = {
  'linear.yaml': { with: { in: 5, out: 3 }, x: [2, 5], y: [2, 3] },
  'mlp.yaml': { with: { in: 5, hidden: 7, out: 2 }, x: [2, 5], y: [2, 2] },
  'layer_norm.yaml': { with: { dim: 6 }, x: [2, 6], y: [2, 6] },
  'rms_norm.yaml': { with: { dim: 6 }, x: [2, 6], y: [2, 6] },
  'attention.yaml': { with: { dim: 8, heads: 2, head_dim: 4, seq: 3 }, x: [2, 3, 8], y: [2, 3, 8] },
  'transformer_block.yaml': {
    with: { dim: 8, heads: 2, head_dim: 4, seq: 3, hidden: 16 },
    x: [2, 3, 8],
    y: [2, 3, 8],
  },
  'conv_block.yaml': { with: { in_channels: 2, out_channels: 3 }, x: [2, 2, 5, 5], y: [2, 3, 5, 5] },
};

const files = readdirSync(LIB).filter((f) => f.endsWith('.yaml'));

describe('graphs/lib/layers/', () => {
  it('holds the layers of this test (and linear and mlp)', () => {
    for (const f of Object.keys(layers)) expect(files).toContain(f);
  });

  for (const [file, c] of Object.entries(layers))
    it(`${file} loads with graph: and with:, and runs`, () => {
      const text = [
        'graph-run: 1',
        'seed: 1',
        'inputs:',
        `  x: {shape: ${JSON.stringify(['batch', ...c.x.slice(1)])}}`,
        'nodes:',
        `  - {name: layer, graph: std:layers/${file}, inputs: {x: x}, with: ${JSON.stringify(c.with)}}`,
        'outputs: {y: layer}',
        '',
      ].join('\n');
      const s = new Session(parseGraph(text, join(tmpdir(), `use-${file}`)), { dtype: 'f64' });
      expect([...s.params.keys()].every((k) => k.startsWith('layer/'))).toBe(true);
      const n = c.x.reduce((a, b) => a * b, 1);
      const y = s.run(new Map([['x', Array.from({ length: n }, (_, i) => Math.cos(i))]]), c.x[0]!).y!;
      expect(y.shape).toEqual(c.y);
      expect(Array.from(y.data).every(Number.isFinite)).toBe(true);
    });

  for (const file of files.filter((f) => !(f in layers)))
    it(`${file} is a schema-valid graph`, () => {
      const errors: GraphError[] = [];
      expect(new GraphFiles(nodeIO(), errors).load(join(LIB, file))).not.toBeNull();
      expect(errors).toEqual([]);
    });
});

describe('linear.yaml starts as torch.nn.Linear', () => {
  const ref = JSON.parse(readFileSync(new URL('../reference/layers.json', import.meta.url), 'utf8')) as {
    init: {
      linear: { in: number; out: number; weight_bound: number; bias_bound: number };
    };
  };
  const { in: nIn, out: nOut, weight_bound, bias_bound } = ref.init.linear;
  const text = [
    'graph-run: 1',
    'seed: 3',
    'inputs:',
    `  x: {shape: [batch, ${nIn}]}`,
    'nodes:',
    `  - {name: fc, graph: std:layers/linear.yaml, inputs: {x: x}, with: {in: ${nIn}, out: ${nOut}}}`,
    'outputs: [fc]',
    '',
  ].join('\n');
  const model = parseGraph(text, join(tmpdir(), 'linear-init.yaml'));

  it("weight [out, in] Kaiming-uniform (a = √5) and bias on ±1/√in: PyTorch's bounds", () => {
    const [w, b] = ['fc/weight', 'fc/bias'].map((n) => model.params.find((p) => p.name === n)!);
    expect(w!.shape).toEqual([nOut, nIn]);
    expect(b!.shape).toEqual([nOut]);
    for (const [p, bound] of [
      [w!, weight_bound],
      [b!, bias_bound],
    ] as const) {
      expect(p.init.kind).toBe('random');
      if (p.init.kind !== 'random') continue;
      expect(p.init.dist).toBe('uniform');
      expect(Math.abs(p.init.b - bound) / bound).toBeLessThanOrEqual(1e-15);
      expect(Math.abs(p.init.a + bound) / bound).toBeLessThanOrEqual(1e-15);
    }
  });

  it('draws values inside those bounds', () => {
    const s = new Session(model, { dtype: 'f64' });
    const w = Array.from(s.params.get('fc/weight')!);
    expect(Math.max(...w.map(Math.abs))).toBeLessThan(weight_bound);
    expect(new Set(w).size).toBe(w.length);
  });
});
