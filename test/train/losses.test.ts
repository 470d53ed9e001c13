// Every loss of graphs/lib/losses against PyTorch's functional losses, in both reductions, over a
// whole training run (test/reference/losses.py -> losses.json): the loss at the initial values,
// after every epoch, and the final parameters; f64 within 1e-9, f32 within 1e-5 (relative).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { checkGradients, formatCheck } from '../../runtime/check/gradcheck.js';
import { maxRelErr } from '../ops/helpers.js';
import { lossModelYaml, seriesRelErr, type LossRef, type LossRun } from './helpers.js';

const ref = JSON.parse(readFileSync(new URL('../reference/losses.json', import.meta.url), 'utf8')) as LossRef;

describe.each(ref.runs.map((r) => [r.name, r] as const))('loss run %s', (_name, run: LossRun) => {
  const text = lossModelYaml(ref, run);
  for (const dtype of ['f64', 'f32'] as const) {
    const tol = dtype === 'f64' ? 1e-9 : 1e-5;
    it(`matches PyTorch over ${ref.epochs} epochs (${dtype})`, () => {
      const s = new Session(parseGraph(text, `test/train/${run.name}.yaml`), { dtype });
      const want = run[dtype];
      expect(Math.abs(s.evaluate() - want.initial) / Math.abs(want.initial)).toBeLessThanOrEqual(tol);
      const log = s.train();
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
  it('passes the gradient check', () => {
    const r = checkGradients(parseGraph(text, `test/train/${run.name}.yaml`));
    expect(r.ok, formatCheck(r)).toBe(true);
  });
});
