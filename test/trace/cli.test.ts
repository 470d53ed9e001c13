// `graph-run trace` on the command line: the text view (compact and --full), --json (the same
// data as the library's trace(), as a document), and the bad inputs: a step past the training,
// a sample past the data, malformed numbers, trace flags on other commands, graphs with nothing
// to train. Each exits 2 with a message naming the limit and no stack trace.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { compile, loadGraph, trace, type Trace } from '../../runtime/index.js';

const cli = (...argv: string[]) => runCli(argv);

describe('graph-run trace', () => {
  it('prints the first step: header, forward values, labelled gradients with rules, updates', async () => {
    const r = await cli('trace', 'graphs/gender.yaml');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('gender (graphs/gender.yaml, f32): step 1 of 4000, epoch 0, batch 0: sample 0 of 4');
    expect(lines[1]).toMatch(/^loss 0\.2048\d+ \(node loss\/loss\)$/);
    expect(r.out).toMatch(/^ {2}z1 +\.?= x · w1ᵀ +\[1x2\] \[-0\.3, -0\.3\]$/m);
    expect(r.out).toMatch(
      /^ {2}d loss \/ d w1 +matmul at z1: dyᵀ · x +\[2x2\] \[0\.0111\d*, 0\.00555\d*, 0\.0111\d*, 0\.00555\d*\]$/m,
    );
    expect(r.out).toMatch(
      /^ {2}d loss \/ d s2 = d loss \/ d z2 +sigmoid at o: dy \* o \* \(1 - o\) +\[1x1\] \[-0\.2242\d*\]$/m,
    );
    expect(r.out).toContain(
      'updates, applied after the step:\n  w1 = w1 - 0.1 * grad(w1)\n      before  [2x2] [0.1, 0.1, 0.1, 0.1]',
    );
    // Compact values: no node names; --full adds them and nests values by shape.
    expect(r.out).not.toContain('grad/z1/matmul11');
    const full = await cli('trace', 'graphs/gender.yaml', '--full', '--dtype', 'f64');
    expect(full.code).toBe(0);
    expect(full.out).toMatch(
      /matmul at z1: dyᵀ · x +grad\/z1\/matmul11 +\[2x2\] \[\[0\.0111\d*, 0\.00555\d*\], \[0\.0111\d*, 0\.00555\d*\]\]/,
    );
  });

  it("--json prints the library's trace as one JSON document", async () => {
    const r = await cli('trace', 'graphs/gender.yaml', '--json', '--step', '3', '--dtype', 'f64');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as Trace;
    const lib = trace(compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' }), { step: 3 });
    expect(doc).toEqual(JSON.parse(JSON.stringify(lib)));
    expect(doc).toMatchObject({
      step: 3,
      steps: 4000,
      epoch: 0,
      batchIndex: 2,
      rows: { start: 2, count: 1 },
      dtype: 'f64',
      sample: null,
    });
    expect(Object.keys(doc)).toEqual([
      'file',
      'name',
      'dtype',
      'step',
      'steps',
      'epoch',
      'batchIndex',
      'rows',
      'samples',
      'sample',
      'loss',
      'forward',
      'reverse',
      'updates',
    ]);
    const w1 = doc.reverse.find((n) => n.label === 'd loss / d w1')!;
    expect(w1).toMatchObject({
      name: 'grad/z1/matmul11',
      op: 'matmul',
      role: 'gradient',
      gradientOf: ['w1'],
      from: 'z1',
      rule: 'matmul',
      formula: 'dyᵀ · x',
    });
    expect(w1.value.shape).toEqual([2, 2]);
    expect(doc.updates.find((u) => u.param === 'w1')!.gradient).toEqual(w1.value);
  });

  it('--json --sample 1 traces Bob', async () => {
    const doc = JSON.parse((await cli('trace', 'graphs/gender.yaml', '--json', '--sample', '1')).out) as Trace;
    expect(doc).toMatchObject({ sample: 1, rows: { start: 1, count: 1 } });
    expect(doc.forward.find((n) => n.name === 'x')!.value).toEqual({ shape: [1, 2], data: [25, 6] });
  });

  it.each([
    [
      ['--step', '4001'],
      'graph-run: step 4001 is beyond the training: graphs/gender.yaml trains for 4000 steps (1000 epochs of 4 batches)',
    ],
    [
      ['--step', '9', '--epochs', '2'],
      'graph-run: step 9 is beyond the training: graphs/gender.yaml trains for 8 steps (2 epochs of 4 batches)',
    ],
    [['--sample', '4'], 'graph-run: sample 4 is beyond the data: graphs/gender.yaml has 4 samples (0 to 3)'],
    [['--step', '0'], 'graph-run: --step must be a whole number >= 1, got "0"'],
    [['--step', '1.5'], 'graph-run: --step must be a whole number >= 1, got "1.5"'],
    [['--sample', 'Bob'], 'graph-run: --sample must be a whole number >= 0, got "Bob"'],
  ])('trace graphs/gender.yaml %j: exit 2, %s', async (args, message) => {
    const r = await cli('trace', 'graphs/gender.yaml', ...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')[0]).toBe(message);
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  it('refuses trace flags on other commands and graphs with no training step', async () => {
    const run = await cli('graphs/gender.yaml', '--step', '2');
    expect(run.code).toBe(2);
    expect(run.err).toContain('--step, --sample and --full belong to graph-run trace');
    const noLoss = await cli('trace', 'graphs/autograd.yaml');
    expect(noLoss.code).toBe(2);
    expect(noLoss.err.split('\n')[0]).toBe(
      'graph-run: graphs/autograd.yaml has no loss: there is no training step to trace',
    );
  });
});

describe('graph-run trace on a loss no parameter reaches', () => {
  it('shows the forward values and an empty reverse graph, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-trace-'));
    try {
      const file = join(dir, 'flat.yaml');
      writeFileSync(
        file,
        [
          'graph-run: 1',
          'name: flat',
          'inputs: {x: {shape: [batch, 2]}, y: {shape: [batch]}}',
          'params: {w: {shape: [1, 2], init: 0.1}}',
          'nodes:',
          '  - {name: z, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}',
          '  - {name: pred, op: reshape, inputs: [z], attrs: {shape: [batch]}}',
          'outputs: [pred]',
          'loss: {graph: std:losses/mse.yaml, inputs: {pred: y, target: y}}',
          'optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}',
          'training: {data: {x: [[1, 2], [3, 4]], y: [1, 0]}, epochs: 1, batch_size: 1}',
        ].join('\n'),
      );
      const r = await cli('trace', file);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/loss\/loss += mean/);
      expect(r.out).not.toContain('d loss / d w');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
