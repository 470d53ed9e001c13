// A terminal for tests of what the CLI draws on one (progress bars, loading lines), and the CI
// variable set aside while they run: the bar is off under CI=... (CI logs are not terminals), so
// these tests decide for themselves.

import { afterEach, beforeEach } from 'vitest';
import type { Terminal } from '../../runtime/index.js';

/** A terminal `columns` wide that keeps what is written to it. */
export function fakeTerminal(columns = 80): Terminal & { written: string[] } {
  const written: string[] = [];
  return { isTTY: true, columns, write: (s) => void written.push(s), written };
}

/** Unset CI for each test of the calling file, restoring it afterwards. */
export function withoutCI(): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.CI;
    delete process.env.CI;
  });
  afterEach(() => {
    if (saved !== undefined) process.env.CI = saved;
  });
}
