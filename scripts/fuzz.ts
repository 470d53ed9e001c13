// A long fuzz run outside CI (issue 13): `npx tsx scripts/fuzz.ts [CASES] [SEED]` runs CASES
// mutated graphs, data files and checkpoints (test/hardening/fuzz-cases.ts) through the CLI in
// process and prints the figures: cases, exit codes, problems (stack traces, other exit codes,
// errors without a position), the slowest case and the time. Exit 1 when any case had a problem.

import fc from 'fast-check';
import { fuzzCase, fuzzFolder, problem, runCase } from '../test/hardening/fuzz-cases.js';

const cases = Number(process.argv[2] ?? 20_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
// What the CLI prints goes to the outcome, not the terminal; the library's own warnings too.
console.warn = () => {};

const folder = await fuzzFolder();
const codes = new Map<number, number>();
const problems: string[] = [];
let slowest = { ms: 0, case: '' };
const start = performance.now();
let done = 0;
const samples = fc.sample(fuzzCase, { numRuns: cases, seed });
for (const c of samples) {
  const o = await runCase(folder.dir, folder.checkpoints, c);
  codes.set(o.code, (codes.get(o.code) ?? 0) + 1);
  const p = problem(o);
  if (p) problems.push(`${p}\n  case: ${JSON.stringify(c)}\n  stderr: ${o.err.slice(0, 500)}`);
  if (o.ms > slowest.ms) slowest = { ms: o.ms, case: JSON.stringify(c) };
  if (++done % 1000 === 0)
    process.stderr.write(`${done} cases, ${((performance.now() - start) / 1000).toFixed(0)} s, ${problems.length} problems\n`);
}
folder.dispose();
const secs = (performance.now() - start) / 1000;
console.log(`graph-run fuzz: ${cases} cases, seed ${seed}, ${secs.toFixed(1)} s (${((secs * 1000) / cases).toFixed(1)} ms/case)`);
console.log(`exit codes: ${[...codes].sort().map(([k, n]) => `${k}: ${n}`).join(', ')}`);
console.log(`problems: ${problems.length}; slowest case ${slowest.ms.toFixed(0)} ms`);
for (const p of problems.slice(0, 20)) console.log(p);
process.exitCode = problems.length ? 1 : 0;
