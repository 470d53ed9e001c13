// System programs some tests drive: Debian's chromium (the browser test) and Graphviz's `dot`
// (SVG pictures). On a machine with only Node and npm these tests skip with one line saying how
// to enable them; CI installs both (scripts/setup-browser.sh) and sets GRAPH_RUN_REQUIRE_SYSTEM=1,
// which turns a missing program into a failure, so nothing is silently skipped there.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const requireSystem = process.env.GRAPH_RUN_REQUIRE_SYSTEM === '1';

function available(name: string, found: boolean, how: string): boolean {
  if (!found && !requireSystem) {
    console.warn(
      `${name} tests skipped: ${name} is not installed. ${how} to enable them; GRAPH_RUN_REQUIRE_SYSTEM=1 makes this a failure.`,
    );
  }
  return found || requireSystem;
}

export const CHROMIUM = process.env.GRAPH_RUN_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser tests run: chromium is installed, or CI requires it (then they fail without it). */
export function hasChromium(): boolean {
  return available('chromium', existsSync(CHROMIUM), 'Run `bash scripts/setup-browser.sh`');
}

/** Whether the Graphviz tests run: `dot` is on the PATH, or CI requires it. */
export function hasGraphviz(): boolean {
  const r = spawnSync('dot', ['-V'], { encoding: 'utf8' });
  return available('Graphviz', !r.error, 'Run `apt-get install graphviz` (or `bash scripts/setup-browser.sh`)');
}
