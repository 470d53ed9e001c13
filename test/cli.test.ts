// End to end through the real executable, `node bin/graph-run.js`, which runs the compiled
// CLI in dist/: training output, --json, and the exit codes and stack-free stderr of
// graph and usage errors. dist/ is rebuilt first when any runtime source is newer than it
// (after `npm ci` it is fresh and nothing is rebuilt).

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import ref from './fixtures/seed-torch.json' with { type: 'json' };
import { STACK } from './errors/expect-error.js';

const compiled = 'dist/runtime/cli/main.js';

function newest(dir: string, ext: RegExp): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, ext));
    else if (ext.test(e.name)) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

beforeAll(() => {
  const sources = Math.max(newest('runtime', /\.ts$/), newest('schemas', /\.json$/));
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < sources) {
    try {
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
        stdio: 'pipe',
      });
    } catch (e) {
      // Type errors still emit JavaScript; the tests below then say whether it runs.
      const out = String((e as { stdout?: Buffer }).stdout ?? '');
      if (!existsSync(compiled)) throw new Error(`could not build dist/: ${out}`);
    }
  }
}, 120_000);

function graphRun(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/graph-run.js', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('node bin/graph-run.js', () => {
  it('trains gender.yaml: a loss line every 10 epochs and the two predictions (PyTorch f32 values)', async () => {
    const r = await graphRun(['graphs/gender.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const losses = [...r.stdout.matchAll(/^epoch\s+(\d+)\s+loss\s+([\d.]+)$/gm)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    // Every 10 epochs, and the last epoch (999) whatever log_every says.
    const last = losses.pop()!;
    expect(losses.map(([e]) => e)).toEqual(ref.torch_f32.loss_log.map(([e]) => e));
    // Printed with 6 decimals: rounding adds up to 5e-7 to the f32 tolerance.
    losses.forEach(([, l], i) =>
      expect(Math.abs(l! - ref.torch_f32.loss_log[i]![1]!)).toBeLessThanOrEqual(5e-7 + 1e-5),
    );
    // The loss before training comes first, and the last epoch's last (test/reference/gender_ends.py).
    const ends = JSON.parse(readFileSync('test/reference/gender_ends.json', 'utf8')).f32['1000'];
    expect(last[0]).toBe(999);
    expect(Math.abs(last[1]! - ends.last)).toBeLessThanOrEqual(5e-7 + 1e-5);
    const before = /^before training {2}loss ([\d.]+)$/m.exec(r.stdout);
    expect(r.stdout.indexOf('before training')).toBeLessThan(r.stdout.search(/^epoch +0 /m));
    expect(Math.abs(Number(before?.[1]) - ends.initial)).toBeLessThanOrEqual(5e-7 + 1e-5);
    const pred = (name: string) =>
      Number(new RegExp(`^\\s+${name}\\s+pred \\[1\\] \\[([\\d.e-]+)\\]`, 'm').exec(r.stdout)?.[1]);
    expect(Math.abs(pred('emily') - ref.torch_f32.predictions.emily)).toBeLessThan(1e-5);
    expect(Math.abs(pred('frank') - ref.torch_f32.predictions.frank)).toBeLessThan(1e-5);
  });

  it('--json on autograd.yaml prints one JSON document with the gradient [2, 2, 2]', async () => {
    const a = await graphRun(['graphs/autograd.yaml', '--json']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout).gradients).toEqual({ x: { shape: [3], data: [2, 2, 2] } });
  });

  it('graph errors exit 1 and usage errors exit 2, with messages and no stack trace', async () => {
    const [several, dtype] = await Promise.all([
      graphRun(['validate', 'test/fixtures/errors/several.yaml']),
      graphRun(['graphs/gender.yaml', '--dtype', 'f16']),
    ]);
    expect(several.code).toBe(1);
    expect(several.stderr).toMatch(/^test\/fixtures\/errors\/several\.yaml:8:33: NameError in node "a"/m);
    expect(several.stderr).toMatch(/^4 errors$/m);
    expect(dtype.code).toBe(2);
    expect(dtype.stderr).toMatch(/--dtype/);
    for (const r of [several, dtype]) {
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toBe('');
      expect(r.stderr).not.toMatch(STACK);
    }
  });
});
