// The character model on WebGPU, on a small slice of Moby-Dick (scripts/data-charlm.ts): training
// gives the CPU's losses within 1e-5, and `graph-run generate` writes the same text from the same
// checkpoint and seed on both devices. Each graph-run runs as its own process on dist/ (see
// cli.test.ts for why); this test process acquires no device.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, graphRun } from '../cli/graph-run.js';
import { exampleSlice } from '../support/examples.js';
import { requireWebGpu } from './device.js';

ensureBuilt();
const probe = await graphRun(['plan', 'graphs/gender.yaml', '--device', 'webgpu', '--strict-device']);
const available = probe.code === 0;
if (!available && !requireWebGpu) {
  console.warn(
    `WebGPU character-model tests skipped: ${probe.stderr.trim().split('\n')[0]}. Run \`eval "$(bash scripts/setup-webgpu.sh)"\` to enable them; GRAPH_RUN_REQUIRE_WEBGPU=1 makes this a failure.`,
  );
}
if (requireWebGpu) {
  it('has a WebGPU adapter (GRAPH_RUN_REQUIRE_WEBGPU=1)', () => expect(probe.code, probe.stderr).toBe(0));
}

const dir = mkdtempSync(join(tmpdir(), 'graph-run-webgpu-charlm-'));
const graph = join(dir, 'charlm.yaml');
const ck = join(dir, 'charlm.safetensors');
beforeAll(() => {
  execFileSync(
    join('node_modules', '.bin', 'tsx'),
    [...exampleSlice('charlm.yaml')!.script, '--out', join(dir, 'data', 'charlm')],
    { stdio: 'pipe' },
  );
  copyFileSync('graphs/charlm.yaml', graph);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Losses = { epoch: number; loss: number; val_loss: number }[];
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe.skipIf(!available)('the character model on WebGPU', () => {
  it('trains with the losses of the CPU within 1e-5', { timeout: 900_000 }, async () => {
    const args = [graph, '--epochs', '1', '--json'];
    const cpu = await graphRun([...args, '--save', ck], {}, 600_000);
    expect(cpu.code, cpu.stderr).toBe(0);
    const gpu = await graphRun([...args, '--device', 'webgpu'], {}, 600_000);
    expect(gpu.code, gpu.stderr).toBe(0);
    const a = JSON.parse(cpu.stdout).losses as Losses;
    const b = JSON.parse(gpu.stdout).losses as Losses;
    expect(b.map((l) => l.epoch)).toEqual(a.map((l) => l.epoch));
    a.forEach((l, i) => {
      expect(rel(b[i]!.loss, l.loss), `epoch ${l.epoch} loss`).toBeLessThanOrEqual(1e-5);
      expect(rel(b[i]!.val_loss, l.val_loss), `epoch ${l.epoch} val_loss`).toBeLessThanOrEqual(1e-5);
    });
    // It learned: the held-out loss fell from about ln 83.
    expect(a.at(-1)!.val_loss).toBeLessThan(a[0]!.val_loss - 0.3);
  });

  it('generate writes the same text on WebGPU as on the CPU for a seed', { timeout: 900_000 }, async () => {
    const args = ['generate', graph, '--load', ck, '--prompt', 'The whale ', '--tokens', '40', '--json'];
    for (const more of [
      ['--seed', '1'],
      ['--seed', '7', '--temperature', '0.8', '--top-k', '8'],
    ]) {
      const cpu = await graphRun([...args, ...more], {}, 600_000);
      expect(cpu.code, cpu.stderr).toBe(0);
      const gpu = await graphRun([...args, ...more, '--device', 'webgpu'], {}, 600_000);
      expect(gpu.code, gpu.stderr).toBe(0);
      const a = JSON.parse(cpu.stdout) as { text: string; margin: number; device: string };
      const b = JSON.parse(gpu.stdout) as { text: string; margin: number; device: string };
      expect(b.device).toBe('webgpu');
      expect(b.text).toBe(a.text);
      expect([...a.text].length).toBe(10 + 40);
      // Not by luck: every draw was much further from a boundary than the devices' logits differ.
      expect(a.margin, more.join(' ')).toBeGreaterThan(1e-4);
    }
  });
});
