// A progress line on stderr while a data file loads: drawn in place on a terminal once loading
// has taken a second, ended with one line when it is read through; nothing otherwise (piped
// output, --quiet, --json), so logs and tests stay clean. Fed by the LoaderIO's `progress`.

import type { LoaderIO, Terminal } from '../index.js';

/** Seconds of loading before the line appears; redraws at most this often after that (ms). */
const AFTER_MS = 1000;
const EVERY_MS = 100;

const mib = (n: number) => `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MiB`;

/** The `progress` of a LoaderIO that draws the line on `term` (a terminal; `now` in ms, for tests). */
export function loadingLine(
  term: Terminal,
  now: () => number = () => performance.now(),
): NonNullable<LoaderIO['progress']> {
  const started = new Map<string, number>();
  let drawn = 0;
  let shown = false;
  return (path, bytes, total, done) => {
    const t = now();
    const t0 = started.get(path) ?? t;
    started.set(path, t0);
    if (done) {
      started.delete(path);
      if (!shown) return;
      shown = false;
      // Read through: the line stays, with the time taken; stopped (an error follows): cleared.
      term.write(
        bytes >= total ? `\rloaded ${path}  ${mib(total)} in ${((t - t0) / 1000).toFixed(1)} s\x1b[K\n` : '\r\x1b[K',
      );
      return;
    }
    if (t - t0 < AFTER_MS || (shown && t - drawn < EVERY_MS)) return;
    drawn = t;
    shown = true;
    term.write(`\rloading ${path}  ${mib(bytes)} of ${mib(total)}\x1b[K`);
  };
}
