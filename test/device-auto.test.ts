// `device: auto` takes the cheaper device by an estimate of one step's cost (scheduler/cost.ts):
// operation counts follow the shapes (a matmul is 2·m·n·k, a convolution 2 per tap), the
// tutorial's network stays on the CPU without looking for an adapter, a wide MLP asks for the
// GPU, and `graph-run plan` prints the figures.

import { describe, expect, it } from 'vitest';
import { compile, loadGraph, parseGraph, Session } from '../runtime/index.js';
import { estimateCost } from '../runtime/scheduler/cost.js';
import { stepCost } from '../runtime/session/device.js';
import { ensureBuilt, graphRun } from './cli/graph-run.js';

ensureBuilt();

/** Cost of a graph's forward pass at `batch` rows, with each node's flops by name. */
function forwardCost(yaml: string, batch: number) {
  const s = compile(parseGraph(yaml));
  const g = s.program.forward(batch).built.graph;
  return { g, cost: estimateCost(g, g.order) };
}

describe('the step estimate', () => {
  it('counts 2·m·n·k for a matmul (transposed operands too) and one per element elsewhere', () => {
    const { cost } = forwardCost(
      `inputs: {x: {shape: [batch, 3]}}
params: {w: {shape: [5, 3], init: 0}}
nodes:
  - {name: z, op: matmul, inputs: [x, w], attrs: {transpose_b: true}}
  - {name: h, op: relu, inputs: [z]}
outputs: [h]`,
      7,
    );
    expect(cost.kernels).toBe(2);
    expect(cost.flops).toBe(2 * 7 * 5 * 3 + 7 * 5);
    expect(cost.bytes).toBe(2 * 7 * 5 * 4);
  });

  it('counts 2 per kernel tap and channel for a grouped, strided convolution', () => {
    const { cost } = forwardCost(
      `inputs: {x: {shape: [batch, 4, 9, 9]}}
params: {k: {shape: [6, 2, 3, 3], init: 0}}
nodes:
  - {name: y, op: conv2d, inputs: [x, k], attrs: {stride: 2, groups: 2}}
outputs: [y]`,
      2,
    );
    // y is [2, 6, 4, 4]; each element sums 2 channels x 3 x 3 taps.
    expect(cost.flops).toBe(2 * (2 * 6 * 4 * 4) * (2 * 3 * 3));
  });

  it('keeps the tutorial network on the CPU and sends a 2048-wide MLP to the GPU', () => {
    const small = stepCost(compile(loadGraph('graphs/gender.yaml')).program);
    expect(small.device).toBe('cpu');
    expect(small.cpuMs).toBeLessThan(small.gpuMs / 10);
    const wide = stepCost(compile(loadGraph('test/fixtures/device/wide.yaml')).program);
    expect(wide.device).toBe('webgpu');
    expect(wide.what).toBe('training step (batch 4)');
  });

  it('Session.create under auto takes the CPU for the tutorial network without probing for an adapter', async () => {
    // A driver path that does not exist would make any probe report "no WebGPU adapter".
    const before = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = '/nonexistent/graph-run-no-driver.json';
    try {
      const s = await Session.create(loadGraph('graphs/gender.yaml'), { device: 'auto' });
      expect(s.usesGpu).toBe(false);
      expect(s.deviceNote).toMatch(
        /^auto: cpu \(estimated training step \(batch 1\): cpu [\d.e-]+ ms, webgpu [\d.]+ ms\)$/,
      );
      s.dispose();
    } finally {
      if (before === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = before;
    }
  });

  it('graph-run plan ends with the estimate and what auto takes', async () => {
    const r = await graphRun(['plan', 'test/fixtures/device/wide.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(
      /^estimated training step \(batch 4\): 109\.2 MFLOP in \d+ kernels; cpu [\d.]+ ms, webgpu [\d.]+ ms on a discrete GPU; auto takes webgpu$/,
    );
  });
});
