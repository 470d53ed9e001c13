// The one system program a test drives: a Chromium for the browser end-to-end test (Graphviz
// is WebAssembly, @viz-js/viz, so the picture tests need nothing installed). On a machine with
// only Node and npm the browser test skips with one line naming the missing browser and how to
// get it; CI installs it (scripts/setup-browser.sh) and sets GRAPH_RUN_REQUIRE_BROWSER=1, which
// turns a missing browser into a failure, so nothing is silently skipped there.

import { existsSync } from 'node:fs';

export const requireBrowser = process.env.GRAPH_RUN_REQUIRE_BROWSER === '1';

/** The Chromium binary the browser test drives (GRAPH_RUN_CHROMIUM names another). */
export const CHROMIUM = process.env.GRAPH_RUN_CHROMIUM ?? '/usr/bin/chromium';

/** Whether the browser tests run: chromium is installed, or CI requires it (then they fail without it). */
export function hasChromium(): boolean {
  const found = existsSync(CHROMIUM);
  if (!found && !requireBrowser) {
    console.warn(
      `browser tests skipped: no Chromium at ${CHROMIUM}. Run \`bash scripts/setup-browser.sh\` (or set GRAPH_RUN_CHROMIUM) to enable them; GRAPH_RUN_REQUIRE_BROWSER=1 makes this a failure.`,
    );
  }
  return found || requireBrowser;
}
