// Usage errors come before the device: a run's flags and output paths are checked before
// WebGPU is acquired, so a bad combination is exit 2 (usage) on every machine, and not the
// missing adapter's exit 3. The executable runs with a Vulkan driver list naming no file, so
// it finds no adapter wherever the test runs (a GPU machine included).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACK } from '../errors/expect-error.js';
import { ensureBuilt, graphRun } from './graph-run.js';

const noAdapter = { VK_ICD_FILENAMES: join(tmpdir(), 'graph-run-no-such-driver.json') };
const dir = mkdtempSync(join(tmpdir(), 'graph-run-usage-'));

beforeAll(ensureBuilt, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('graph-run --device webgpu without an adapter', () => {
  // Exit 3, documented (docs/cli.md), so scripts tell "no GPU here" from a broken graph (1).
  it.each([
    ['graphs/gender.yaml', '--quiet'],
    ['plan', 'graphs/gender.yaml'],
    ['trace', 'graphs/gender.yaml'],
  ])('%s %s --device webgpu: no device, exit 3 when the flags are fine', async (...args) => {
    const r = await graphRun([...args, '--device', 'webgpu'], noAdapter);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^graph-run: (no WebGPU adapter|the `webgpu` package)/m);
    expect(r.stderr).toMatch(/^ {4}hint: /m);
    // No JavaScript stack (Dawn's own driver warnings may name C++ frames).
    expect(r.stderr).not.toMatch(/^\s+at .+\.[jt]s:\d+:\d+\)?$/m);
  });

  it('--device auto falls back to the CPU and succeeds (exit 0)', async () => {
    const r = await graphRun(['trace', 'graphs/gender.yaml', '--device', 'auto'], noAdapter);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^gender \(graphs\/gender\.yaml, f32\): step 1 of 4000/);
  });

  it.each([
    {
      args: ['--resume', 'a.safetensors', '--load', 'b.safetensors'],
      msg: 'graph-run: --resume continues training and --load only predicts: give one of them',
    },
    { args: ['--save-every', '2'], msg: 'graph-run: --save-every needs --save FILE' },
    {
      args: ['--plot', 'x.svg', '--load', 'b.safetensors'],
      msg: 'graph-run: --plot draws the training curve: it needs a graph that trains (and no --load)',
    },
  ])('$args: a usage error (exit 2), before the device', async ({ args, msg }) => {
    const r = await graphRun(['graphs/gender.yaml', '--device', 'webgpu', ...args], noAdapter);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('graph-run:'))).toEqual([msg]);
    expect(r.stderr).toContain('Try graph-run --help.');
    expect(r.stderr).not.toMatch(/adapter/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('an unwritable output path fails before the device too (exit 1, the path named)', async () => {
    const r = await graphRun(
      ['graphs/gender.yaml', '--device', 'webgpu', '--save', join(dir, 'no-such-folder', 'm.safetensors')],
      noAdapter,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^graph-run: cannot write checkpoint ".*m\.safetensors": no such file or folder$/m);
    expect(r.stderr).not.toMatch(/adapter/);
  });
});
