// Batch norm's running statistics through the command line: a training run saves them in its
// checkpoint; `graph-run eval` and `graph-run predict` with --load read them (the eval-mode loss
// is the one the training run logged last on the same rows; predictions are the restored
// session's eval-mode outputs) and never change them.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, loadGraph, restoreCheckpoint } from '../../runtime/index.js';
import { encodeNpy, readNpy } from '../../runtime/data/npy.js';
import { maxRelErr } from '../ops/helpers.js';
import { runCli } from '../support/cli.js';
import { batchNormNetYaml, type BatchNormRef } from './batch-norm-net.js';

const ref = JSON.parse(readFileSync(new URL('../reference/batch_norm.json', import.meta.url), 'utf8')) as BatchNormRef;
const dir = mkdtempSync(join(tmpdir(), 'graph-run-bn-'));
const graph = join(dir, 'net.yaml');
writeFileSync(graph, batchNormNetYaml(ref));
const { N, C_IN, H, W } = ref.shapes;
writeFileSync(join(dir, 'x.npy'), encodeNpy([N, C_IN, H, W], Float64Array.from(ref.x)));
writeFileSync(join(dir, 'label.npy'), encodeNpy([N], Int32Array.from(ref.label)));
const ckpt = join(dir, 'net.safetensors');

describe('batch norm through the command line', () => {
  it('train --save, then eval and predict --load use the saved running statistics', async () => {
    const t = await runCli([graph, '--dtype', 'f64', '--save', ckpt, '--json']);
    expect(t.code, t.err).toBe(0);
    const losses = (JSON.parse(t.out) as { losses: { loss: number }[] }).losses;
    const saved = readFileSync(ckpt);

    const data = `x=${join(dir, 'x.npy')},label=${join(dir, 'label.npy')}`;
    const e = await runCli(['eval', graph, '--data', data, '--load', ckpt, '--dtype', 'f64', '--json']);
    expect(e.code, e.err).toBe(0);
    expect(Math.abs((JSON.parse(e.out) as { loss: number }).loss - losses.at(-1)!.loss)).toBeLessThan(1e-12);

    // predict --out FILE.npy with the checkpoint; each call writes its own file.
    const predictRows = async (name: string, extra: string[] = []) => {
      const out = join(dir, name);
      const p = await runCli([
        'predict',
        graph,
        '--data',
        `x=${join(dir, 'x.npy')}`,
        '--load',
        ckpt,
        '--dtype',
        'f64',
        '--out',
        out,
        ...extra,
      ]);
      expect(p.code, p.err).toBe(0);
      const got = readNpy(readFileSync(out));
      if (typeof got === 'string') throw new Error(got);
      return got.values;
    };
    const s = compile(loadGraph(graph), { dtype: 'f64' });
    restoreCheckpoint(s, saved);
    const want = Array.from(s.run(new Map([['x', ref.x]]), N).logits!.data);
    expect(maxRelErr(await predictRows('p.npy'), want)).toBeLessThanOrEqual(1e-12);
    // One sample at a time gives the same rows: the running statistics, not the batch's, normalise.
    expect(maxRelErr(await predictRows('p1.npy', ['--batch-size', '1']), want)).toBeLessThanOrEqual(1e-12);
    expect(readFileSync(ckpt).equals(saved)).toBe(true);
  });
});
