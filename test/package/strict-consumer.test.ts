// The published package as a strict TypeScript project meets it: `npm pack` the package, unpack
// the tarball into a fresh project's node_modules (its runtime dependencies linked from ours, so
// this needs no network), and compile a file using the main API with `strict`, no
// `skipLibCheck`, no DOM library and no ambient types (no @types/node, no @webgpu/types): every
// declaration file graph-run ships must compile there as it is.

import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../cli/graph-run.js';

const root = resolve('.');
const work = mkdtempSync(join(tmpdir(), 'graph-run-consumer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A package's runtime dependencies and peers, transitively, as installed in our node_modules. */
function dependencyClosure(names: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...names];
  while (todo.length) {
    const name = todo.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const pj = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    for (const d of [...Object.keys(pj.dependencies ?? {}), ...Object.keys(pj.peerDependencies ?? {})]) {
      // A dependency nested inside its parent's folder comes with the parent's link.
      if (existsSync(join(root, 'node_modules', d))) todo.push(d);
    }
  }
  return seen;
}

const CONSUMER = `import {
  checkpointBytes,
  compile,
  exportOnnx,
  GraphErrors,
  loadGraph,
  parseGraph,
  predict,
  renderSvg,
  restoreCheckpoint,
  Session,
  type LossRecord,
  type SessionOptions,
  type Tensor,
} from 'graph-run';

const options: SessionOptions = { dtype: 'f64', device: 'auto', driverLog: (text: string) => void text };
const session = compile(loadGraph('graphs/gender.yaml'), options);
const losses: LossRecord[] = session.train();
const out: Record<string, Tensor> = predict(session, { x: [-7, -3] });
const first: number | undefined = out.pred?.data[0];
const onGpu: Session = await Session.create(parseGraph('inputs: {x: {shape: [3]}}'), { device: 'auto' });
onGpu.dispose();
const bytes: Uint8Array = checkpointBytes(session);
restoreCheckpoint(session, bytes);
const onnx: Uint8Array = exportOnnx(session);
const svg: string = await renderSvg('digraph { a -> b }');
try {
  parseGraph('nodes: [');
} catch (e) {
  if (e instanceof GraphErrors) void e.errors.map((x) => x.line);
}
// The types are graph-run's own, not \`any\`: a wrong option must be an error.
// @ts-expect-error: dtype is 'f32' or 'f64'
compile(loadGraph('graphs/gender.yaml'), { dtype: 'f16' });
export { first, losses, onnx, svg };
`;

describe('the packed package in a strict TypeScript project', () => {
  it('compiles with strict, exactOptionalPropertyTypes, no skipLibCheck and no ambient types', () => {
    ensureBuilt();
    // --ignore-scripts: pack the dist/ just built rather than rebuild it (and the browser bundle).
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/runtime/index.d.ts');

    const project = join(work, 'consumer');
    const modules = join(project, 'node_modules');
    mkdirSync(modules, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed[0]!.filename), '-C', modules]);
    renameSync(join(modules, 'package'), join(modules, 'graph-run'));
    const pkg = JSON.parse(readFileSync(join(modules, 'graph-run', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of dependencyClosure(Object.keys(pkg.dependencies))) {
      const at = join(modules, name);
      mkdirSync(dirname(at), { recursive: true });
      symlinkSync(join(root, 'node_modules', name), at, 'dir');
    }
    writeFileSync(join(project, 'package.json'), '{"name": "consumer", "private": true, "type": "module"}\n');
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['es2022'],
          types: [],
          noEmit: true,
        },
        include: ['main.ts'],
      }),
    );
    writeFileSync(join(project, 'main.ts'), CONSUMER);
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', project], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 300_000);
});
