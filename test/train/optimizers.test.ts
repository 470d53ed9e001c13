// Optimizers, schedules, per-parameter options and clipping against PyTorch over whole training
// runs (test/reference/optimizers.py -> optimizers.json): the loss after every epoch and the
// final parameters, f64 within 1e-9 and f32 within 1e-5 (relative).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { maxRelErr } from '../ops/helpers.js';
import { linearModelYaml, seriesRelErr, type OptimizerRef, type OptimizerRun } from './helpers.js';

const ref = JSON.parse(readFileSync(new URL('../reference/optimizers.json', import.meta.url), 'utf8')) as OptimizerRef;

describe.each(ref.runs.map((r) => [r.name, r] as const))('optimizer run %s', (_name, run: OptimizerRun) => {
  for (const dtype of ['f64', 'f32'] as const) {
    const tol = dtype === 'f64' ? 1e-9 : 1e-5;
    it(`matches PyTorch over ${ref.epochs} epochs (${dtype})`, () => {
      const s = new Session(parseGraph(linearModelYaml(ref, run), `test/train/${run.name}.yaml`), { dtype });
      const log = s.train();
      const want = run[dtype];
      expect(log.map((r) => r.epoch)).toEqual([...Array(ref.epochs).keys()]);
      expect(
        seriesRelErr(
          log.map((r) => r.loss),
          want.losses,
        ),
      ).toBeLessThanOrEqual(tol);
      const p = s.parameters();
      expect(maxRelErr(p.w!.data, want.w)).toBeLessThanOrEqual(tol);
      expect(maxRelErr(p.b!.data, want.b)).toBeLessThanOrEqual(tol);
    });
  }
});
