// `graph-run check` (runtime/check) on every graph in graphs/: each gradient the reverse graph
// gives agrees with central finite differences in f64. And the checker can fail.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGraph, parseGraph } from '../../runtime/index.js';
import { checkGradients, formatCheck } from '../../runtime/check/gradcheck.js';
import { exampleGraph } from '../support/examples.js';

function graphsIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'lib' || e.name === 'data'
        ? []
        : graphsIn(`${dir}/${e.name}`)
      : e.name.endsWith('.yaml')
        ? [`${dir}/${e.name}`]
        : [],
  );
}

/**
 * Examples too large to check element by element in f64 within a test (the character model: ~1,300
 * elements of [64] parameters, each two forward runs of a 32-window batch): one window, and two
 * random directions per parameter. Their ops and layers are also checked one by one.
 */
const large: Record<string, () => ReturnType<typeof checkGradients>> = {
  'graphs/charlm.yaml': () => {
    const copy = exampleGraph('graphs/charlm.yaml');
    writeFileSync(copy, readFileSync(copy, 'utf8').replace('batch_size: 32', 'batch_size: 1'));
    return checkGradients(loadGraph(copy), { elementLimit: 0, directions: 2 });
  },
  // The MNIST CNN element by element, on a batch of 2 digits (64 runs the f64 reference convolutions for minutes).
  'graphs/mnist_cnn.yaml': () => {
    const copy = exampleGraph('graphs/mnist_cnn.yaml');
    writeFileSync(copy, readFileSync(copy, 'utf8').replace('batch_size: 64', 'batch_size: 2'));
    return checkGradients(loadGraph(copy));
  },
};

describe('gradient check of every graph in graphs/', () => {
  const files = graphsIn('graphs');
  it('finds the example graphs', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'graphs/gender.yaml',
        'graphs/xor.yaml',
        'graphs/blobs.yaml',
        'graphs/linreg.yaml',
        'graphs/mlp_dropout.yaml',
      ]),
    );
  });
  it.each(files)('%s', { timeout: 600_000 }, (file) => {
    const r = large[file] ? large[file]() : checkGradients(loadGraph(exampleGraph(file)));
    expect(r.ok, formatCheck(r, file)).toBe(true);
    expect(r.rows.length).toBeGreaterThan(0);
    expect(r.rows.every((row) => row.probes > 0)).toBe(true);
  });
});

describe('the gradient check can fail', () => {
  it('reports a gradient the reverse graph gets wrong (stop_gradient hides a real dependence)', () => {
    const r = checkGradients(
      parseGraph(
        `graph-run: 1
params:
  w: {shape: [3], init: {values: [0.5, -1, 2]}}
nodes:
  - {name: cut, op: stop_gradient, inputs: [w]}
  - {name: y, op: mul, inputs: [w, cut]}
  - {name: L, op: sum, inputs: [y]}
outputs: [L]
feed: {}
gradients: {of: L, wrt: [w]}
`,
        'wrong.yaml',
      ),
    );
    expect(r.ok).toBe(false);
    expect(r.rows[0]!.maxAbs).toBeGreaterThan(0.4);
    expect(formatCheck(r)).toMatch(/FAIL/);
  });
  it('checks large tensors along random directions', () => {
    const r = checkGradients(loadGraph('graphs/mlp_dropout.yaml'), { directions: 3 });
    const w2 = r.rows.find((x) => x.name === 'w2')!;
    expect(w2.mode).toBe('directions');
    expect(w2.probes).toBe(3);
    expect(r.rows.find((x) => x.name === 'b4')!.mode).toBe('elements');
  });
});

describe('graph-run check (CLI)', () => {
  it('prints the table and exits 0 when every gradient agrees, 1 when one does not', async () => {
    const { main } = await import('../../runtime/cli/main.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const lines: string[] = [];
    expect(
      await main(
        ['check', 'graphs/xor.yaml'],
        (s) => lines.push(s),
        (s) => lines.push(s),
      ),
    ).toBe(0);
    expect(lines.join('\n')).toMatch(/^w1\s+8\s+8 elements\s+\S+\s+\S+\s+ok$/m);
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-check-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'graph-run: 1\nparams:\n  w: {shape: [2], init: {values: [1, 2]}}\nnodes:\n  - {name: c, op: stop_gradient, inputs: [w]}\n  - {name: y, op: mul, inputs: [w, c]}\n  - {name: L, op: sum, inputs: [y]}\noutputs: [L]\nfeed: {}\ngradients: {of: L, wrt: [w]}\n',
    );
    const out: string[] = [];
    expect(
      await main(
        ['check', bad],
        (s) => out.push(s),
        (s) => out.push(s),
      ),
    ).toBe(1);
    expect(out.join('\n')).toMatch(/FAIL/);
  });
});

describe('graph-run grad on a graph with dropout', () => {
  it('prints a reverse graph that feeds the step counter, so it validates and runs', async () => {
    const { main } = await import('../../runtime/cli/main.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const out: string[] = [];
    expect(
      await main(
        ['grad', 'graphs/mlp_dropout.yaml'],
        (s) => out.push(s),
        (s) => out.push(s),
      ),
    ).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/op: dropout_grad, inputs: \[[^\]]+, __step\]/);
    expect(text).toMatch(/^\s+__step: 1$/m);
    const file = join(mkdtempSync(join(tmpdir(), 'graph-run-grad-')), 'g.yaml');
    writeFileSync(file, text);
    const run: string[] = [];
    expect(
      await main(
        [file, '--quiet'],
        (s) => run.push(s),
        (s) => run.push(s),
      ),
    ).toBe(0);
    expect(run.join('\n')).toMatch(/d_w1/);
  });
});
