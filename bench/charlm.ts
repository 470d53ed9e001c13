// The character model's training step (graphs/charlm.yaml: two transformer blocks of width 64,
// context 64, Adam) on one batch of 32 windows, on graph-run and PyTorch. PyTorch runs the same
// model in a Python process (bench/py/charlm_torch.py) started once and asked for one step per
// sample over a pipe, as bench/cnn.ts does; without torch the row has no PyTorch column.
// The graph's training section is dropped (the step is fed directly), so the benchmark needs no
// data written by `npm run data:charlm`.

import type { Session } from '../runtime/session.js';
import { pythonChild } from './python.js';
import type { RefPrepared } from './refs.js';
import { prng } from './stats.js';
import { graphPath, type Prepared, sessionWithoutData } from './workloads.js';

export const CHARLM_BATCH = 32;
const T = 64;
const V = 83;

/** graphs/charlm.yaml without its training section (its data files), as a Session. */
export function charlmSession(): Session {
  return sessionWithoutData('graphs/charlm.yaml');
}

/** Seeded ids and next-character targets for one batch. */
export function charlmBatch(batch = CHARLM_BATCH): { ids: Int32Array; next: Int32Array } {
  const rnd = prng(11);
  const ids = Int32Array.from({ length: batch * T }, () => Math.floor(rnd() * V));
  const next = Int32Array.from({ length: batch * T }, () => Math.floor(rnd() * V));
  return { ids, next };
}

/** One Adam step of the character model on graph-run. */
export function charlmStep(batch = CHARLM_BATCH): Prepared {
  const s = charlmSession();
  const values = charlmBatch(batch);
  let last = Number.NaN;
  return { run: () => void (last = s.stepOn(batch, values)), check: () => last };
}

/** The same step in PyTorch (2 threads), or null where Python has no torch. */
export async function charlmTorch(): Promise<(() => Promise<RefPrepared>) | null> {
  const py = await pythonChild(graphPath('bench/py/charlm_torch.py'));
  if (py?.first !== 'ready') return null;
  return async () => ({
    run: async () => {
      if ((await py.ask('step')) !== 'ok') throw new Error('bench/py/charlm_torch.py stopped');
    },
  });
}
