// The tutorial's 2-2-1 network (graphs/gender.yaml) against PyTorch: every logged loss
// (epochs 0, 10, ..., 990), both predictions and the trained parameters, in f64 (1e-9) and
// f32 (1e-5). The reference numbers are in fixtures/seed-torch.json, copied from
// ../shared/reference/seed-torch.json (PyTorch 1.13, CPU).

import { describe, expect, it } from 'vitest';
import { compile, loadGraph, predict, type LossRecord, type Session } from '../runtime/index.js';
import { main } from '../runtime/cli/main.js';
import ref from './fixtures/seed-torch.json' with { type: 'json' };
import endsJson from './reference/gender_ends.json' with { type: 'json' };

/** PyTorch's loss before training and after the last epoch (test/reference/gender_ends.py). */
const ends = endsJson as Record<'f64' | 'f32', Record<string, { initial: number; last_epoch: number; last: number }>>;

type Ref = (typeof ref)['torch_f64'];

function trained(dtype: 'f32' | 'f64'): { session: Session; losses: LossRecord[] } {
  const session = compile(loadGraph('graphs/gender.yaml'), { dtype });
  return { session, losses: session.train() };
}

function expectClose(got: number, want: number, tol: number, what: string): void {
  if (!(Math.abs(got - want) <= tol)) {
    throw new Error(`${what}: got ${got}, PyTorch ${want}, |diff| ${Math.abs(got - want)} > ${tol}`);
  }
}

describe.each([
  { dtype: 'f64' as const, torch: ref.torch_f64 as Ref, tol: 1e-9 },
  { dtype: 'f32' as const, torch: ref.torch_f32 as Ref, tol: 1e-5 },
])('gender.yaml in $dtype against PyTorch $dtype', ({ dtype, torch, tol }) => {
  const { session, losses } = trained(dtype);

  it('logs the loss after epochs 0, 10, ..., 990, each within tolerance', () => {
    expect(losses.map((r) => r.epoch)).toEqual(torch.loss_log.map(([e]) => e));
    losses.forEach((r, i) => expectClose(r.loss, torch.loss_log[i]![1]!, tol, `loss after epoch ${r.epoch}`));
  });

  it('predicts emily and frank as PyTorch does', () => {
    const preds = session.predictions();
    expect(Object.keys(preds)).toEqual(['emily', 'frank']);
    for (const name of ['emily', 'frank'] as const) {
      const t = preds[name]!.pred!;
      expect(t.shape).toEqual([1]);
      expectClose(t.data[0]!, torch.predictions[name], tol, `prediction ${name}`);
    }
    // The library's predict() on the same queries gives the same values.
    const emily = predict(session, { x: ref.queries.emily }).pred!;
    expectClose(emily.data[0]!, torch.predictions.emily, tol, 'predict() emily');
  });

  it("ends with PyTorch's parameters (nn.Linear layout [out, in])", () => {
    const p = session.parameters();
    const want: Record<string, number[]> = {
      w1: torch.params['layer1.weight'].flat(),
      b1: torch.params['layer1.bias'],
      w2: torch.params['layer2.weight'].flat(),
      b2: torch.params['layer2.bias'],
    };
    for (const [name, values] of Object.entries(want)) {
      expect(p[name]!.data.length).toBe(values.length);
      values.forEach((v, i) => expectClose(p[name]!.data[i]!, v, tol * 10, `${name}[${i}]`));
    }
  });

  it(`stores ${dtype} values`, () => {
    expect(session.parameters().w1!.data).toBeInstanceOf(dtype === 'f64' ? Float64Array : Float32Array);
  });
});

describe('graph-run gender.yaml --json', () => {
  it('prints one JSON document: losses, predictions, params', async () => {
    const out: string[] = [],
      err: string[] = [];
    const code = await main(
      ['graphs/gender.yaml', '--json', '--dtype', 'f64'],
      (s) => out.push(s),
      (s) => err.push(s),
    );
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    const doc = JSON.parse(out[0]!) as {
      losses: { epoch: number; loss: number }[];
      predictions: Record<string, { shape: number[]; data: number[] }>;
      params: Record<string, { shape: number[]; data: number[] }>;
    };
    expect(Object.keys(doc).sort()).toEqual(['losses', 'params', 'predictions']);
    // Before training (epoch -1), after epochs 0, 10, ..., 990, and after the last, 999.
    expect(doc.losses).toHaveLength(102);
    for (const r of doc.losses) expect(Object.keys(r).sort()).toEqual(['epoch', 'loss']);
    const [first, ...rest] = doc.losses;
    const last = rest.pop()!;
    rest.forEach((r, i) => {
      expect(r.epoch).toBe(i * 10);
      expectClose(r.loss, ref.torch_f64.loss_log[i]![1]!, 1e-9, `--json loss after epoch ${r.epoch}`);
    });
    expect(first!.epoch).toBe(-1);
    expectClose(first!.loss, ends.f64['1000']!.initial, 1e-9, 'loss before training');
    expect(last.epoch).toBe(999);
    expectClose(last.loss, ends.f64['1000']!.last, 1e-9, 'loss after the last epoch');
    expect(Object.keys(doc.predictions)).toEqual(['emily', 'frank']);
    for (const name of ['emily', 'frank'] as const) {
      expect(doc.predictions[name]!.shape).toEqual([1]);
      expect(doc.predictions[name]!.data).toHaveLength(1);
      expectClose(doc.predictions[name]!.data[0]!, ref.torch_f64.predictions[name], 1e-9, `--json ${name}`);
    }
    expect(doc.params.w1).toMatchObject({ shape: [2, 2] });
    expect(doc.params.b2).toMatchObject({ shape: [1] });
  });

  it('--epochs overrides the training length', async () => {
    const out: string[] = [];
    expect(
      await main(
        ['graphs/gender.yaml', '--json', '--epochs', '21'],
        (s) => out.push(s),
        () => {},
      ),
    ).toBe(0);
    const doc = JSON.parse(out[0]!) as { losses: { epoch: number; loss: number }[] };
    expect(doc.losses.map((r) => r.epoch)).toEqual([-1, 0, 10, 20]);
    expectClose(doc.losses[3]!.loss, ref.torch_f32.loss_log[2]![1]!, 1e-5, 'loss after epoch 20');
  });
});
