// The options of the commands that drive other runs (sweep) or a trained model (generate), kept
// beside the main table (table.ts), which spreads them into its option list.

import { MAX_TOKENS, UsageError } from '../index.js';
import type { OptionSpec } from './table.js';

/** A whole number flag value of at least `min`, or a UsageError naming the flag. */
export const whole = (flag: string, min: number) => (s: string) => {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < min) throw new UsageError(`${flag} must be a whole number >= ${min}, got "${s}"`);
  return n;
};

const generateFlags = '--prompt, --tokens, --seed, --temperature and --top-k belong to graph-run generate';
const sweepFlags = '--jobs, --yes and --emit belong to graph-run sweep';
const emitFlags = '--image and --parallelism belong to graph-run sweep --emit k8s';

/** `graph-run sweep`'s options (its --set lists and --out are in the main table). */
export const sweepOptions: readonly OptionSpec[] = [
  {
    flags: '--jobs <N>',
    help: 'sweep: grid points trained at once, each in its own process (default: the CPU cores)',
    commands: ['sweep'],
    misplaced: sweepFlags,
    value: whole('--jobs', 1),
  },
  {
    flags: '--yes',
    help: 'sweep: run (or emit) a grid of more than 10,000 points',
    commands: ['sweep'],
    misplaced: sweepFlags,
  },
  {
    flags: '--index <I>',
    help: 'sweep: train grid point I only (from 0, in the order the table lists them) and print its row: what each pod of the Kubernetes Job runs',
    commands: ['sweep'],
    when: (o) => o.emit === undefined,
    misplaced: '--index belongs to graph-run sweep, without --emit',
    value: whole('--index', 0),
  },
  {
    flags: '--emit <k8s>',
    help: 'sweep: write a Kubernetes Indexed Job manifest (one completion index per grid point) to --out or stdout instead of running',
    commands: ['sweep'],
    misplaced: sweepFlags,
    value: (s) => {
      if (s !== 'k8s') throw new UsageError(`--emit takes k8s, got "${s}"`);
      return s;
    },
  },
  {
    flags: '--image <NAME>',
    help: "sweep --emit k8s: the container image, holding graph-run and the graph's files in /work (default graph-run:VERSION)",
    commands: ['sweep'],
    when: (o) => o.emit !== undefined,
    misplaced: emitFlags,
  },
  {
    flags: '--parallelism <N>',
    help: 'sweep --emit k8s: pods running at once (default: the grid size, at most 16)',
    commands: ['sweep'],
    when: (o) => o.emit !== undefined,
    misplaced: emitFlags,
    value: whole('--parallelism', 1),
  },
];

/** `graph-run generate`'s options. */
export const generateOptions: readonly OptionSpec[] = [
  {
    flags: '--prompt <TEXT>',
    help: 'generate: the text to continue (its characters must be in the vocab; only its last T are read, T the context)',
    commands: ['generate'],
    misplaced: generateFlags,
  },
  {
    flags: '--tokens <N>',
    help: `generate: how many characters to write after the prompt (default 200, at most ${MAX_TOKENS})`,
    commands: ['generate'],
    misplaced: generateFlags,
    value: (s) => {
      const n = whole('--tokens', 1)(s);
      if (n > MAX_TOKENS) throw new UsageError(`--tokens must be at most ${MAX_TOKENS}, got "${s}"`);
      return n;
    },
  },
  {
    flags: '--seed <N>',
    help: 'generate: the seed of the draws (default 1): the same seed writes the same text',
    commands: ['generate'],
    misplaced: generateFlags,
    value: (s) => {
      const n = whole('--seed', 0)(s);
      if (n > 0xffffffff) throw new UsageError(`--seed must be at most 4294967295, got "${s}"`);
      return n;
    },
  },
  {
    flags: '--temperature <T>',
    help: 'generate: divide the logits by T before the softmax (default 1; below 1 more likely characters, above 1 more varied)',
    commands: ['generate'],
    misplaced: generateFlags,
    value: (s) => {
      const t = Number(s);
      if (!/^\d*\.?\d+(e[-+]?\d+)?$/i.test(s) || !(t > 0) || t > 100)
        throw new UsageError(`--temperature must be a number > 0 and <= 100, got "${s}"`);
      return t;
    },
  },
  {
    flags: '--top-k <K>',
    help: 'generate: draw among the K most likely characters only',
    commands: ['generate'],
    misplaced: generateFlags,
    value: whole('--top-k', 1),
  },
];
