// Agreement figures: graph-run against every committed PyTorch reference (ops, losses,
// optimizers, example graphs), the largest relative error per case in f64 and f32. The tests
// assert the bounds (f64 1e-9, f32 1e-5; ops 1e-12 / 1e-5); this prints the measured values.
// Run: npx tsx test/reference/agreement.ts [ops|layers|losses|optimizers|examples]
import { readFileSync } from 'node:fs';
import { loadGraph, parseGraph } from '../../runtime/index.js';
import { Session } from '../../runtime/session.js';
import { maxRelErr, opCaseYaml, type OpCase } from '../ops/helpers.js';
import { layerCaseYaml, type LayerCase } from '../train/layer-cases.js';
import { linearModelYaml, lossModelYaml, seriesRelErr, type LossRef, type OptimizerRef } from '../train/helpers.js';

const read = <T>(name: string) => JSON.parse(readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')) as T;
const fmt = (x: number) => x.toExponential(1);
const want = process.argv[2];
const rows: string[][] = [];
const add = (kind: string, name: string, f: (dtype: 'f64' | 'f32') => number) =>
  rows.push([kind, name, fmt(f('f64')), fmt(f('f32'))]);

if (!want || want === 'ops') {
  for (const c of read<{ cases: OpCase[] }>('ops.json').cases) {
    add('op', c.name, (dtype) => {
      const s = new Session(parseGraph(opCaseYaml(c), `${c.name}.yaml`), { dtype });
      const feed = new Map(c.inputs.filter((i) => i.dtype === 'i32').map((i) => [i.name, i.data]));
      let e = maxRelErr(s.run(feed, 1).y!.data, c.output.data);
      if (c.grads) {
        const g = s.gradients();
        for (const [k, v] of Object.entries(c.grads)) if (g[k]) e = Math.max(e, maxRelErr(g[k]!.data, v));
      }
      return e;
    });
  }
}
if (!want || want === 'layers') {
  for (const c of read<{ cases: LayerCase[] }>('layers.json').cases) {
    add('layer', c.name, (dtype) => {
      const s = new Session(parseGraph(layerCaseYaml(c), `${c.name}.yaml`), { dtype });
      for (const [k, v] of Object.entries(c.params)) s.params.get(`layer/${k}`)!.set(v.data);
      let e = maxRelErr(s.run(new Map(), 1).y!.data, c.y.data);
      const g = s.gradients();
      // The key bias's gradient is zero in exact arithmetic (rounding noise on both sides): skipped.
      for (const [k, v] of Object.entries(c.grads))
        if (!k.endsWith('bk')) e = Math.max(e, maxRelErr(g[k === 'x' ? 'x' : `layer/${k}`]!.data, v));
      return e;
    });
  }
}
if (!want || want === 'losses') {
  const ref = read<LossRef>('losses.json');
  for (const run of ref.runs) {
    add('loss', run.name, (dtype) => {
      const s = new Session(parseGraph(lossModelYaml(ref, run), `${run.name}.yaml`), { dtype });
      const r = run[dtype];
      const first = Math.abs(s.evaluate() - r.initial) / Math.abs(r.initial);
      const log = s.train();
      const p = s.parameters();
      return Math.max(
        first,
        seriesRelErr(
          log.map((x) => x.loss),
          r.losses,
        ),
        maxRelErr(p.w!.data, r.w),
        maxRelErr(p.b!.data, r.b),
      );
    });
  }
}
if (!want || want === 'optimizers') {
  const ref = read<OptimizerRef>('optimizers.json');
  for (const run of ref.runs) {
    add('optimizer', run.name, (dtype) => {
      const s = new Session(parseGraph(linearModelYaml(ref, run), `${run.name}.yaml`), { dtype });
      const log = s.train();
      const p = s.parameters();
      const r = run[dtype];
      return Math.max(
        seriesRelErr(
          log.map((x) => x.loss),
          r.losses,
        ),
        maxRelErr(p.w!.data, r.w),
        maxRelErr(p.b!.data, r.b),
      );
    });
  }
}
if (!want || want === 'examples') {
  type Ex = { log: Record<string, number>[]; params: Record<string, number[]> };
  const ref = read<{ examples: Record<string, { f64: Ex; f32: Ex }> }>('examples.json');
  for (const name of Object.keys(ref.examples)) {
    add('example', `graphs/${name}.yaml`, (dtype) => {
      const s = new Session(loadGraph(`graphs/${name}.yaml`), { dtype });
      const log = s.train() as unknown as Record<string, number>[];
      const r = ref.examples[name]![dtype];
      let e = 0;
      for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) {
        if (r.log[0]![k] !== undefined)
          e = Math.max(
            e,
            seriesRelErr(
              log.map((x) => x[k]!),
              r.log.map((x) => x[k]!),
            ),
          );
      }
      const p = s.parameters();
      for (const [k, v] of Object.entries(r.params)) e = Math.max(e, maxRelErr(p[k]!.data, v));
      return e;
    });
  }
}
const w = [0, 1, 2, 3].map((i) =>
  Math.max(...rows.map((r) => r[i]!.length), ['kind', 'case', 'f64', 'f32'][i]!.length),
);
const line = (r: string[]) => r.map((c, i) => c.padEnd(w[i]!)).join('  ');
console.log(line(['kind', 'case', 'f64', 'f32']));
for (const r of rows) console.log(line(r));
