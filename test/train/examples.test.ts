// The example graphs (graphs/xor.yaml, blobs.yaml, linreg.yaml, mlp_dropout.yaml) trained by
// graph-run against the same training in PyTorch (test/reference/examples.py -> examples.json):
// every logged loss and accuracy on training and validation data, the final parameters and
// the predictions; f64 within 1e-9, f32 within 1e-5 (relative).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadGraph } from '../../runtime/index.js';
import { Session, type LossRecord } from '../../runtime/session.js';
import { maxRelErr } from '../ops/helpers.js';
import { seriesRelErr } from './helpers.js';

interface Result {
  log: (Record<string, number> & { epoch: number })[];
  params: Record<string, number[]>;
  predictions: Record<string, number[]>;
}
const ref = JSON.parse(readFileSync(new URL('../reference/examples.json', import.meta.url), 'utf8')) as {
  examples: Record<string, { f64: Result; f32: Result }>;
};

/** The output each example's predictions are compared on (the reference computes that one). */
const predicted: Record<string, string> = { xor: 'prob', blobs: 'probs', linreg: 'pred', mlp_dropout: 'logits' };

describe.each(Object.keys(ref.examples))('example graphs/%s.yaml', (name) => {
  for (const dtype of ['f64', 'f32'] as const) {
    const tol = dtype === 'f64' ? 1e-9 : 1e-5;
    it(`trains as PyTorch does (${dtype})`, () => {
      const want = ref.examples[name]![dtype];
      const s = new Session(loadGraph(`graphs/${name}.yaml`), { dtype });
      const log = s.train();
      expect(log.map((r) => r.epoch)).toEqual(want.log.map((r) => r.epoch));
      for (const key of ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const) {
        const got = log.map((r: LossRecord) => r[key]);
        const exp = want.log.map((r) => r[key]);
        if (exp[0] === undefined) {
          expect(
            got.every((g) => g === undefined),
            `${key} is not reported`,
          ).toBe(true);
          continue;
        }
        expect(seriesRelErr(got as number[], exp as number[]), key).toBeLessThanOrEqual(tol);
      }
      const p = s.parameters();
      for (const [k, v] of Object.entries(want.params)) expect(maxRelErr(p[k]!.data, v), k).toBeLessThanOrEqual(tol);
      const preds = s.predictions();
      for (const [q, v] of Object.entries(want.predictions)) {
        expect(maxRelErr(preds[q]![predicted[name]!]!.data, v), `prediction ${q}`).toBeLessThanOrEqual(tol);
      }
    });
  }
});
