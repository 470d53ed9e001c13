// Usage errors (no file, an unknown flag, a bad --dtype or --epochs, a file that is not
// there) exit 2 with a one-line message and a pointer to --help, never a stack trace.
// test/cli.test.ts checks the same exit codes from a real process (bin/graph-run.js).

import { describe, expect, it } from 'vitest';
import { cli, STACK } from './expect-error.js';

describe('usage errors exit 2', () => {
  it.each([
    { what: 'no file', argv: [], msg: /no graph file given/ },
    { what: 'no file after validate', argv: ['validate'], msg: /no graph file given/ },
    { what: 'an unknown flag', argv: ['graphs/gender.yaml', '--fast'], msg: /--fast/ },
    {
      what: 'a bad --dtype',
      argv: ['graphs/gender.yaml', '--dtype', 'f16'],
      msg: /--dtype must be f32 or f64, got "f16"/,
    },
    { what: 'a bad --epochs', argv: ['graphs/gender.yaml', '--epochs', 'many'], msg: /--epochs/ },
    { what: 'two files', argv: ['graphs/gender.yaml', 'graphs/neuron.yaml'], msg: /unexpected argument/ },
    { what: 'a file that does not exist', argv: ['graphs/nope.yaml'], msg: /graphs\/nope\.yaml/ },
    { what: 'a directory instead of a file', argv: ['validate', 'graphs'], msg: /"graphs": not a file/ },
  ])('$what', async ({ argv, msg }) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(msg);
    expect(r.err).toMatch(/^graph-run: /);
    expect(r.err).toContain('--help');
    expect(r.err).not.toMatch(STACK);
  });

  it('--help exits 0 and lists the commands and exit codes', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/graph-run validate/);
    expect(r.out).toMatch(/--dtype/);
    expect(r.out).toMatch(/Exit codes/);
  });
});
