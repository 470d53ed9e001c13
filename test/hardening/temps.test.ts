// Issue 13, defect 10: the temporary file of a save killed midway (.NAME.PID.XXXX.tmp) is removed
// by the next save to the same path; a running process's temporary file is left alone.

import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, csvGraph, goodCsv, scratch } from './helpers.js';

describe('temporary files of interrupted saves', () => {
  it("the next --save removes a dead process's leftovers, not a live one's or other files", async () => {
    const dir = scratch({ 'd.csv': goodCsv, 'net.yaml': csvGraph('d.csv') });
    // A pid that cannot be running (above Linux's pid_max of 2^22).
    const dead = join(dir, '.m.safetensors.9999999.kx1abc.tmp');
    const live = join(dir, `.m.safetensors.${process.ppid}.kx1abd.tmp`);
    const other = join(dir, '.other.safetensors.9999999.kx1abc.tmp');
    for (const f of [dead, live, other]) writeFileSync(f, 'x'.repeat(1000));
    const r = await cli(['run', join(dir, 'net.yaml'), '--save', join(dir, 'm.safetensors'), '-q']);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.startsWith('.m.safetensors.'))).toEqual([live.slice(dir.length + 1)]);
  });
});
