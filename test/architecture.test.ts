// The layout's rules, checked on the source: stages run one way (load -> resolve -> compile ->
// schedule -> execute, with data readers, the session, tools, the package entry and the CLI
// after them), so no module imports a later stage except for types; executors import only the
// IR and the ops; no file in runtime/ is over 400 lines.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', 'runtime');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Stages in order; a module's stage is the first whose prefix matches its path under runtime/. */
const stages: [string, string[]][] = [
  [
    'shared',
    ['errors.ts', 'stats.ts', 'device-error.ts', 'ir/types.ts', 'ir/dim.ts', 'ir/graph.ts', 'ir/fusion.ts', 'ops/'],
  ],
  ['load', ['load/']],
  ['resolve', ['resolve/']],
  ['data', ['data/']],
  ['compile', ['compile/', 'ir/', 'autodiff/', 'train/']],
  ['schedule', ['scheduler/']],
  ['execute', ['executors/']],
  ['session', ['session.ts', 'session/']],
  ['tools', ['trace/', 'check/', 'checkpoint/', 'export/', 'import/', 'viz/', 'emit/', 'progress/']],
  ['entry', ['index.ts']],
  ['cli', ['cli/']],
];

function stageOf(file: string): number {
  const rel = relative(root, file);
  const i = stages.findIndex(([, prefixes]) => prefixes.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p)));
  if (i < 0) throw new Error(`runtime/${rel} belongs to no stage: add it to test/architecture.test.ts`);
  return i;
}

interface Import {
  from: string;
  target: string;
  typeOnly: boolean;
}

/** Relative imports and re-exports of a module; `typeOnly` when nothing but types is imported. */
function imports(file: string): Import[] {
  const src = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /^(import|export)\s+(type\s+)?([^;]*?)\s*from\s+'(\.[^']+)'/gms;
  for (const m of src.matchAll(re)) {
    const names = m[3]!;
    const braces = /^\{([^}]*)\}$/s.exec(names.trim());
    const allTypes =
      braces !== null &&
      braces[1]!
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '));
    const target = resolve(dirname(file), m[4]!.replace(/\.js$/, '.ts'));
    if (!target.startsWith(root) || !target.endsWith('.ts')) continue; // JSON data (the schema), not a module
    out.push({ from: file, target, typeOnly: m[2] !== undefined || allTypes });
  }
  return out;
}

const all = files(root);
/** Generated code (protoc-gen-es output, `npm run gen:onnx`) is not held to the line limit. */
const generated = (f: string) => relative(root, f).split(sep).includes('gen');

describe('the runtime layout', () => {
  it('no module imports a later stage, except for types', () => {
    const bad = all
      .flatMap(imports)
      .filter((i) => !i.typeOnly && stageOf(i.target) > stageOf(i.from))
      .map(
        (i) =>
          `${relative(root, i.from)} (${stages[stageOf(i.from)]![0]}) imports ${relative(root, i.target)} (${stages[stageOf(i.target)]![0]})`,
      );
    expect(bad).toEqual([]);
  });

  it('executors import only the IR, the ops and themselves', () => {
    const bad = all
      .filter((f) => relative(root, f).startsWith('executors/'))
      .flatMap(imports)
      .filter((i) => !i.typeOnly)
      .map((i) => relative(root, i.target))
      .filter((t) => !/^(executors|ir|ops)\//.test(t) && t !== 'errors.ts' && t !== 'device-error.ts');
    expect(bad).toEqual([]);
  });

  it('no file is over 400 lines', () => {
    const long = all
      .filter((f) => !generated(f))
      .map((f) => ({ f: relative(root, f), n: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter(({ n }) => n > 400)
      .map(({ f, n }) => `${f}: ${n} lines`);
    expect(long).toEqual([]);
  });
});
