// The layers of graphs/lib/layers/ against PyTorch (test/reference/layers.py): each layer used
// through `graph: std:layers/...` with the reference's parameters written into the session, its
// output and the gradients of sum(y * w) with respect to the input and every parameter, in f64
// (1e-9) and f32 (1e-5), on the CPU and (with an adapter) on WebGPU, within 1e-5 of the CPU.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { maxRelErr } from '../ops/helpers.js';
import { type LayerCase, layerCaseYaml } from './layer-cases.js';
import { probeWebGpu } from '../webgpu/device.js';

const ref = JSON.parse(readFileSync(new URL('../reference/layers.json', import.meta.url), 'utf8')) as {
  cases: LayerCase[];
};

async function run(c: LayerCase, s: Session) {
  for (const [k, v] of Object.entries(c.params)) s.params.get(`layer/${k}`)!.set(v.data);
  await s.syncParameters?.();
  const y = (await s.runAsync(new Map(), 1)).y!;
  return { y, grads: await s.gradientsAsync() };
}

/** Gradients zero in exact arithmetic: attention's key bias (q · bk is constant along a row of scores). */
const exactlyZero = (k: string) => k === 'bk' || k.endsWith('/bk');
const maxAbs = (xs: ArrayLike<number>) => Array.from(xs).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Relative errors, each gradient against its own largest magnitude, except that a gradient zero
 * in exact arithmetic (attention's key bias: softmax ignores a constant added to a row) is held
 * to the case's largest gradient: both sides are rounding noise there (~1e-7 of it in f32).
 */
function check(c: LayerCase, got: Awaited<ReturnType<typeof run>>, tol: number) {
  expect(got.y.shape).toEqual(c.y.shape);
  expect(maxRelErr(got.y.data, c.y.data)).toBeLessThanOrEqual(tol);
  const floor = Math.max(...Object.values(c.grads).map(maxAbs));
  for (const [k, want] of Object.entries(c.grads)) {
    const g = got.grads[k === 'x' ? 'x' : `layer/${k}`];
    expect(g, `d/d${k}`).toBeDefined();
    const scale = exactlyZero(k) ? floor : maxAbs(want);
    expect(maxRelErr(g!.data, want) * (maxAbs(want) || 1), `d/d${k}`).toBeLessThanOrEqual(tol * scale);
  }
}

describe.each(ref.cases.map((c) => [c.name, c] as const))('layer %s', (_n, c) => {
  for (const dtype of ['f64', 'f32'] as const) {
    it(`agrees with PyTorch, forward and gradients (${dtype})`, async () => {
      const s = new Session(parseGraph(layerCaseYaml(c), `${c.name}.yaml`), { dtype });
      check(c, await run(c, s), dtype === 'f64' ? 1e-9 : 1e-5);
    });
  }
});

const probe = await probeWebGpu();
afterAll(() => probe.gpu?.dispose(), 60_000);

describe.skipIf(!probe.gpu).each(ref.cases.map((c) => [c.name, c] as const))('layer %s on WebGPU', (_n, c) => {
  it('agrees with PyTorch and with the CPU within 1e-5, every node on the device', async () => {
    const model = parseGraph(layerCaseYaml(c), `${c.name}.yaml`);
    const gpu = await run(
      c,
      await Session.create(model, { dtype: 'f32', device: 'webgpu', gpu: probe.gpu!, strictDevice: true }),
    );
    check(c, gpu, 1e-5);
    const cpu = await run(c, new Session(model, { dtype: 'f32' }));
    expect(maxRelErr(gpu.y.data, Array.from(cpu.y.data))).toBeLessThanOrEqual(1e-5);
    const floor = Math.max(...Object.values(cpu.grads).map((t) => maxAbs(t.data)));
    for (const [k, t] of Object.entries(cpu.grads)) {
      const err = maxRelErr(gpu.grads[k]!.data, Array.from(t.data)) * (maxAbs(t.data) || 1);
      expect(err, `d/d${k} vs cpu`).toBeLessThanOrEqual(1e-5 * (exactlyZero(k) ? floor : maxAbs(t.data) || 1));
    }
  });
});
