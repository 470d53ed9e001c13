// `npm run bench:compare -- <checkout A> <checkout B>`: two builds of graph-run timed in one
// process, their runs alternated, so a busy shared machine slows both alike. Each checkout must
// be built (`npm run build` and, for this layout, `npm run bench` once: dist/bench/ or the older
// dist/runtime/bench/). Prints the median and minimum of each workload per build and B's time
// as a fraction of A's; `--json` prints them as one JSON document.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Prepared {
  run: () => void;
  check: () => number;
}
type Workloads = Record<string, (...args: never[]) => Prepared>;

const args = process.argv.slice(2);
const json = args.includes('--json');
const roundsArg = args.indexOf('--rounds');
const dirs = args.filter((a, i) => !a.startsWith('--') && i !== roundsArg + 1);
if (dirs.length !== 2) {
  console.error('usage: npm run bench:compare -- <checkout A> <checkout B> [--json] [--rounds N]');
  process.exit(2);
}
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 31;

async function workloads(dir: string): Promise<Workloads> {
  for (const rel of ['dist/bench/workloads.js', 'dist/runtime/bench/workloads.js']) {
    const p = resolve(dir, rel);
    if (existsSync(p)) return (await import(pathToFileURL(p).href)) as Workloads;
  }
  throw new Error(`${dir}: no built benchmark (run npm run build and npm run bench there)`);
}

const cases: { key: string; make: (w: Workloads) => Prepared }[] = [
  { key: 'gender_train_ms', make: (w) => w.genderTraining!() },
  { key: 'mlp_step_ms', make: (w) => (w.mlpStep as (b: number) => Prepared)(128) },
  { key: 'mlp_infer_ms', make: (w) => (w.mlpInference as (b: number) => Prepared)(128) },
  { key: 'matmul_512_ms', make: (w) => (w.matmul as (n: number) => Prepared)(512) },
  { key: 'chain_1000_ms', make: (w) => (w.chain as (n: number, fused: boolean) => Prepared)(1000, false) },
];

const builds = await Promise.all(dirs.map(workloads));
const results: Record<
  string,
  { a: { median: number; min: number }; b: { median: number; min: number }; ratio: number }
> = {};
for (const c of cases) {
  const prepared = builds.map((w) => c.make(w));
  for (const p of prepared) for (let i = 0; i < 3; i++) p.run(); // warm-up: JIT, plans, threads
  const checks = prepared.map((p) => p.check());
  if (Math.abs(checks[0]! - checks[1]!) > 1e-4 * Math.max(1, Math.abs(checks[0]!)))
    throw new Error(`${c.key}: the builds computed different results (${checks[0]} vs ${checks[1]})`);
  const times: number[][] = [[], []];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which build goes first, so neither always runs on a cache the other warmed.
    const order = r % 2 ? [1, 0] : [0, 1];
    for (const j of order) {
      const t0 = performance.now();
      prepared[j]!.run();
      times[j]!.push(performance.now() - t0);
    }
  }
  const stat = (t: number[]) => {
    const s = [...t].sort((x, y) => x - y);
    return { median: s[s.length >> 1]!, min: s[0]! };
  };
  const a = stat(times[0]!),
    b = stat(times[1]!);
  results[c.key] = { a, b, ratio: b.median / a.median };
}

if (json) console.log(JSON.stringify({ a: dirs[0], b: dirs[1], rounds: ROUNDS, results }, null, 2));
else {
  console.log(`A = ${dirs[0]}\nB = ${dirs[1]}\n${ROUNDS} alternated runs each; ms, median (min)`);
  for (const [k, r] of Object.entries(results))
    console.log(
      `${k.padEnd(16)} A ${r.a.median.toFixed(3)} (${r.a.min.toFixed(3)})   B ${r.b.median.toFixed(3)} (${r.b.min.toFixed(3)})   B/A ${r.ratio.toFixed(3)}`,
    );
}
