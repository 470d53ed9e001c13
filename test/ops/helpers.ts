// Helpers for the op tests: the PyTorch reference cases (test/reference/*.json), a case as a
// YAML graph, and the error measure the comparisons use.

import { readFileSync } from 'node:fs';

export interface OpCase {
  name: string;
  op: string;
  attrs: Record<string, unknown>;
  inputs: { name: string; dtype: 'float' | 'i32'; shape: number[]; data: number[] }[];
  output: { shape: number[]; dtype: 'float' | 'i32'; data: number[] };
  w?: number[];
  grads?: Record<string, number[]>;
}

/** The reference files of the op families, each written by the Python script of its name. */
export const REFERENCE_FILES = ['ops.json', 'conv.json'];

/** Every PyTorch op case, of every reference file. */
export function referenceCases(): OpCase[] {
  return REFERENCE_FILES.flatMap(
    (f) =>
      (JSON.parse(readFileSync(new URL(`../reference/${f}`, import.meta.url), 'utf8')) as { cases: OpCase[] }).cases,
  );
}

/** A flat row-major list as a nested list of `shape`. */
export function nest(flat: number[], shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  const step = flat.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), shape.slice(1)));
}

/**
 * The case as a graph: float operands are parameters (so gradients are taken), i32 operands
 * inputs fed by `feed`, y = op(...), and (for differentiable cases) L = sum(y * w).
 * Operands named `c` are conditions: constant, no gradient taken.
 */
export function opCaseYaml(c: OpCase): string {
  const init = (data: number[], shape: number[]) =>
    shape.length ? `{values: ${JSON.stringify(nest(data, shape))}}` : `${data[0]}`;
  const lines = ['graph-run: 1', `name: ${c.name}`];
  const ints = c.inputs.filter((i) => i.dtype === 'i32');
  const floats = c.inputs.filter((i) => i.dtype === 'float');
  if (ints.length) {
    lines.push('inputs:');
    for (const i of ints) lines.push(`  ${i.name}: {shape: ${JSON.stringify(i.shape)}, dtype: i32}`);
  }
  if (floats.length || c.grads) lines.push('params:');
  for (const i of floats)
    lines.push(
      `  ${i.name}: {shape: ${JSON.stringify(i.shape)}, init: ${init(i.data, i.shape)}${i.name === 'c' ? ', trainable: false' : ''}}`,
    );
  if (c.grads)
    lines.push(
      `  w: {shape: ${JSON.stringify(c.output.shape)}, init: ${init(c.w!, c.output.shape)}, trainable: false}`,
    );
  lines.push('nodes:');
  lines.push(
    `  - {name: y, op: ${c.op}, inputs: ${JSON.stringify(c.inputs.map((i) => i.name))}, attrs: ${JSON.stringify(c.attrs)}}`,
  );
  if (c.grads) {
    lines.push('  - {name: yw, op: mul, inputs: [y, w]}');
    lines.push('  - {name: L, op: sum, inputs: [yw]}');
  }
  lines.push('outputs: [y]');
  lines.push(`feed: {${ints.map((i) => `${i.name}: ${JSON.stringify(nest(i.data, i.shape))}`).join(', ')}}`);
  if (c.grads)
    lines.push(`gradients: {of: L, wrt: ${JSON.stringify(floats.filter((i) => i.name !== 'c').map((i) => i.name))}}`);
  return lines.join('\n') + '\n';
}

/** max |a - b| over the tensor, relative to the reference's largest magnitude (1 if all zero). */
export function maxRelErr(got: ArrayLike<number>, want: number[]): number {
  if (got.length !== want.length) return Infinity;
  let scale = 0,
    err = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    const d = Math.abs(got[i]! - want[i]!);
    err = Math.max(err, d !== d ? Infinity : d);
  }
  return err / (scale || 1);
}
