// `graph-run --stats` for tests: the build statistics of one command, and the compile-once check.

import { expect } from 'vitest';
import { main } from '../../runtime/cli/main.js';

/** `graph-run ...args --stats --quiet` in this process: the exit code and the statistics. */
export async function statsOf(args: string[]): Promise<Record<string, number>> {
  const err: string[] = [];
  const code = await main(
    [...args, '--stats', '--quiet'],
    () => {},
    (l) => err.push(l),
  );
  expect(code, err.join('\n')).toBe(0);
  return parseStats(err);
}

/** The statistics in a command's stderr lines (`build stats: {...}`). */
export function parseStats(err: string[]): Record<string, number> {
  const line = err.find((l) => l.startsWith('build stats: '));
  expect(line, err.join('\n')).toBeDefined();
  return JSON.parse(line!.slice('build stats: '.length)) as Record<string, number>;
}

/** Every count is exactly 1, the data is read once, and the plans are exactly `plans`. */
export function expectBuiltOnce(stats: Record<string, number>, plans: string[]): void {
  const once = Object.entries(stats).filter(([, n]) => n !== 1);
  expect(once, `built more than once: ${JSON.stringify(stats)}`).toEqual([]);
  expect(stats.data).toBe(1);
  expect(
    Object.keys(stats)
      .filter((k) => k.startsWith('plan '))
      .sort(),
  ).toEqual([...plans].sort());
  // The forward graph (at least) and, for a graph that trains, a reverse graph were built.
  expect(Object.keys(stats).some((k) => k.startsWith('graph '))).toBe(true);
  expect(Object.keys(stats).some((k) => k.startsWith('reverse'))).toBe(true);
}
