// Serve the built playground (dist/playground) on localhost: `npm run playground` builds it
// and runs this; the e2e test calls serve() with port 0. Cross-origin isolation headers let
// the CPU executor use shared WebAssembly memory; localhost is a secure context, as WebGPU needs.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from './build.mjs';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Serve `dir` on 127.0.0.1:`port` (0: any free port); resolves to the server and its URL.
 * @example const { url, server } = await serve('dist/playground', 0);
 */
export function serve(dir, port = 0) {
  const server = createServer(async (req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      // A bad percent-escape (`GET /%`) throws URIError: a 400, not a dead server.
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad request');
      return;
    }
    const file = normalize(join(dir, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(normalize(dir) + sep) && file !== normalize(dir)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': types[extname(file)] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
        'cache-control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => {
      resolve({ server, url: `http://localhost:${server.address().port}/` });
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { page } = await build();
  const { url } = await serve(page, Number(process.env.PORT ?? 8080));
  process.stdout.write(`graph-run playground: ${url}  (Ctrl-C stops it)\n`);
}
