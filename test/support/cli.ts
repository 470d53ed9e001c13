// The CLI in process: `main()` with its output collected, for tests that check what a command
// prints and its exit code (test/cli/graph-run.ts runs the real executable instead).

import { main } from '../../runtime/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `graph-run ...argv` in this process: the exit code, stdout and stderr (lines joined by \n). */
export async function runCli(argv: string[]): Promise<CliResult> {
  const out: string[] = [],
    err: string[] = [];
  const code = await main(
    argv,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}
