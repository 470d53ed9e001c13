// Commands that need graphs, not a device (validate, grad) work on a graph that asks for
// WebGPU whether or not an adapter exists: they must not try to acquire one.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const run = runCli;

describe('a graph with device: webgpu', () => {
  const dir = mkdtempSync(join(tmpdir(), 'graph-run-device-'));
  const file = join(dir, 'gpu.yaml');
  const text = readFileSync('graphs/gender.yaml', 'utf8').replace('graph-run: 1\n', 'graph-run: 1\ndevice: webgpu\n');
  writeFileSync(file, text);

  it('validates without a device', async () => {
    const r = await run(['validate', file]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ok \(2 inputs, 4 params, 7 nodes/);
  });

  it('prints its reverse graph without a device', async () => {
    const r = await run(['grad', file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('d_w1:');
  });
});
