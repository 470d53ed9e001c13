// The CLI on WebGPU, in a test file of its own: `graph-run --device webgpu` acquires and
// destroys a device of its own, and Dawn on SwiftShader crashed the test process now and then
// when that happened beside another live device (the suite's shared one). Here the probe's
// device is released before the CLI runs, so the process holds one device at a time.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mainAsync } from '../../runtime/cli/main.js';
import { probeWebGpu, requireWebGpu } from './device.js';

const probe = await probeWebGpu();
const available = probe.gpu !== null;
probe.gpu?.dispose();

if (requireWebGpu) {
  it('has a WebGPU adapter (GRAPH_RUN_REQUIRE_WEBGPU=1)', () => {
    expect(probe.reason).toBe('');
  });
}

const torch = JSON.parse(readFileSync(new URL('../fixtures/seed-torch.json', import.meta.url), 'utf8')) as {
  torch_f32: { loss_log: [number, number][] };
};

describe.skipIf(!available)('graph-run on WebGPU', () => {
  it('graph-run --device webgpu trains the tutorial and exits', { timeout: 300_000 }, async () => {
    const out: string[] = [],
      err: string[] = [];
    const code = await mainAsync(
      ['graphs/gender.yaml', '--device', 'webgpu', '--json', '--epochs', '21'],
      (l) => out.push(l),
      (l) => err.push(l),
    );
    expect(code, err.join('\n')).toBe(0);
    const r = JSON.parse(out.join('')) as {
      losses: { epoch: number; loss: number }[];
      predictions: Record<string, { data: number[] }>;
    };
    expect(r.losses.map((l) => l.epoch)).toEqual([0, 10, 20]);
    r.losses.forEach((l, i) =>
      expect(Math.abs(l.loss - torch.torch_f32.loss_log[i]![1]) / torch.torch_f32.loss_log[i]![1]).toBeLessThanOrEqual(
        1e-4,
      ),
    );
    const plan: string[] = [];
    expect(
      await mainAsync(
        ['plan', 'graphs/gender.yaml', '--device', 'webgpu'],
        (l) => plan.push(l),
        () => {},
      ),
    ).toBe(0);
    expect(plan.join('\n')).toMatch(/^ {2}z1 +matmul +webgpu +graph device: webgpu$/m);
  });
});
