// Shared checks for the user-error tests: loading a fixture fails with GraphErrors whose
// first (or only) error has the expected class, position and node, and the CLI, run in
// process, prints `file:line:col: Kind` on stderr, no stack trace, and exits with code 1.

import { expect } from 'vitest';
import { type GraphError, GraphErrors, loadGraph } from '../../runtime/index.js';

export const fixture = (name: string) => `test/fixtures/errors/${name}`;

export interface Expected {
  /** The error class, e.g. NameError. */
  cls: abstract new (
    ...args: never[]
  ) => GraphError;
  line: number;
  col: number;
  /** File the position is in, when not the fixture itself (an error inside a subgraph). */
  file?: string;
  node?: string;
  message?: RegExp;
  hint?: RegExp;
}

/** Every error loading `file` reports (it must fail). */
export function loadErrors(file: string): GraphError[] {
  try {
    loadGraph(file);
  } catch (e) {
    expect(e, `loading ${file} threw something other than GraphErrors`).toBeInstanceOf(GraphErrors);
    return (e as GraphErrors).errors;
  }
  throw new Error(`${file} loaded without errors`);
}

import { runCli as cli } from '../support/cli.js';

export { cli };

/** A stack trace line (`    at f (file:1:2)`) or a bare JavaScript error name. */
export const STACK = /^\s+at .+[:(]|^(TypeError|RangeError|ReferenceError|UsageGraphError|Error):/m;

export function expectErrorMatches(e: GraphError, want: Expected, file: string): void {
  expect(e).toBeInstanceOf(want.cls);
  expect(e.kind).toBe(want.cls.name);
  expect({ file: e.file, line: e.line, col: e.col }).toEqual({
    file: want.file ?? file,
    line: want.line,
    col: want.col,
  });
  if (want.node !== undefined) expect(e.nodeName).toBe(want.node);
  if (want.message) expect(e.message).toMatch(want.message);
  if (want.hint) expect(e.hint ?? '').toMatch(want.hint);
}

/**
 * `file` fails to load with exactly `count` errors (default 1), the first matching `want`;
 * `graph-run validate` and `graph-run <file>` exit 1 and print it with its position.
 */
export async function expectUserError(name: string, want: Expected, count = 1): Promise<GraphError[]> {
  const file = fixture(name);
  const errors = loadErrors(file);
  expect(errors.map((e) => `${e.line}:${e.col} ${e.kind}: ${e.message}`)).toHaveLength(count);
  expectErrorMatches(errors[0]!, want, file);
  for (const argv of [['validate', file], [file]]) {
    const r = await cli(argv);
    expect(r.code, `graph-run ${argv.join(' ')}`).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toContain(`${want.file ?? file}:${want.line}:${want.col}: ${want.cls.name}`);
    if (want.node !== undefined) expect(r.err).toContain(`in node "${want.node}"`);
    expect(r.err).not.toMatch(STACK);
    expect(r.err).toMatch(new RegExp(`^${count} errors?$`, 'm'));
  }
  return errors;
}
