// Issue 13, defect 5: outputs that would overwrite a file the run reads are refused (exit 2)
// before anything runs, and the file is left as it was.

import { linkSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, csvGraph, goodCsv, scratch, subGraph } from './helpers.js';

describe('outputs onto inputs', () => {
  const setup = () => {
    const dir = scratch({
      'd.csv': goodCsv,
      'net.yaml': csvGraph('d.csv'),
      'sub.yaml':
        'graph-run: 1\ninputs:\n  x: {shape: [2]}\nnodes:\n  - {name: y, op: neg, inputs: [x]}\noutputs: [y]\n',
      'top.yaml': subGraph('sub.yaml'),
    });
    return { dir, at: (f: string) => join(dir, f) };
  };
  const unchanged = async (argv: string[], file: string, message: RegExp) => {
    const before = readFileSync(file, 'utf8');
    const r = await cli(argv);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect(readFileSync(file, 'utf8')).toBe(before);
  };

  it('--save onto the graph file', async () => {
    const { at } = setup();
    await unchanged(['run', at('net.yaml'), '--save', at('net.yaml')], at('net.yaml'), /--save .* would overwrite/);
  });

  it('--plot onto the training CSV (and through a hard link to it)', async () => {
    const { at } = setup();
    await unchanged(['run', at('net.yaml'), '--plot', at('d.csv')], at('d.csv'), /--plot .* would overwrite/);
    linkSync(at('d.csv'), at('link.svg'));
    await unchanged(['run', at('net.yaml'), '--plot', at('link.svg')], at('d.csv'), /would overwrite/);
  });

  it('export --onnx onto the graph file, dot --svg onto a subgraph', async () => {
    const { at } = setup();
    await unchanged(['export', at('net.yaml'), '--onnx', at('net.yaml')], at('net.yaml'), /--onnx .* would overwrite/);
    await unchanged(['dot', at('top.yaml'), '--svg', at('sub.yaml')], at('sub.yaml'), /--svg .* would overwrite/);
  });

  it('--save onto the --load checkpoint is refused; onto the --resume checkpoint it continues it in place', async () => {
    const { at } = setup();
    const ck = at('m.safetensors');
    expect((await cli(['run', at('net.yaml'), '--save', ck, '-q'])).code).toBe(0);
    await unchanged(['run', at('net.yaml'), '--load', ck, '--save', ck], ck, /would overwrite/);
    expect((await cli(['run', at('net.yaml'), '--resume', ck, '--save', ck, '--epochs', '2', '-q'])).code).toBe(0);
  });
});
