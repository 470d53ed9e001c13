// Issue 13, defect 7: a bad percent-escape (`GET /%`) answered 400; the playground server lives on.

import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: an .mjs script without type declarations
import { serve } from '../../playground/serve.mjs';

const get = (url: string, path: string) =>
  new Promise<number>((resolve, reject) => {
    const u = new URL(url);
    request({ host: '127.0.0.1', port: u.port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });

describe('playground server', () => {
  it('GET /% is a 400 and the server keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graph-run-serve-'));
    writeFileSync(join(dir, 'index.html'), '<p>ok</p>');
    const { server, url } = (await serve(dir, 0)) as { server: import('node:http').Server; url: string };
    try {
      expect(await get(url, '/%')).toBe(400);
      expect(await get(url, '/%E0%A4%A')).toBe(400);
      expect(await get(url, '/')).toBe(200);
    } finally {
      server.close();
    }
  });
});
