// Issue 13: the fuzzer in CI — a few thousand mutated graphs, data files and checkpoints through
// the CLI in process (fuzz-cases.ts); scripts/fuzz.ts runs it for longer. Seeded, so a failure
// reproduces: fast-check prints the seed, the path and the shrunk case.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzCase, fuzzFolder, problem, runCase } from './fuzz-cases.js';

const RUNS = Number(process.env.GRAPH_RUN_FUZZ_RUNS ?? 2000);

describe('fuzzing the CLI', () => {
  let folder: Awaited<ReturnType<typeof fuzzFolder>>;
  beforeAll(async () => {
    folder = await fuzzFolder();
    expect(folder.checkpoints.filter(Boolean).length).toBeGreaterThan(0);
  });
  afterAll(() => folder.dispose());

  it(`${RUNS} mutated cases: exit 0, 1 or 2, no stack trace, positioned graph errors`, async () => {
    await fc.assert(
      fc.asyncProperty(fuzzCase, async (c) => {
        const o = await runCase(folder.dir, folder.checkpoints, c);
        const p = problem(o);
        if (p) throw new Error(`${p}\n--- stderr\n${o.err.slice(0, 2000)}`);
      }),
      { numRuns: RUNS, seed: Number(process.env.GRAPH_RUN_FUZZ_SEED ?? 13) },
    );
  }, 300_000);
});
