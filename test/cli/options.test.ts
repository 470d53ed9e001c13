// The table-driven parser: options anywhere (before the command too), commander's errors
// as graph-run usage errors (exit 2), options given to a command that does not take them,
// per-command help, and --stats' line on stderr.

import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { STACK } from '../errors/expect-error.js';

const cli = runCli;

describe('graph-run options', () => {
  it('takes options before the command as well as after the file', async () => {
    const r = await cli(['--json', 'validate', 'graphs/gender.yaml']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ valid: true, file: 'graphs/gender.yaml' });
    const v = await cli(['validate', '--dtype=f64', 'graphs/gender.yaml']);
    expect(v.code, v.err).toBe(0);
  });

  it.each([
    {
      argv: ['graphs/gender.yaml', '--dtpye', 'f64'],
      msg: "graph-run: unknown option '--dtpye' (did you mean --dtype?)",
    },
    { argv: ['graphs/gender.yaml', '--epochs'], msg: "graph-run: option '--epochs <N>' argument missing" },
    {
      argv: ['validate', 'graphs/gender.yaml', '--save', 'x'],
      msg: 'graph-run: --save, --save-every and --resume belong to a training run',
    },
    {
      argv: ['graphs/gender.yaml', '--backward'],
      msg: 'graph-run: --backward, --mermaid and --svg belong to graph-run dot',
    },
    {
      argv: ['dot', 'graphs/gender.yaml', '--step', '2'],
      msg: 'graph-run: --step, --sample and --full belong to graph-run trace (and --step, --sample to dot --trace)',
    },
    {
      argv: ['check', 'graphs/gender.yaml', '--explain'],
      msg: 'graph-run: --device, --strict-device and --explain belong to a run (or graph-run plan, eval, predict; --device and --strict-device also to trace and generate)',
    },
    {
      argv: ['graphs/gender.yaml', '--device', 'tpu'],
      msg: 'graph-run: --device must be cpu, webgpu or auto, got "tpu"',
    },
    {
      argv: ['graphs/gender.yaml', '--save-every', '0'],
      msg: 'graph-run: --save-every must be a whole number >= 1, got "0"',
    },
  ])('$argv.1 $argv.2: exit 2, $msg', async ({ argv, msg }) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toEqual([msg, 'Try graph-run --help.']);
    expect(r.err).not.toMatch(STACK);
  });

  it('<command> --help lists that command and its own options only', async () => {
    const r = await cli(['trace', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: graph-run trace <graph.yaml> \[options\]$/m);
    expect(r.out).toContain('--step N');
    expect(r.out).not.toContain('--save');
    const all = await cli(['graphs/gender.yaml', '--help']);
    expect(all.out).toMatch(/^Ops: /m);
  });

  it('--stats prints one line of build statistics on stderr after the command', async () => {
    const r = await cli(['validate', 'graphs/gender.yaml', '--stats']);
    expect(r.code).toBe(0);
    const lines = r.err.split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^build stats: \{.*\}$/);
    const stats = JSON.parse(lines[0]!.slice('build stats: '.length)) as Record<string, number>;
    for (const v of Object.values(stats)) expect(Number.isInteger(v)).toBe(true);
    expect((await cli(['validate', 'graphs/gender.yaml'])).err).toBe('');
  });
});
