// Issue 13, defects 2, 3, 7 and 8 (checkpoints): YAML aliases and sizes bounded with positioned
// errors; checkpoints refused without reading a special file or a payload the header does not
// describe; checkpoint metadata checked strictly.

import { execFileSync } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, GraphErrors, parseGraph } from '../../runtime/index.js';
import { cli, csvGraph, goodCsv, scratch } from './helpers.js';

const errorsOf = (text: string) => {
  try {
    parseGraph(text, 'a.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(GraphErrors);
    return (e as GraphErrors).errors;
  }
  throw new Error('parsed without errors');
};

describe('YAML aliases and size', () => {
  it('an unresolved alias is a positioned YamlSyntaxError, not a thrown ReferenceError', () => {
    const [e] = errorsOf('graph-run: 1\ninputs: *nope\n');
    expect(e!.kind).toBe('YamlSyntaxError');
    expect([e!.line, e!.col]).toEqual([2, 9]);
    expect(e!.message).toMatch(/unresolved alias \*nope/);
  });

  it('aliases expanding past the limit stop at the alias that crosses it, quickly', () => {
    const row = `[${Array.from({ length: 10_000 }, (_, i) => i).join(',')}]`;
    const text = `graph-run: 1\nr: &r ${row}\nx:\n${Array.from({ length: 999 }, () => '  - *r').join('\n')}\n`;
    const [e] = errorsOf(text);
    expect(e!.kind).toBe('YamlSyntaxError');
    expect(e!.message).toMatch(/aliases expand to more than 1000000 values/);
    expect(e!.line).toBeGreaterThan(3);
  });

  it('a billion laughs is refused at its alias', () => {
    let s = 'graph-run: 1\na0: &a0 [1,1,1,1,1,1,1,1,1,1]\n';
    for (let i = 1; i < 10; i++)
      s += `a${i}: &a${i} [${Array(10)
        .fill(`*a${i - 1}`)
        .join(',')}]\n`;
    expect(errorsOf(s)[0]!.message).toMatch(/aliases expand/);
  });

  it('YAML text over the size limit is refused before it is parsed', () => {
    const [e] = errorsOf(`# ${'x'.repeat(3 * 1024 * 1024)}\n`);
    expect(e!.kind).toBe('YamlSyntaxError');
    expect(e!.message).toMatch(/over the limit/);
  });
});

describe('checkpoints', () => {
  const setup = async () => {
    const dir = scratch({ 'd.csv': goodCsv, 'net.yaml': csvGraph('d.csv') });
    const ck = join(dir, 'm.safetensors');
    const r = await cli(['run', join(dir, 'net.yaml'), '--save', ck, '-q']);
    expect(r.code, r.err).toBe(0);
    return { dir, graph: join(dir, 'net.yaml'), ck };
  };

  it('--load of /dev/zero, /dev/stdin or a FIFO is refused at once', async () => {
    const { dir, graph } = await setup();
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    for (const f of ['/dev/zero', '/dev/stdin', join(dir, 'fifo')]) {
      const r = await cli(['run', graph, '--load', f]);
      expect(r.code, f).toBe(1);
      expect(r.err).toMatch(/cannot read checkpoint .*: it is not a regular file|cannot read checkpoint/);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('a checkpoint with data its header does not describe is refused before the data is read', async () => {
    const { graph, ck } = await setup();
    const size = readFileSync(ck).length;
    truncateSync(ck, size + 1024 * 1024 * 1024); // 1 GiB of zeros after the tensors (sparse)
    const r = await cli(['run', graph, '--load', ck]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bytes after the data its header describes/);
  });

  const rewrite = (ck: string, meta: Record<string, string>) => {
    const f = decodeSafetensors(readFileSync(ck));
    writeFileSync(ck, encodeSafetensors([...f.tensors.values()], { ...f.metadata, ...meta }));
  };

  it('metadata losses: null is refused (was a TypeError on --resume)', async () => {
    const { graph, ck } = await setup();
    rewrite(ck, { losses: 'null' });
    const r = await cli(['run', graph, '--resume', ck, '-q']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/metadata "losses" is not a list/);
    expect(r.err).not.toMatch(/TypeError|\n\s+at /);
  });

  it('metadata epoch "0x10" is not read as 16', async () => {
    const { graph, ck } = await setup();
    rewrite(ck, { epoch: '0x10' });
    const r = await cli(['run', graph, '--resume', ck, '-q']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/metadata epoch "0x10" is not a whole number/);
  });

  it('a NaN loss written as null reads back (a checkpoint of a diverged run resumes)', async () => {
    const { graph, ck } = await setup();
    rewrite(ck, { losses: '[{"epoch":0,"loss":null}]' });
    expect((await cli(['run', graph, '--resume', ck, '-q'])).code).toBe(0);
  });
});

describe('found by the fuzzer', () => {
  it('a ragged initial-value list ([0.5, [1, 2]] for shape [2]) is a DataError, not a RangeError', async () => {
    const { initGraph } = await import('./helpers.js');
    const dir = scratch({ 'w.json': '[0.5, &a [1, 2]]', 'net.yaml': initGraph('w.json') });
    const r = await cli(['validate', join(dir, 'net.yaml')]);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(/holds a ragged list \(3 numbers/);
  });

  it('a key that is an alias to a list is a positioned YamlSyntaxError (yaml stringified it with a warning)', () => {
    const [e] = errorsOf('graph-run: 1\na: &a [1]\n? *a\n: 2\n');
    expect(e!.message).toMatch(/a key must be a name or a number/);
    expect([e!.line, e!.col]).toEqual([3, 3]);
  });

  it('a key that is binary data (!!binary) is a positioned YamlSyntaxError, with no process warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const [e] = errorsOf('graph-run: 1\n!!binary AAAA: 2\n');
      expect(e!.kind).toBe('YamlSyntaxError');
      expect(e!.message).toMatch(/a key must be a name or a number, not .* binary data/);
      expect(e!.line).toBe(2);
      // Node emits warnings on a later tick.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
