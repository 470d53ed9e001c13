// Resuming a run that already reached its epochs trains nothing and says so (never silently),
// with what to do; it exits 0 and still predicts.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as cli } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'graph-run-finished-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resuming a finished run', () => {
  const ck = join(dir, 'g.safetensors');
  it('says the run is finished (N of N epochs) and how to go on; exit 0, predictions printed', async () => {
    expect((await cli(['graphs/gender.yaml', '--epochs', '5', '--save', ck, '-q'])).code).toBe(0);
    const r = await cli(['graphs/gender.yaml', '--epochs', '5', '--resume', ck]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(
      'gender: already trained 5 of 5 epochs: nothing to train (raise --epochs above 5 to train further)',
    );
    expect(r.out).not.toMatch(/training 5 epochs/);
    expect(r.out).toMatch(/^predictions:$/m);
  });
  it('a checkpoint past the --epochs asked for says so too; with -q on stderr', async () => {
    const r = await cli(['graphs/gender.yaml', '--epochs', '3', '--resume', ck, '-q']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain('gender: already trained 5 epochs, more than the 3 asked for: nothing to train');
  });
  it('--json keeps stdout one JSON document (the note on stderr)', async () => {
    const r = await cli(['graphs/gender.yaml', '--epochs', '5', '--resume', ck, '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).losses).toEqual([]);
    expect(r.err).toContain('already trained 5 of 5 epochs');
  });
});
