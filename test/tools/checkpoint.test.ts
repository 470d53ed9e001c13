// Checkpoints: the safetensors file read back by an independent reader written from the
// format's documentation; resuming is bit-identical to never stopping (f32 and f64, with an
// optimizer that has state); bad checkpoints name the tensor, exit 1 and leave the session
// untouched; writes are atomic even when the writer is killed mid-run.

import { beforeAll, describe, expect, it } from 'vitest';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
  mkdirSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { checkpointBytes, compile, loadGraph, restoreCheckpoint, CheckpointError } from '../../runtime/index.js';
import { runCli } from '../support/cli.js';
import { writeFileAtomic } from '../../runtime/cli/files.js';

/** A safetensors header entry's byte range. */
type Offsets = { data_offsets: [number, number] };

const cli = runCli;

const tmp = mkdtempSync(join(tmpdir(), 'graph-run-ckpt-'));

/** Independent safetensors reader, from the format's documentation (not the runtime's decoder). */
function readSafetensors(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  > & { __metadata__?: Record<string, string> };
  const base = 8 + n;
  const tensors: Record<string, { dtype: string; shape: number[]; values: number[] }> = {};
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    const t = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const values: number[] = [];
    const size = t.dtype === 'F64' ? 8 : 4;
    for (let o = t.data_offsets[0]; o < t.data_offsets[1]; o += size) {
      values.push(
        t.dtype === 'F64'
          ? view.getFloat64(base + o, true)
          : t.dtype === 'F32'
            ? view.getFloat32(base + o, true)
            : view.getInt32(base + o, true),
      );
    }
    tensors[k] = { dtype: t.dtype, shape: t.shape, values };
  }
  return { headerLength: n, dataStart: base, metadata: header.__metadata__ ?? {}, tensors, header };
}

// A graph with an optimizer that keeps state (momentum), so resuming must restore the state too.
const momentumDir = join(tmp, 'momentum');
mkdirSync(momentumDir);
writeFileSync(
  join(momentumDir, 'momentum.yaml'),
  `graph-run: 1
name: momentum
attrs:
  lr: {description: learning rate}
  mu: {description: momentum}
inputs:
  param: {}
  grad: {}
state:
  velocity: {init: 0}
nodes:
  - {name: scaled, op: mul, inputs: [mu, velocity]}
  - {name: v, op: add, inputs: [scaled, grad]}
  - {name: step, op: mul, inputs: [lr, v]}
  - {name: updated, op: sub, inputs: [param, step]}
outputs:
  param: updated
  velocity: v
`,
);
copyFileSync('graphs/lib/losses/mse.yaml', join(momentumDir, 'mse.yaml'));
const gender = readFileSync('graphs/gender.yaml', 'utf8')
  .replace('std:losses/mse.yaml', './mse.yaml')
  .replace('graph: std:optimizers/sgd.yaml\n  with: {lr: 0.1}', 'graph: ./momentum.yaml\n  with: {lr: 0.05, mu: 0.9}')
  .replace('epochs: 1000', 'epochs: 300')
  .replace('# yaml-language-server: $schema=../schemas/graph.schema.json', '');
const momentumGraph = join(momentumDir, 'gender-momentum.yaml');
writeFileSync(momentumGraph, gender);

describe('checkpoint file format', () => {
  it('is safetensors: an independent reader finds the parameters, optimizer state and position', async () => {
    const file = join(tmp, 'm.safetensors');
    const r = await cli([momentumGraph, '--epochs', '120', '--save', file]);
    expect(r.code, r.err).toBe(0);
    const bytes = readFileSync(file);
    const f = readSafetensors(bytes);
    expect(f.dataStart % 8).toBe(0);
    expect(f.metadata.format).toBe('graph-run checkpoint 1');
    expect(f.metadata.epoch).toBe('120');
    expect(f.metadata.dtype).toBe('f32');
    expect(f.metadata.graph).toBe('gender');
    // Before training (epoch -1), epochs 0, 10, ..., 110, and the last one, 119.
    expect(JSON.parse(f.metadata.losses!).map((r: { epoch: number }) => r.epoch)).toEqual([
      -1,
      ...Array.from({ length: 12 }, (_, i) => i * 10),
      119,
    ]);
    expect(Object.keys(f.tensors).sort()).toEqual([
      'b1',
      'b2',
      'optimizer/b1/velocity',
      'optimizer/b2/velocity',
      'optimizer/w1/velocity',
      'optimizer/w2/velocity',
      'w1',
      'w2',
    ]);
    expect(f.tensors.w1).toMatchObject({ dtype: 'F32', shape: [2, 2] });
    expect(f.tensors['optimizer/w2/velocity']).toMatchObject({ dtype: 'F32', shape: [1, 2] });
    // The values are the session's after 120 epochs, exactly.
    const s = compile(loadGraph(momentumGraph));
    s.train({ epochs: 120 });
    for (const [name, buf] of [...s.params, ...s.state]) expect(f.tensors[name]!.values, name).toEqual(Array.from(buf));
    // Offsets tile the data with no gaps, and the file ends with the last tensor.
    const spans = Object.values(f.header)
      .filter((v) => 'data_offsets' in v)
      .map((v) => (v as { data_offsets: [number, number] }).data_offsets)
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [b, e] of spans) {
      expect(b).toBe(at);
      at = e;
    }
    expect(f.dataStart + at).toBe(bytes.length);
  });

  it('f64 sessions write F64 tensors', () => {
    const s = compile(loadGraph('graphs/gender.yaml'), { dtype: 'f64' });
    const f = readSafetensors(checkpointBytes(s, { epoch: 0, losses: [] }));
    expect(f.tensors.w1!.dtype).toBe('F64');
    expect(f.tensors.w1!.values).toEqual([0.1, 0.1, 0.1, 0.1]);
  });
});

describe('--resume', () => {
  for (const dtype of ['f32', 'f64'] as const) {
    for (const graph of ['graphs/gender.yaml', momentumGraph]) {
      it(`${dtype}, ${graph.endsWith('momentum.yaml') ? 'momentum (optimizer state)' : 'sgd'}: stopping and resuming gives the same bits as never stopping`, async () => {
        const epochs = 300;
        const straight = await cli([graph, '--dtype', dtype, '--epochs', String(epochs), '--json']);
        expect(straight.code, straight.err).toBe(0);
        const file = join(tmp, `resume-${dtype}-${graph.length}.safetensors`);
        const first = await cli([graph, '--dtype', dtype, '--epochs', '137', '--save', file, '--json']);
        expect(first.code, first.err).toBe(0);
        const second = await cli([
          graph,
          '--dtype',
          dtype,
          '--epochs',
          String(epochs),
          '--resume',
          file,
          '--save',
          file,
          '--json',
        ]);
        expect(second.code, second.err).toBe(0);
        const a = JSON.parse(straight.out),
          b = JSON.parse(second.out);
        // JSON numbers of f32/f64 values round-trip exactly, so equality here is bit equality.
        expect(b.params).toEqual(a.params);
        expect(b.predictions).toEqual(a.predictions);
        // The same history, plus the record of the first run's last epoch (136, always logged).
        const joined = [...JSON.parse(first.out).losses, ...b.losses];
        const stop = (r: { epoch: number }) => r.epoch === 136;
        expect(joined.filter((r) => !stop(r))).toEqual(a.losses);
        expect(joined.filter(stop)).toHaveLength(1);
        // The final checkpoint holds the full loss history and the position reached.
        const f = readSafetensors(readFileSync(file));
        expect(f.metadata.epoch).toBe(String(epochs));
        expect(JSON.parse(f.metadata.losses!)).toEqual(joined);
      });
    }
  }

  it('--save-every writes a checkpoint that resumes identically', async () => {
    const file = join(tmp, 'every.safetensors');
    const r = await cli([momentumGraph, '--epochs', '50', '--save', file, '--save-every', '20', '--json']);
    expect(r.code, r.err).toBe(0);
    expect(readSafetensors(readFileSync(file)).metadata.epoch).toBe('50');
    const s = compile(loadGraph(momentumGraph));
    s.train({ epochs: 40 });
    const mid = readSafetensors(checkpointBytes(s, { epoch: 40, losses: [] }));
    // The library API: restore into a fresh session and continue.
    const s2 = compile(loadGraph(momentumGraph));
    const pos = restoreCheckpoint(s2, checkpointBytes(s, { epoch: 40, losses: [] }), { resume: true });
    expect(pos!.epoch).toBe(40);
    expect(Array.from(s2.params.get('w1')!)).toEqual(mid.tensors.w1!.values);
    s.train({ epochs: 50, from: 40 });
    s2.train({ epochs: 50, from: pos!.epoch });
    for (const [k, v] of s.params) expect(Array.from(s2.params.get(k)!)).toEqual(Array.from(v));
  });

  it("--load predicts with the checkpoint's parameters and does not train", async () => {
    const file = join(tmp, 'load.safetensors');
    await cli(['graphs/gender.yaml', '--epochs', '200', '--save', file]);
    const trained = JSON.parse((await cli(['graphs/gender.yaml', '--epochs', '200', '--json'])).out);
    const r = await cli(['graphs/gender.yaml', '--load', file, '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.losses).toBeUndefined();
    expect(j.predictions).toEqual(trained.predictions);
  });
});

describe('bad checkpoints', () => {
  const good = join(tmp, 'good.safetensors');
  beforeAll(async () => {
    await cli([momentumGraph, '--epochs', '10', '--save', good]);
  });

  /** Try a checkpoint through the CLI (exit 1, message) and the library (session untouched). */
  async function rejects(bytes: Uint8Array, tensor: string | undefined, message: RegExp, resume = true) {
    const file = join(tmp, `bad-${Math.random().toString(36).slice(2)}.safetensors`);
    writeFileSync(file, bytes);
    const out = join(tmp, `never-${Math.random().toString(36).slice(2)}.safetensors`);
    const r = await cli([momentumGraph, resume ? '--resume' : '--load', file, '--save', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    if (tensor) expect(r.err).toContain(`"${tensor}"`);
    expect(r.out).not.toContain('training'); // stopped before training
    expect(existsSync(out)).toBe(false);
    const s = compile(loadGraph(momentumGraph));
    s.train({ epochs: 3 });
    const before = new Map([...s.params, ...s.state].map(([k, v]) => [k, v.slice()]));
    let err: unknown;
    try {
      restoreCheckpoint(s, bytes, { resume });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    if (tensor) expect((err as CheckpointError).tensor).toBe(tensor);
    for (const [k, v] of [...s.params, ...s.state])
      expect(Array.from(v), `${k} untouched`).toEqual(Array.from(before.get(k)!));
  }

  /** The good checkpoint with its header edited (same data). */
  // biome-ignore lint/suspicious/noExplicitAny: a safetensors header, edited freely to make damaged files
  function edit(f: (h: Record<string, any>) => void, data?: (d: Uint8Array) => Uint8Array): Uint8Array {
    const bytes = readFileSync(good);
    const { headerLength, header } = readSafetensors(bytes);
    f(header);
    let d: Uint8Array = bytes.subarray(8 + headerLength);
    if (data) d = data(d);
    const json = Buffer.from(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + d.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(d, 8 + json.length);
    return out;
  }

  it('truncated: names the tensor that does not fit', async () => {
    const bytes = readFileSync(good);
    const { header } = readSafetensors(bytes);
    const last = Object.entries(header)
      .filter(([k]) => k !== '__metadata__')
      .sort((a, b) => (b[1] as Offsets).data_offsets[1] - (a[1] as Offsets).data_offsets[1])[0]![0];
    await rejects(bytes.subarray(0, bytes.length - 3), last, /truncated/);
    await rejects(bytes.subarray(0, 20), undefined, /truncated/);
    await rejects(bytes.subarray(0, 5), undefined, /not a safetensors file/);
  });

  it('missing tensor: names it', async () => {
    const bytes = edit(
      (h) => {
        const off = h.b2.data_offsets;
        delete h.b2;
        // keep the data tiling intact: shift later tensors down
        for (const v of Object.values(h))
          if (v.data_offsets && v.data_offsets[0] >= off[1])
            v.data_offsets = [v.data_offsets[0] - 4, v.data_offsets[1] - 4];
      },
      (d) => {
        const { header } = readSafetensors(readFileSync(good));
        const [b, e] = header.b2!.data_offsets;
        return new Uint8Array([...d.subarray(0, b), ...d.subarray(e)]);
      },
    );
    await rejects(bytes, 'b2', /has no tensor "b2"/);
  });

  it('missing optimizer state: needed to resume, not to load', async () => {
    const { header } = readSafetensors(readFileSync(good));
    const name = 'optimizer/w1/velocity';
    const [b, e] = header[name]!.data_offsets;
    const bytes = edit(
      (h) => {
        delete h[name];
        for (const v of Object.values(h))
          if (v.data_offsets && v.data_offsets[0] >= e)
            v.data_offsets = [v.data_offsets[0] - (e - b), v.data_offsets[1] - (e - b)];
      },
      (d) => new Uint8Array([...d.subarray(0, b), ...d.subarray(e)]),
    );
    await rejects(bytes, name, /has no tensor "optimizer\/w1\/velocity"/);
    const file = join(tmp, 'no-state.safetensors');
    writeFileSync(file, bytes);
    expect((await cli([momentumGraph, '--load', file])).code).toBe(0);
  });

  it('wrong shape: names the tensor and both shapes', async () => {
    await rejects(
      edit((h) => {
        h.w1.shape = [4, 1];
      }),
      'w1',
      /"w1" has shape \[4, 1\], the graph's parameter has \[2, 2\]/,
    );
  });

  it('wrong dtype: an f64 checkpoint in an f32 run', async () => {
    const file = join(tmp, 'f64.safetensors');
    expect((await cli([momentumGraph, '--dtype', 'f64', '--epochs', '5', '--save', file])).code).toBe(0);
    await rejects(readFileSync(file), 'w1', /"w1" is F64, the session is f32/);
  });

  it("a tensor the graph does not have (another graph's checkpoint)", async () => {
    const bytes = edit(
      (h) => {
        const last = Math.max(
          ...Object.values(h)
            .filter((v) => (v as Partial<Offsets>).data_offsets)
            .map((v) => (v as Offsets).data_offsets[1]),
        );
        h.w3 = { dtype: 'F32', shape: [1], data_offsets: [last, last + 4] };
      },
      (d) => new Uint8Array([...d, 0, 0, 0, 0]),
    );
    await rejects(bytes, 'w3', /has tensor "w3", which graph "gender" does not have/);
  });

  it('damaged header, and a resume from a checkpoint with no position', async () => {
    const bytes = new Uint8Array(readFileSync(good));
    bytes[8] = 0x78; // 'x' where the JSON's '{' was
    await rejects(bytes, undefined, /damaged header/);
    await rejects(
      edit((h) => {
        delete h.__metadata__;
      }),
      undefined,
      /no training position/,
    );
  });

  it('a missing checkpoint file exits 1 naming it', async () => {
    const r = await cli([momentumGraph, '--resume', join(tmp, 'nope.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot read checkpoint');
  });
});

describe('writing checkpoints', () => {
  it('an unwritable --save path fails before training', async () => {
    const r = await cli(['graphs/gender.yaml', '--save', join(tmp, 'no', 'such', 'dir', 'm.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('cannot write checkpoint');
    expect(r.out).toBe('');
  });

  it('usage: --resume with --load, --save-every without --save', async () => {
    expect((await cli(['graphs/gender.yaml', '--resume', 'a', '--load', 'b'])).code).toBe(2);
    expect((await cli(['graphs/gender.yaml', '--save-every', '3'])).code).toBe(2);
    expect((await cli(['graphs/gender.yaml', '--save-every', '0', '--save', 'x'])).code).toBe(2);
  });

  it('a failed write leaves the old file and no temporary files', () => {
    const dir = join(tmp, 'atomic');
    mkdirSync(dir);
    const target = join(dir, 'target');
    mkdirSync(target); // rename over a directory fails
    writeFileSync(join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, new Uint8Array(10), 'checkpoint')).toThrow(/cannot write checkpoint/);
    expect(readdirSync(dir)).toEqual(['target']);
  });

  it('a writer killed mid-run never leaves a broken checkpoint', async () => {
    const file = join(tmp, 'killed.safetensors');
    const cliJs = join(tmp, 'run-cli.ts');
    writeFileSync(
      cliJs,
      `import { main } from ${JSON.stringify(join(process.cwd(), 'runtime/cli/main.ts'))};\nmain(process.argv.slice(2)).then((code) => {\n  process.exitCode = code;\n});\n`,
    );
    const checks: number[] = [];
    // One process (node --import tsx), so SIGKILL stops the writer itself.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cliJs, momentumGraph, '--epochs', '1000000', '--save', file, '--save-every', '1'],
      { stdio: 'ignore' },
    );
    // Read the file while it is being replaced many times a second, then kill the writer.
    await new Promise<void>((resolve) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (existsSync(file)) {
          const f = readSafetensors(readFileSync(file));
          checks.push(Number(f.metadata.epoch));
          expect(Object.keys(f.tensors).length).toBe(8);
        }
        if (checks.length >= 20 || Date.now() - started > 20_000) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
    });
    await new Promise((r) => child.on('exit', r));
    expect(checks.length).toBeGreaterThanOrEqual(20);
    const after = readSafetensors(readFileSync(file));
    expect(Number(after.metadata.epoch)).toBeGreaterThan(0);
    // The file decodes in the runtime too, and resumes.
    expect(statSync(file).size).toBe(readFileSync(file).length);
    const s = compile(loadGraph(momentumGraph));
    expect(restoreCheckpoint(s, readFileSync(file), { resume: true })!.epoch).toBe(Number(after.metadata.epoch));
  }, 40_000);
});
