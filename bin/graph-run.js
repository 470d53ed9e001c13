#!/usr/bin/env node
// graph-run's executable: runs the compiled CLI in dist/ (built by `npm ci` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

// The CPU matmul fuses multiply-add with relaxed SIMD where the engine validates it: by default
// from Node 22, behind a V8 flag in Node 20, turned on here before any WebAssembly is compiled.
if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const entry = new URL('../dist/runtime/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'graph-run: the compiled CLI is missing (dist/). Run `npm run build` in the graph-run folder.\n',
  );
  process.exit(2);
}
// Output piped into a command that stops reading (| head) ends the run quietly.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import(entry.href);
// main() releases any device a run acquired (destroying it) before it resolves. The process then
// exits as soon as its output is flushed rather than by draining the event loop: after a WebGPU
// run, callbacks and finalizers of Dawn's objects still queued there could run against the
// destroyed device and abort the process (seen with SwiftShader in about half the runs of
// `graph-run plan --device webgpu`).
const code = await main(process.argv.slice(2));
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
