// `npm run bench:data`: loading 60,000 x 784 values (MNIST's size, synthetic) into a training
// tensor from each data format — .npy (f32), IDX (u8 images, scaled; gzipped and plain), an .npz, CSV
// (784 pixel columns and a label) and JSON (an object of input -> rows) — each in a child
// process, so the peak RSS is the format's own. Reported per format: seconds to the training
// columns (graph load + read + checks), peak RSS, the RSS before loading (the base), the
// tensor's bytes, (peak - base) / tensor, and, as a reference measured in the same run, the
// time to read the file's bytes (readFileSync) and, for JSON, JSON.parse of its text; the CPU
// seconds of each load too (the machine may be shared).
// Flags: --rows N (default 60000), --json, --only fmt,fmt.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, zipSync } from 'fflate';
import { encodeNpy } from '../runtime/data/npy.js';
import { Program } from '../runtime/compile/program.js';
import { loadGraph } from '../runtime/index.js';

const FEATURES = 784;
const FORMATS = ['npy', 'idx', 'idx-raw', 'npz', 'csv', 'json'] as const;
type Format = (typeof FORMATS)[number];

const graph = (data: string) => `graph-run: 1
inputs:
  x: {shape: [batch, ${FEATURES}]}
  y: {shape: [batch], dtype: i32}
params:
  w: {shape: [10, ${FEATURES}], init: 0}
nodes:
  - {name: logits, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
outputs: [logits]
loss: {graph: std:losses/cross_entropy.yaml, inputs: {pred: logits, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: ${data}
  epochs: 1
  batch_size: 64
`;

const DATA: Record<Format, { spec: string; file: string }> = {
  npy: { spec: '{x: {file: x.npy}, y: {file: y.npy}}', file: 'x.npy' },
  idx: {
    spec: '{x: {file: x-idx3-ubyte.gz, scale: 0.00392156862745098}, y: {file: y-idx1-ubyte.gz}}',
    file: 'x-idx3-ubyte.gz',
  },
  'idx-raw': {
    spec: '{x: {file: x-idx3-ubyte, scale: 0.00392156862745098}, y: {file: y-idx1-ubyte}}',
    file: 'x-idx3-ubyte',
  },
  npz: { spec: '{file: train.npz, columns: {x: x_train, y: y_train}}', file: 'train.npz' },
  csv: { spec: '{file: train.csv, columns: {x: px0..px783, y: label}}', file: 'train.csv' },
  json: { spec: '{file: train.json}', file: 'train.json' },
};

/** Seeded pixels: u8 as MNIST stores them, and as f32 in [0, 1] with 4 decimals. */
function synth(rows: number): { u8: Uint8Array; f32: Float32Array; labels: Int32Array } {
  let s = 12345;
  const u8 = new Uint8Array(rows * FEATURES);
  for (let i = 0; i < u8.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    // Mostly zeros, as digits are.
    u8[i] = s >>> 29 < 5 ? 0 : (s >>> 8) & 255;
  }
  const f32 = new Float32Array(u8.length);
  for (let i = 0; i < u8.length; i++) f32[i] = Math.round((u8[i]! / 255) * 1e4) / 1e4;
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) labels[i] = (i * 7) % 10;
  return { u8, f32, labels };
}

function idx(a: Uint8Array, shape: number[]): Uint8Array {
  const h = new Uint8Array(4 + 4 * shape.length);
  const dv = new DataView(h.buffer);
  h[2] = 0x08;
  h[3] = shape.length;
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(h.length + a.length);
  out.set(h);
  out.set(a, h.length);
  return out;
}

/** Text written in parts (a 400 MB string would not be built at once). */
function writeText(path: string, rows: number, line: (r: number) => string, head = '', tail = ''): void {
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  let part: string[] = [];
  for (let r = 0; r < rows; r++) {
    part.push(line(r));
    if (part.length === 1000) {
      writeSync(fd, part.join(''));
      part = [];
    }
  }
  writeSync(fd, part.join(''));
  writeSync(fd, tail);
  closeSync(fd);
}

function write(dir: string, rows: number, formats: Format[]): void {
  const { u8, f32, labels } = synth(rows);
  const val = (r: number) => Array.from(f32.subarray(r * FEATURES, (r + 1) * FEATURES)).join(',');
  for (const f of formats) {
    if (f === 'npy') {
      writeFileSync(join(dir, 'x.npy'), encodeNpy([rows, FEATURES], f32));
      writeFileSync(join(dir, 'y.npy'), encodeNpy([rows], labels));
    } else if (f === 'idx') {
      writeFileSync(join(dir, 'x-idx3-ubyte.gz'), gzipSync(idx(u8, [rows, 28, 28])));
      writeFileSync(join(dir, 'y-idx1-ubyte.gz'), gzipSync(idx(Uint8Array.from(labels), [rows])));
    } else if (f === 'idx-raw') {
      writeFileSync(join(dir, 'x-idx3-ubyte'), idx(u8, [rows, 28, 28]));
      writeFileSync(join(dir, 'y-idx1-ubyte'), idx(Uint8Array.from(labels), [rows]));
    } else if (f === 'npz') {
      const z = zipSync(
        {
          'x_train.npy': [encodeNpy([rows, FEATURES], f32), { level: 0 }],
          'y_train.npy': [encodeNpy([rows], labels), { level: 0 }],
        },
        {},
      );
      writeFileSync(join(dir, 'train.npz'), z);
    } else if (f === 'csv') {
      const head = `${Array.from({ length: FEATURES }, (_, i) => `px${i}`).join(',')},label\n`;
      writeText(join(dir, 'train.csv'), rows, (r) => `${val(r)},${labels[r]}\n`, head);
    } else {
      writeText(
        join(dir, 'train.json'),
        rows,
        (r) => `${r ? ',' : ''}[${val(r)}]`,
        '{"x": [',
        `], "y": [${Array.from(labels).join(',')}]}`,
      );
    }
    writeFileSync(join(dir, `${f}.yaml`), graph(DATA[f].spec));
  }
}

interface Result {
  format: Format;
  seconds: number;
  /** CPU seconds of the load (user + system). */
  cpu_s: number;
  peak_mb: number;
  base_mb: number;
  tensor_mb: number;
  ratio: number;
  file_mb: number;
  read_file_s: number;
  json_parse_s?: number;
  json_parse_cpu_s?: number;
}

/** In the child: load the graph, read its training data, report time and memory. */
function child(fmt: Format, dir: string): void {
  const t0 = performance.now();
  const model = loadGraph(join(dir, `${fmt}.yaml`));
  const graphSeconds = (performance.now() - t0) / 1000;
  const base = hwm();
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const sets = Program.of(model, 'f32').data();
  const seconds = (performance.now() - t1) / 1000;
  const cpu = cpuSeconds(c1);
  const x = sets.train!.get('x')!;
  const peak = hwm();
  const tensor = x.values.byteLength;
  let sum = 0;
  for (let i = 0; i < x.values.length; i++) sum += x.values[i]!;
  process.stdout.write(JSON.stringify({ seconds, cpu, graphSeconds, peak, base, tensor, rows: x.rows, sum }));
}

/** CPU seconds (user + system) of this process since `from`: on a shared machine, the work done. */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
}

/** The process's peak resident memory (VmHWM; getrusage's maxrss carries the parent's over exec). */
function hwm(): number {
  const m = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

/** In the child: the reference, reading the file's bytes (and for JSON, JSON.parse). */
function reference(fmt: Format, dir: string): void {
  const t0 = performance.now();
  const b = readFileSync(join(dir, DATA[fmt].file));
  const read = (performance.now() - t0) / 1000;
  let parse: number | undefined;
  let parseCpu: number | undefined;
  if (fmt === 'json') {
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    JSON.parse(b.toString('utf8'));
    parse = (performance.now() - t1) / 1000;
    parseCpu = cpuSeconds(c1);
  }
  process.stdout.write(JSON.stringify({ read, parse, parseCpu, size: b.length }));
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    child(args[1] as Format, args[2]!);
    return;
  }
  if (args[0] === '--reference') {
    reference(args[1] as Format, args[2]!);
    return;
  }
  const rows = Number(args[args.indexOf('--rows') + 1] ?? 0) || 60000;
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1]!.split(',') as Format[]) : [...FORMATS];
  const dir = mkdtempSync(join(tmpdir(), 'graph-run-bench-data-'));
  const self = fileURLToPath(import.meta.url);
  const results: Result[] = [];
  try {
    write(dir, rows, only);
    for (const f of only) {
      const run = (flag: string) =>
        JSON.parse(execFileSync(process.execPath, [self, flag, f, dir], { maxBuffer: 1 << 20 }).toString());
      const r = run('--child');
      const ref = run('--reference');
      results.push({
        format: f,
        seconds: r.seconds,
        cpu_s: r.cpu,
        peak_mb: r.peak / 2 ** 20,
        base_mb: r.base / 2 ** 20,
        tensor_mb: r.tensor / 2 ** 20,
        ratio: (r.peak - r.base) / r.tensor,
        file_mb: ref.size / 2 ** 20,
        read_file_s: ref.read,
        ...(ref.parse !== undefined ? { json_parse_s: ref.parse, json_parse_cpu_s: ref.parseCpu } : {}),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify({ rows, features: FEATURES, results }, null, 1));
    return;
  }
  console.log(`loading ${rows} x ${FEATURES} into a training tensor (f32), one child process per format`);
  console.log('format   file MB  load s   cpu s  readFileSync s  peak RSS MB  base MB  tensor MB  (peak-base)/tensor');
  for (const r of results)
    console.log(
      `${r.format.padEnd(7)} ${r.file_mb.toFixed(0).padStart(8)} ${r.seconds.toFixed(2).padStart(7)} ${r.cpu_s.toFixed(2).padStart(7)} ${r.read_file_s.toFixed(2).padStart(15)} ${r.peak_mb.toFixed(0).padStart(12)} ${r.base_mb.toFixed(0).padStart(8)} ${r.tensor_mb.toFixed(0).padStart(10)} ${r.ratio.toFixed(2).padStart(19)}`,
    );
  // The reference for text: JSON.parse of the same file's text, in the same run.
  for (const r of results)
    if (r.json_parse_s !== undefined)
      console.log(
        `${r.format}: JSON.parse of the text ${r.json_parse_s.toFixed(2)} s (cpu ${r.json_parse_cpu_s!.toFixed(2)} s); load / JSON.parse ${(r.seconds / r.json_parse_s).toFixed(2)} (cpu ${(r.cpu_s / r.json_parse_cpu_s!).toFixed(2)})`,
      );
}

main();
