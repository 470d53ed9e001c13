// docs/cli.md's reference and the README's command-line block are generated from the command
// and option tables (runtime/cli/table.ts), as `--help` is: this fails when they are stale
// (`npm run docs:cli` rewrites them), and checks that help lists every command and option.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliDocs, commandHelp, helpText, optionLabel } from '../../runtime/cli/help.js';
import { commands, options, optionsOf } from '../../runtime/cli/table.js';

describe('the CLI docs come from the table', () => {
  for (const [file, text] of Object.entries(cliDocs((f) => readFileSync(f, 'utf8')))) {
    it(`${file} is up to date (npm run docs:cli)`, () => {
      expect(readFileSync(file, 'utf8')).toBe(text);
    });
  }

  it('--help lists every command and every option', () => {
    const help = helpText();
    for (const c of commands) expect(help).toContain(`graph-run ${c.usage}`);
    for (const o of options) expect(help).toContain(optionLabel(o));
  });

  it('<command> --help lists exactly the options that command takes', () => {
    for (const c of commands) {
      const help = commandHelp(c.name);
      for (const o of options) {
        const listed = help.includes(`  ${optionLabel(o)} `);
        expect(listed, `${c.name} ${optionLabel(o)}`).toBe(optionsOf(c.name).includes(o));
      }
    }
  });
});
