// The browser build (esbuild): dist/browser/graph-run.js, the library as one ESM file with no
// Node built-ins (node-io.ts swapped for browser-io.ts, graphs/lib built in), and
// dist/playground/, the playground page. `node playground/build.mjs [--lib-only]`; the e2e test
// and `npm run playground` call build() directly. A Node built-in left in the browser path fails
// the build rather than the page.

import { build as esbuild } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every file under `dir` (relative paths, "/"-separated) whose name matches `re`. */
function filesUnder(dir, re) {
  const out = {};
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (re.test(e)) out[relative(dir, p).split('\\').join('/')] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

// What the browser gets for the Node built-ins the CPU executor's thread pool and the Node
// WebGPU binding import: one thread, no workers, no files. Anything else is a build error.
const nodeStubs = {
  'node:os': 'export const availableParallelism = () => 1; export const tmpdir = () => "/tmp";',
  'node:worker_threads':
    'const no = () => { throw new Error("worker_threads: not in a browser"); };' +
    ' export class Worker { constructor() { no(); } } export class MessageChannel { constructor() { no(); } }' +
    ' export const receiveMessageOnPort = no; export const workerData = undefined;',
  'node:fs':
    'const no = () => { throw new Error("fs: not in a browser"); }; export const existsSync = () => false; export const readFileSync = no;',
};

const browserPlugin = {
  name: 'graph-run-browser',
  setup(b) {
    b.onResolve({ filter: /(^|\/)node-io\.js$/ }, (a) => ({
      path: join(a.resolveDir, a.path.replace(/node-io\.js$/, 'browser-io.ts')),
    }));
    b.onResolve({ filter: /^node:/ }, (a) => {
      if (!(a.path in nodeStubs))
        return {
          errors: [
            {
              text: `${a.path} is imported on the browser path (from ${relative(root, a.importer)}): the browser build has no Node built-ins`,
            },
          ],
        };
      return { path: a.path, namespace: 'node-stub' };
    });
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (a) => ({ contents: nodeStubs[a.path], loader: 'js' }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [browserPlugin],
  // `process.env` settings (GRAPH_RUN_THREADS, ...) read as unset in a browser.
  define: {
    'process.env': '{}',
    __GRAPH_RUN_STDLIB__: JSON.stringify(filesUnder(join(root, 'graphs', 'lib'), /\.ya?ml$/)),
  },
};

/**
 * Fail when a bundle still imports a Node built-in, statically or dynamically. (Text inside
 * strings does not count: the thread pool's worker source names node:worker_threads, but only
 * a Node worker ever runs it.)
 */
function checkNoNode(file, metafile) {
  const out =
    metafile.outputs[relative(process.cwd(), file)] ?? Object.values(metafile.outputs).find((o) => o.entryPoint);
  const left = (out?.imports ?? []).filter((i) => i.path.startsWith('node:') || !i.path.startsWith('.'));
  if (left.length)
    throw new Error(
      `${relative(root, file)} imports ${left.map((i) => i.path).join(', ')}: the browser build has no Node built-ins`,
    );
  const text = readFileSync(file, 'utf8');
  const m = /\bfrom\s*["']node:[\w/]+["']|\bimport\s*\(\s*["']node:/.exec(text);
  if (m) throw new Error(`${relative(root, file)} imports a Node built-in: ${m[0]}`);
}

/**
 * Build the browser library and (unless libOnly) the playground; returns the output folders.
 * @example await build(); // dist/browser/graph-run.js, dist/playground/index.html
 */
export async function build({ libOnly = false } = {}) {
  const lib = join(root, 'dist', 'browser');
  const page = join(root, 'dist', 'playground');
  const r = await esbuild({
    ...common,
    metafile: true,
    entryPoints: [join(root, 'runtime', 'index.ts')],
    outfile: join(lib, 'graph-run.js'),
  });
  checkNoNode(join(lib, 'graph-run.js'), r.metafile);
  if (!libOnly) {
    mkdirSync(page, { recursive: true });
    const examples = { ...filesUnder(join(root, 'graphs'), /\.(ya?ml|csv|json)$/) };
    for (const k of Object.keys(examples)) if (k.startsWith('lib/') || k.startsWith('bench/')) delete examples[k];
    const p = await esbuild({
      ...common,
      metafile: true,
      entryPoints: [join(root, 'playground', 'main.ts')],
      outfile: join(page, 'main.js'),
      define: { ...common.define, __PLAYGROUND_FILES__: JSON.stringify(examples) },
    });
    checkNoNode(join(page, 'main.js'), p.metafile);
    copyFileSync(join(root, 'playground', 'index.html'), join(page, 'index.html'));
    writeFileSync(join(page, 'graph-run.js'), readFileSync(join(lib, 'graph-run.js')));
  }
  return { lib, page };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { lib, page } = await build({ libOnly: process.argv.includes('--lib-only') });
  process.stdout.write(
    `built ${relative(root, join(lib, 'graph-run.js'))}${process.argv.includes('--lib-only') ? '' : ` and ${relative(root, page)}/`}\n`,
  );
}
