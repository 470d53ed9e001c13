// The browser build (esbuild): dist/browser/graph-run.js, the library as one ESM file with no
// Node built-ins (node-io.ts swapped for browser-io.ts, graphs/lib built in), and
// dist/playground/, the playground page. `node playground/build.mjs [--lib-only]`; the e2e test
// and `npm run playground` call build() directly. A Node built-in left in the browser path fails
// the build rather than the page.

import { build as esbuild } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// codemirror-json-schema renders the schema's descriptions as Markdown with markdown-it and
// shiki (several MB); the playground renders them with playground/schema-docs.ts instead.
const noMarkdown = {
  name: 'plain-schema-docs',
  setup(b) {
    b.onResolve({ filter: /\/utils\/markdown(\.js)?$/ }, (a) =>
      a.importer.includes('codemirror-json-schema') ? { path: join(root, 'playground', 'schema-docs.ts') } : undefined,
    );
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
  // Imports of the build's own chunks are fine (the playground is split: see below).
  const left = (out?.imports ?? []).filter(
    (i) => i.path.startsWith('node:') || !(i.path.startsWith('.') || i.path in metafile.outputs),
  );
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
    for (const f of readdirSync(page)) if (/\.js(\.map)?$/.test(f)) rmSync(join(page, f)); // no stale chunks
    const examples = { ...filesUnder(join(root, 'graphs'), /\.(ya?ml|csv|json)$/) };
    for (const k of Object.keys(examples)) if (k.startsWith('lib/') || k.startsWith('bench/')) delete examples[k];
    // Code splitting: Graphviz (WebAssembly, ~1.3 MB) is a chunk of its own, fetched when the
    // first picture is drawn, so the page is ready before it arrives.
    const p = await esbuild({
      ...common,
      plugins: [...common.plugins, noMarkdown],
      metafile: true,
      splitting: true,
      entryPoints: { main: join(root, 'playground', 'main.ts') },
      outdir: page,
      chunkNames: 'chunk-[hash]',
      minify: true,
      define: { ...common.define, __PLAYGROUND_FILES__: JSON.stringify(examples) },
    });
    for (const out of Object.keys(p.metafile.outputs))
      if (out.endsWith('.js')) checkNoNode(join(process.cwd(), out), p.metafile);
    // The chunks main.js imports statically, preloaded from the page's head: otherwise they are
    // requested only once main.js has been fetched and parsed, one round trip later.
    const main = Object.entries(p.metafile.outputs).find(([, o]) => o.entryPoint)?.[1];
    const preload = (main?.imports ?? [])
      .filter((i) => i.kind === 'import-statement')
      .map((i) => `  <link rel="modulepreload" href="./${relative(page, join(process.cwd(), i.path))}">\n`)
      .join('');
    const html = readFileSync(join(root, 'playground', 'index.html'), 'utf8');
    writeFileSync(join(page, 'index.html'), html.replace('</head>', `${preload}</head>`));
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
