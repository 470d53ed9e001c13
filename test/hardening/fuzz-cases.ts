// Mutation fuzzing of graphs, data files and checkpoints through the CLI's main(), in process
// (issue 13): seed files that run, mutated by fast-check (deleted and inserted text, tokens
// replaced with hostile values, lines duplicated, checkpoint bytes flipped or cut), then run with
// a command. Every case must exit 0, 1 or 2, print no stack trace, and give a graph error its
// file:line:col. Used by test/hardening/fuzz.test.ts (a few thousand cases in CI) and by
// scripts/fuzz.ts (long runs).

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { main } from '../../runtime/cli/main.js';

const classify = `graph-run: 1
inputs:
  x: {shape: [batch, 2]}
  label: {shape: [batch], dtype: i32}
params:
  w: {shape: [3, 2], init: 0.1}
nodes:
  - {name: logits, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
outputs: [logits]
loss: {graph: std:losses/cross_entropy.yaml, inputs: {pred: logits, target: label}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data:
    file: d.csv
    columns: {x: [x1, x2], label: label}
  epochs: 1
  batch_size: 2
predict:
  a: {x: [1, 2]}
`;

const regress = `graph-run: 1
inputs:
  x: {shape: [batch, 2]}
  y: {shape: [batch]}
params:
  w: {shape: [2], init: 0.1}
  b: {shape: [], init: 0}
nodes:
  - {name: xw, op: matmul, inputs: [x, w]}
  - {name: pred, op: add, inputs: [xw, b]}
  - {name: act, graph: sub.yaml, inputs: {x: pred}}
outputs: [act]
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
optimizer:
  graph: std:optimizers/adam.yaml
  with: {lr: 0.01}
  params:
    "w*": {lr: 0.001}
    b: {trainable: false}
training:
  data: {x: [[1, 2], [3, 4], [5, 6]], y: [1, 2, 3]}
  epochs: 2
  batch_size: 2
  log_every: 1
  validation: {split: 0.34}
predict:
  q: {x: [[1, 1], [2, 2]]}
`;

const sub = `graph-run: 1
inputs:
  x: {}
attrs:
  k: {default: 2}
nodes:
  - {name: s, op: mul, inputs: [x, k]}
  - {name: y, op: tanh, inputs: [s]}
outputs: [y]
`;

const autograd = `graph-run: 1
inputs:
  x: {shape: [3]}
nodes:
  - {name: sq, op: mul, inputs: [x, x]}
  - {name: y, op: sum, inputs: [sq]}
outputs: [y]
feed:
  x: [1, 2, 3]
gradients:
  of: y
  wrt: [x]
`;

const jsonData = `graph-run: 1
inputs:
  x: {shape: [batch, 2]}
  y: {shape: [batch]}
params:
  w: {shape: [2], init: {file: w.json}}
nodes:
  - {name: pred, op: matmul, inputs: [x, w]}
outputs: [pred]
loss: {graph: std:losses/mse.yaml, inputs: {pred: pred, target: y}}
optimizer: {graph: std:optimizers/sgd.yaml, with: {lr: 0.1}}
training:
  data: {file: r.json, columns: {x: [a, b], y: c}}
  epochs: 1
`;

export const SEEDS = [classify, regress, autograd, jsonData];

export const FILES: Record<string, string> = {
  'd.csv': 'x1,x2,label\n1,2,0\n3,4,1\n5,6,2\n-1,0.5,1\n',
  'sub.yaml': sub,
  'w.json': '[0.5, -0.25]',
  'r.json': '[{"a": 1, "b": 2, "c": 3}, {"a": 4, "b": 5, "c": 6}]',
};

/** Values a mutation puts in place of a token, or inserts. */
const HOSTILE = [
  '1e309',
  '.nan',
  '-.inf',
  '-1',
  '0',
  '2147483648',
  '1e12',
  '99999',
  '0.5',
  '-0',
  '1e-320',
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '*a',
  '&a',
  '*nope',
  '&a [1, 2]',
  '[',
  ']',
  '{',
  '}',
  ':',
  ': ',
  '- ',
  '\n',
  '"',
  "'",
  '#',
  ',',
  '?',
  '!',
  '!!binary',
  '!!js/function',
  '<<: *a',
  '|',
  '>',
  '%YAML 1.2',
  '---',
  '...',
  'batch',
  'i32',
  'f64',
  'f16',
  'std:../../package.json',
  '/dev/zero',
  '/dev/stdin',
  '/etc/passwd',
  '../x.csv',
  '.aws/credentials',
  'null',
  '~',
  'true',
  '""',
  'graph-run: 2',
  '\t',
  '  ',
  '\u0000',
  '\uFEFF',
  'x',
  'w',
  'y',
  'loss',
  'pred',
  'logits',
  'label',
  'sub.yaml',
  'd.csv',
  'matmul',
  'sum',
  'softmax',
];

export type Mutation =
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'token'; index: number; text: string }
  | { kind: 'line'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), len: fc.nat(12) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    text: fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 6 })),
  }),
  fc.record({ kind: fc.constant('token' as const), index: fc.nat(200), text: fc.constantFrom(...HOSTILE) }),
  fc.record({ kind: fc.constant('line' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
);

/** `text` with the mutations applied in order (positions as fractions of the current length). */
export function mutate(text: string, ms: Mutation[]): string {
  let s = text;
  for (const m of ms) {
    const at = 'at' in m ? Math.floor(m.at * s.length) : 0;
    if (m.kind === 'delete') s = s.slice(0, at) + s.slice(at + m.len);
    else if (m.kind === 'insert') s = s.slice(0, at) + m.text + s.slice(at);
    else if (m.kind === 'line') {
      const lines = s.split('\n');
      const k = Math.floor(m.at * lines.length);
      lines.splice(k, 0, lines[k] ?? '');
      s = lines.join('\n');
    } else {
      const toks = [...s.matchAll(/[A-Za-z_][\w/.:-]*|-?\d+(?:\.\d+)?(?:e-?\d+)?/g)];
      const t = toks[m.index % Math.max(1, toks.length)];
      if (t?.index !== undefined) s = s.slice(0, t.index) + m.text + s.slice(t.index + t[0].length);
    }
  }
  return s;
}

export type Target = 'graph' | 'sub.yaml' | 'd.csv' | 'w.json' | 'r.json' | 'checkpoint';

export interface FuzzCase {
  seed: number;
  target: Target;
  mutations: Mutation[];
  command: 'validate' | 'run' | 'grad' | 'dot' | 'trace' | 'check' | 'export';
  /** For a checkpoint target: byte flips and a cut, and whether to resume or only load. */
  bytes: { at: number; value: number }[];
  cut: number | null;
  resume: boolean;
}

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({
  seed: fc.nat(SEEDS.length - 1),
  target: fc.constantFrom<Target>('graph', 'graph', 'graph', 'sub.yaml', 'd.csv', 'w.json', 'r.json', 'checkpoint'),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  command: fc.constantFrom('validate', 'validate', 'run', 'run', 'grad', 'dot', 'trace', 'check', 'export'),
  bytes: fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), value: fc.nat(255) }), {
    maxLength: 3,
  }),
  cut: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
  resume: fc.boolean(),
});

export interface Outcome {
  code: number;
  out: string;
  err: string;
  ms: number;
}

/** A scratch folder holding the seed files and, per seed, a valid checkpoint (from `run --save`). */
export async function fuzzFolder(): Promise<{ dir: string; checkpoints: (Uint8Array | null)[]; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'graph-run-fuzz-'));
  const checkpoints: (Uint8Array | null)[] = [];
  for (const [i, g] of SEEDS.entries()) {
    const d = join(dir, `seed${i}`);
    mkdirSync(d);
    for (const [f, t] of Object.entries(FILES)) writeFileSync(join(d, f), t);
    writeFileSync(join(d, 'net.yaml'), g);
    const ck = join(d, 'm.safetensors');
    const code = await main(
      ['run', join(d, 'net.yaml'), '--save', ck, '-q'],
      () => {},
      () => {},
    );
    checkpoints.push(code === 0 ? readFileSync(ck) : null);
  }
  return { dir, checkpoints, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run one case in a fresh case folder under `root`; the CLI's exit code and output. */
export async function runCase(root: string, checkpoints: (Uint8Array | null)[], c: FuzzCase): Promise<Outcome> {
  const d = mkdtempSync(join(root, 'case-'));
  try {
    for (const [f, t] of Object.entries(FILES)) writeFileSync(join(d, f), t);
    let graph = SEEDS[c.seed]!;
    if (c.target === 'graph') graph = mutate(graph, c.mutations);
    else if (c.target !== 'checkpoint') writeFileSync(join(d, c.target), mutate(FILES[c.target]!, c.mutations));
    writeFileSync(join(d, 'net.yaml'), graph);
    const argv: string[] = [c.command, join(d, 'net.yaml')];
    if (c.command === 'run' || c.command === 'trace') argv.push('--epochs', '1');
    if (c.command === 'run') argv.push('-q');
    if (c.command === 'export') argv.push('--onnx', join(d, 'm.onnx'));
    const ck = checkpoints[c.seed];
    if (c.target === 'checkpoint' && ck && (c.command === 'run' || c.command === 'export')) {
      const bytes = new Uint8Array(ck);
      for (const b of c.bytes) bytes[Math.floor(b.at * bytes.length)] = b.value;
      const cut = c.cut === null ? bytes : bytes.subarray(0, Math.floor(c.cut * bytes.length));
      writeFileSync(join(d, 'in.safetensors'), cut);
      argv.push(c.resume && c.command === 'run' ? '--resume' : '--load', join(d, 'in.safetensors'));
    }
    const out: string[] = [];
    const err: string[] = [];
    const t = performance.now();
    const code = await main(
      argv,
      (s) => out.push(s),
      (s) => err.push(s),
    );
    return { code, out: out.join('\n'), err: err.join('\n'), ms: performance.now() - t };
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

/** What is wrong with an outcome (undefined: nothing). */
export function problem(o: Outcome): string | undefined {
  if (![0, 1, 2].includes(o.code)) return `exit code ${o.code}`;
  const all = `${o.out}\n${o.err}`;
  if (/^\s+at .+:\d+:\d+\)?$/m.test(all)) return 'a stack trace';
  if (o.code === 1) {
    // A graph error has file:line:col; a tool or device error is "graph-run: ..." (a checkpoint, a file).
    const lines = o.err.split('\n').filter((l) => l && !/^\s/.test(l) && !/^\d+ errors?$/.test(l));
    const bad = lines.filter((l) => !/^\S.*:\d+:\d+: \w+/.test(l) && !l.startsWith('graph-run: '));
    if (bad.length) return `an error without a position: ${bad[0]!.slice(0, 200)}`;
  }
  if (o.code === 2 && !o.err.startsWith('graph-run: ')) return 'a usage error without "graph-run: "';
  return undefined;
}
