// Shared helpers for the hardening tests (issue 13): graphs written to a scratch folder, the CLI
// run in process, and the checks every refusal must pass (a positioned error, no stack trace).

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';

/** A fresh scratch folder with `files` (path -> text) written in it. */
export function scratch(files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'graph-run-harden-'));
  for (const [p, t] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), t);
  }
  return dir;
}

import { runCli as cli } from '../support/cli.js';

export { cli };

/** Exit code 1 with a `file:line:col:` error, no stack trace. */
export function expectPositioned(r: { code: number; err: string }, message?: RegExp): void {
  expect(r.code, r.err).toBe(1);
  expect(r.err).toMatch(/^\S+:\d+:\d+: \w+/m);
  expect(r.err).not.toMatch(/\n\s+at /);
  if (message) expect(r.err).toMatch(message);
}

/** A small training graph reading `data` as its training data file (columns x1, x2, label). */
export const csvGraph = (data: string, extra = '') => `graph-run: 1
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
    file: ${JSON.stringify(data)}
    columns: {x: [x1, x2], label: label}
  epochs: 1
  batch_size: 2
${extra}`;

export const goodCsv = 'x1,x2,label\n1,2,0\n3,4,1\n5,6,2\n';

/** A forward-only graph with a parameter initialised from `file`. */
export const initGraph = (file: string) => `graph-run: 1
inputs:
  x: {shape: [2]}
params:
  w: {shape: [2], init: {file: ${JSON.stringify(file)}}}
nodes:
  - {name: y, op: mul, inputs: [x, w]}
outputs: [y]
`;

/** A graph using `spec` as a subgraph. */
export const subGraph = (spec: string) => `graph-run: 1
inputs:
  x: {shape: [2]}
nodes:
  - {name: y, graph: ${JSON.stringify(spec)}, inputs: {x: x}}
outputs: [y]
`;
