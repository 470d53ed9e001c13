// The MNIST CNN example (graphs/mnist_cnn.yaml: convolutions, max pooling, Adam) trains on
// WebGPU as on the CPU: on a slice of the real digits (test/support/examples.ts writes 200 for
// training and 50 held out, 4 steps an epoch), `graph-run --device webgpu` and the CPU run give
// the same losses and accuracies before training and after each of 2 epochs, within 1e-5
// relative. Each run is its own process (as cli.test.ts explains).
import { describe, expect, it } from 'vitest';
import { ensureBuilt, graphRun } from '../cli/graph-run.js';
import { exampleGraph } from '../support/examples.js';
import { requireWebGpu } from './device.js';

ensureBuilt();
const probe = await graphRun(['plan', 'graphs/gender.yaml', '--device', 'webgpu', '--strict-device']);
const available = probe.code === 0;
if (!available && !requireWebGpu)
  console.warn(
    `WebGPU MNIST CNN test skipped: ${probe.stderr.trim().split('\n')[0]}. Run \`eval "$(bash scripts/setup-webgpu.sh)"\` to enable it; GRAPH_RUN_REQUIRE_WEBGPU=1 makes this a failure.`,
  );

interface Row {
  epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
}

async function losses(device: string): Promise<Row[]> {
  const r = await graphRun(
    [exampleGraph('graphs/mnist_cnn.yaml'), '--device', device, '--epochs', '2', '--json'],
    {},
    240_000,
  );
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { losses: Row[] }).losses;
}

describe.skipIf(!available && !requireWebGpu)('the MNIST CNN on WebGPU', () => {
  it("trains on a slice of the digits with the CPU run's losses (≤ 1e-5 relative)", { timeout: 600_000 }, async () => {
    const cpu = await losses('cpu');
    const gpu = await losses('webgpu');
    expect(gpu.map((r) => r.epoch)).toEqual([-1, 0, 1]);
    expect(cpu.map((r) => r.epoch)).toEqual([-1, 0, 1]);
    for (let i = 0; i < cpu.length; i++)
      for (const k of ['loss', 'val_loss', 'accuracy', 'val_accuracy'] as const) {
        const a = cpu[i]![k],
          b = gpu[i]![k];
        expect(
          Math.abs(a - b) / Math.max(Math.abs(a), 1e-12),
          `${k} at epoch ${cpu[i]!.epoch}: cpu ${a}, webgpu ${b}`,
        ).toBeLessThanOrEqual(1e-5);
      }
    // It learns: the training loss falls over the 8 steps.
    expect(gpu[2]!.loss).toBeLessThan(gpu[0]!.loss);
  });
});
