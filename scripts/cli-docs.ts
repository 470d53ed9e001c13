// Regenerate the command-line reference in docs/cli.md and the README's command-line block
// from runtime/cli/table.ts (`npm run docs:cli`); `--check` exits 1 instead when they are stale.
// test/cli/docs.test.ts runs the same comparison.

import { readFileSync, writeFileSync } from 'node:fs';
import { cliDocs } from '../runtime/cli/help.js';

const check = process.argv.includes('--check');
let stale = false;
for (const [file, text] of Object.entries(cliDocs((f) => readFileSync(f, 'utf8')))) {
  if (readFileSync(file, 'utf8') === text) continue;
  stale = true;
  if (check) process.stderr.write(`${file} is stale: run npm run docs:cli\n`);
  else {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}
if (check && stale) process.exitCode = 1;
