// Issue 13, defects 1-3: a graph may read only files under its own folder, the working
// directory, graph-run's library and the roots the user names; only regular files, under a size
// limit checked before reading; and values from a file are quoted as short excerpts.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, csvGraph, expectPositioned, goodCsv, initGraph, scratch, subGraph } from './helpers.js';

describe('containment of the files a graph references', () => {
  it('a data file outside the graph folder, the working directory and the roots is refused, its content unread', async () => {
    const dir = scratch({ 'secret.csv': 'TOPSECRET_a,TOPSECRET_b\n1,2\n', 'proj/net.yaml': csvGraph('../secret.csv') });
    const r = await cli(['validate', join(dir, 'proj/net.yaml')]);
    expectPositioned(r, /cannot read data file .*secret\.csv": it lies outside the folders a graph may read/);
    expect(r.err).not.toMatch(/TOPSECRET/);
  });

  it('--data-root names a further folder: the same graph then reads ../data.csv', async () => {
    const dir = scratch({ 'data.csv': goodCsv, 'proj/net.yaml': csvGraph('../data.csv') });
    expectPositioned(await cli(['validate', join(dir, 'proj/net.yaml')]), /outside/);
    const r = await cli(['validate', join(dir, 'proj/net.yaml'), '--data-root', dir]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('absolute paths to system files are refused (init: {file}, training data, graph:)', async () => {
    const dir = scratch({
      'a.yaml': initGraph('/etc/passwd'),
      'b.yaml': csvGraph('/etc/passwd'),
      'c.yaml': subGraph('/etc/passwd'),
    });
    for (const f of ['a.yaml', 'b.yaml', 'c.yaml']) {
      const r = await cli(['validate', join(dir, f)]);
      expectPositioned(r, /outside the folders a graph may read/);
      expect(r.err).not.toMatch(/root:/);
    }
  });

  it('std:../../package.json stays inside the library', async () => {
    const dir = scratch({ 'net.yaml': subGraph('std:../../package.json') });
    const r = await cli(['validate', join(dir, 'net.yaml')]);
    expectPositioned(r, /cannot read graph file/);
    expect(r.err).not.toMatch(/devDependencies/);
  });

  it('hidden files and folders below a root are not read (e.g. .aws/credentials)', async () => {
    const dir = scratch({
      '.aws/credentials': '[default]\nAWS_SECRET_ACCESS_KEY: abc\n',
      'net.yaml': subGraph('.aws/credentials'),
    });
    const r = await cli(['validate', join(dir, 'net.yaml')]);
    expectPositioned(r, /outside the folders a graph may read/);
    expect(r.err).not.toMatch(/AWS_SECRET/);
  });

  it('a symbolic link out of the graph folder is followed and refused', async () => {
    const dir = scratch({ 'proj/net.yaml': initGraph('w.csv') });
    execFileSync('ln', ['-s', '/etc/hostname', join(dir, 'proj/w.csv')]);
    expectPositioned(await cli(['validate', join(dir, 'proj/net.yaml')]), /outside/);
  });

  it('the "known columns" hint does not list a data file\'s header', async () => {
    const dir = scratch({ 'd.csv': 'alpha_secret,beta_secret,gamma_secret\n1,2,3\n', 'net.yaml': csvGraph('d.csv') });
    const r = await cli(['validate', join(dir, 'net.yaml')]);
    expectPositioned(r, /has no column "x1"/);
    expect(r.err).not.toMatch(/secret/);
  });

  it('a long non-numeric field is quoted as a 40-character excerpt', async () => {
    const dir = scratch({ 'd.csv': `x1,x2,label\n${'A'.repeat(100_000)},2,0\n3,4,1\n`, 'net.yaml': csvGraph('d.csv') });
    // Values are read when the data is used (validation reads the header): train.
    const r = await cli([join(dir, 'net.yaml'), '--quiet']);
    expectPositioned(r, /"A{40}…" in column "x1" is not a number/);
    expect(r.err.length).toBeLessThan(2000);
  });
});

describe('special files and big inputs', () => {
  it('a FIFO as a data file is refused at once (no wait for a writer)', async () => {
    const dir = scratch({ 'net.yaml': csvGraph('d.csv') });
    execFileSync('mkfifo', [join(dir, 'd.csv')]);
    expectPositioned(await cli(['validate', join(dir, 'net.yaml')]), /it is not a regular file/);
  });

  it('/dev/zero and /dev/stdin as subgraph, data or init file are refused', async () => {
    for (const text of [subGraph('/dev/zero'), csvGraph('/dev/zero'), initGraph('/dev/stdin')]) {
      const dir = scratch({ 'net.yaml': text });
      expectPositioned(await cli(['validate', join(dir, 'net.yaml')]), /cannot read/);
    }
    // Linked into the graph's folder: contained, but not a regular file.
    const dir = scratch({ 'net.yaml': csvGraph('zero.csv') });
    execFileSync('ln', ['-s', '/dev/zero', join(dir, 'zero.csv')]);
    expectPositioned(await cli(['validate', join(dir, 'net.yaml')]), /not a regular file|outside/);
  });

  it('a data file over the size limit is refused before it is read', async () => {
    const dir = scratch({ 'net.yaml': subGraph('big.yaml') });
    writeFileSync(join(dir, 'big.yaml'), `# ${'x'.repeat(3 * 1024 * 1024)}\n`);
    expectPositioned(await cli(['validate', join(dir, 'net.yaml')]), /over the 2 MiB limit/);
  });
});

describe('a working directory at the root', () => {
  it('does not make every file readable', async () => {
    const { nodeIO } = await import('../../runtime/index.js');
    const dir = scratch({ 'net.yaml': 'graph-run: 1\n' });
    const was = process.cwd();
    process.chdir('/');
    try {
      const io = nodeIO();
      io.allow?.(join(dir, 'net.yaml'));
      expect(() => io.read('/etc/hostname')).toThrow(/outside the folders/);
      expect(io.read(join(dir, 'net.yaml'))).toBe('graph-run: 1\n');
    } finally {
      process.chdir(was);
    }
  });
});
