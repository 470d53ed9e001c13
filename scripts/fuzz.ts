// A long fuzz run outside CI (issue 13): `npx tsx scripts/fuzz.ts [CASES] [SEED]` runs CASES
// mutated graphs, data files and checkpoints (test/hardening/fuzz-cases.ts) through the CLI in
// process and prints the figures: cases, exit codes, problems (stack traces, other exit codes,
// errors without a position), the slowest case and the time. Exit 1 when any case had a problem.

import fc from 'fast-check';
import { fuzzCase, fuzzFolder, problem, runCase } from '../test/hardening/fuzz-cases.js';

const cases = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
/** Skip the first cases of the seed's sequence (to rerun a failure found at case N). */
const from = Number(process.argv[4] ?? 0);
// What the CLI prints goes to the outcome, not the terminal; the library's own warnings too.
console.warn = () => {};

const folder = await fuzzFolder();
const codes = new Map<number, number>();
const problems: string[] = [];
let slowest = { ms: 0, case: '' };
const start = performance.now();
let done = 0;
const samples = fc.sample(fuzzCase, { numRuns: cases, seed });
for (const [i, c] of samples.entries()) {
  if (i < from) continue;
  let o: Awaited<ReturnType<typeof runCase>>;
  try {
    o = await runCase(folder.dir, folder.checkpoints, c);
  } catch (e) {
    // main() rethrows what is not a graph, usage, tool or device error: a crash with a stack trace.
    o = { code: -1, out: '', err: `threw ${String((e as Error).stack ?? e).slice(0, 800)}`, ms: 0 };
  }
  codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
  const p = problem(o);
  if (p) problems.push(`case ${i}: ${p}\n  case: ${JSON.stringify(c)}\n  stderr: ${o.err.slice(0, 800)}`);
  if (o.ms > slowest.ms) slowest = { ms: o.ms, case: JSON.stringify(c) };
  if (++done % 1000 === 0)
    process.stderr.write(
      `${done} cases, ${((performance.now() - start) / 1000).toFixed(0)} s, ${problems.length} problems\n`,
    );
}
folder.dispose();
const secs = (performance.now() - start) / 1000;
console.log(
  `graph-run fuzz: ${done} cases (${from}..${cases - 1}), seed ${seed}, ${secs.toFixed(1)} s (${((secs * 1000) / Math.max(1, done)).toFixed(1)} ms/case)`,
);
console.log(
  `exit codes: ${[...codes]
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ')}`,
);
console.log(`problems: ${problems.length}; slowest case ${slowest.ms.toFixed(0)} ms`);
for (const p of problems.slice(0, 20)) console.log(p);
process.exitCode = problems.length ? 1 : 0;
