// The CLI on WebGPU, through the real executable in a process of its own, as a user runs it:
// `node bin/graph-run.js --device webgpu` must train, print and exit 0. A child process per run
// also keeps Dawn's device teardown out of the test worker, where (with SwiftShader) it
// occasionally aborted or hung the worker at exit although every test had passed.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requireWebGpu } from './device.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, ['bin/graph-run.js', ...args], { timeout: 240_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, out: stdout, err: stderr });
    });
  });
}

// The adapter probe, as the CLI itself sees it: `plan --device webgpu --strict-device` fails without one.
const probe = await cli(['plan', 'graphs/gender.yaml', '--device', 'webgpu', '--strict-device']);
const noAdapter = probe.code !== 0 && /adapter|webgpu package/i.test(probe.err);
const available = !noAdapter;
if (noAdapter && !requireWebGpu) {
  console.warn(
    `WebGPU CLI tests skipped: ${probe.err.trim().split('\n')[0]}. Run \`eval "$(bash scripts/setup-webgpu.sh)"\` to enable them; GRAPH_RUN_REQUIRE_WEBGPU=1 makes this a failure.`,
  );
}

if (requireWebGpu) {
  it('has a WebGPU adapter (GRAPH_RUN_REQUIRE_WEBGPU=1)', () => {
    expect(probe.err).toBe('');
    expect(probe.code).toBe(0);
  });
}

const torch = JSON.parse(readFileSync(new URL('../fixtures/seed-torch.json', import.meta.url), 'utf8')) as {
  torch_f32: { loss_log: [number, number][] };
};

describe.skipIf(!available)('graph-run on WebGPU', () => {
  it('graph-run --device webgpu trains the tutorial and exits', { timeout: 300_000 }, async () => {
    const r = await cli(['graphs/gender.yaml', '--device', 'webgpu', '--json', '--epochs', '21']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as {
      losses: { epoch: number; loss: number }[];
      predictions: Record<string, { data: number[] }>;
    };
    expect(j.losses.map((l) => l.epoch)).toEqual([0, 10, 20]);
    j.losses.forEach((l, i) =>
      expect(Math.abs(l.loss - torch.torch_f32.loss_log[i]![1]) / torch.torch_f32.loss_log[i]![1]).toBeLessThanOrEqual(
        1e-4,
      ),
    );
  });

  it('graph-run plan --device webgpu places every node on the GPU, with the reason', async () => {
    expect(probe.code, probe.err).toBe(0);
    expect(probe.out).toMatch(/^ {2}z1 +matmul +webgpu +graph device: webgpu$/m);
  });
});
