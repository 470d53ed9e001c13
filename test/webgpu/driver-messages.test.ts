// The GPU driver's own messages stay off the terminal. With no usable Vulkan driver (here: a
// VK_ICD_FILENAMES naming no file, so this runs the same with or without a GPU or SwiftShader),
// Dawn and the Vulkan loader print "Warning: vkCreateInstance: Found no drivers!" and more
// straight to file descriptor 2; graph-run looks for an adapter in a child process, so a run
// with `--device auto` prints only its one-line notice, `--verbose` adds what the driver said,
// and the library passes it to `driverLog`. Each case runs as its own process, as a user's would.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ensureBuilt, graphRun } from '../cli/graph-run.js';

ensureBuilt();
// `webgpu` is an optional dependency: without it there is no driver to hear from.
const dawn = existsSync('node_modules/webgpu/package.json');
if (!dawn) console.warn('driver message tests skipped: the optional `webgpu` package is not installed');
// A graph the device estimate sends to the GPU (gender.yaml goes to the CPU without probing).
const wide = 'test/fixtures/device/wide.yaml';
const noDriver = { VK_ICD_FILENAMES: '/nonexistent/graph-run-no-driver.json', VK_DRIVER_FILES: '' };

/** A Node script on the built library, as a user's program: its stdout and stderr. */
function script(source: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', source],
      { env: { ...process.env, ...noDriver }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe.runIf(dawn)('without a usable GPU driver', () => {
  it('--device auto prints the one-line fallback notice and nothing from the driver', async () => {
    const r = await graphRun([wide, '--device', 'auto', '-q'], noDriver);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^graph-run: device auto: cpu \(no WebGPU adapter: .*\)$/),
    ]);
    expect(r.stdout).toContain('predictions:');
  });

  it('--verbose adds what the driver said, before the notice', async () => {
    const r = await graphRun([wide, '--device', 'auto', '-q', '--verbose'], noDriver);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.some((l) => /^Warning: /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^graph-run: device auto: cpu \(no WebGPU adapter/);
  });

  it('--device webgpu fails with the one device error alone', async () => {
    const r = await graphRun(['graphs/gender.yaml', '--device', 'webgpu', '-q'], noDriver);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/Warning:|vkCreateInstance/);
    expect(r.stderr).toMatch(/^graph-run: no WebGPU adapter/);
  });

  it('Session.create({device: "auto"}) writes nothing to stderr; driverLog receives the messages', async () => {
    const lib = new URL('../../dist/runtime/index.js', import.meta.url).href;
    const quiet = await script(
      `import { Session, loadGraph } from ${JSON.stringify(lib)};
       const s = await Session.create(loadGraph(${JSON.stringify(wide)}), { device: 'auto' });
       console.log(s.device, s.deviceNote); s.dispose();`,
    );
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(/^cpu auto: cpu \(no WebGPU adapter/);
    const told = await script(
      `import { Session, loadGraph } from ${JSON.stringify(lib)};
       const said = [];
       const s = await Session.create(loadGraph(${JSON.stringify(wide)}), { device: 'auto', driverLog: (t) => said.push(t) });
       console.log(JSON.stringify(said)); s.dispose();`,
    );
    expect(told.code, told.stderr).toBe(0);
    expect(told.stderr).toBe('');
    expect((JSON.parse(told.stdout) as string[]).join('\n')).toMatch(/Warning: /);
  });
});
