// Compile once, through the command line: one `graph-run <graph> --stats` run builds each graph,
// each reverse graph and the data once, and each plan once per batch size a job runs at (the
// `build stats: {...}` line on stderr, the library's buildStats()). Written over any key names
// the compiler uses for graphs (a graph per batch size, or one with a symbolic batch), so it
// holds either way; the plans' keys are named, one per (kind, batch size).

import { describe, it } from 'vitest';
import { expectBuiltOnce, statsOf } from './stats.js';

describe('graph-run <graph> --stats: each graph, reverse graph and data set once, each plan once per batch size', () => {
  it.each([
    {
      // 4 rows in batches of 1; metrics on the 4 rows, in batches of 1 too; two predictions of one row each.
      file: 'graphs/gender.yaml',
      plans: ['plan train batch 1', 'plan eval batch 1', 'plan forward batch 1'],
    },
    {
      // 120 rows in batches of 16, the last one 8; metrics on 120 training and 30 validation rows
      // in batches of 16 (the last ones 8 and 14); one prediction of 3 rows.
      file: 'graphs/blobs.yaml',
      plans: [
        'plan train batch 16',
        'plan train batch 8',
        'plan eval batch 16',
        'plan eval batch 8',
        'plan eval batch 14',
        'plan forward batch 3',
      ],
    },
  ])('$file', { timeout: 120_000 }, async ({ file, plans }) => {
    expectBuiltOnce(await statsOf([file]), plans);
  });
});
