// ONNX files are untrusted: every bad one is an ImportError (the CLI: one line, exit 1, no
// stack trace), sizes are checked before anything is allocated, and an op or opset graph-run
// lacks is named. Small models are built here with the generated protobuf code; truncated and
// corrupted copies of a real model must never throw anything but an ImportError, and what they
// import must load as a graph or fail with graph errors.

import { create, toBinary } from '@bufbuild/protobuf';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ModelProtoSchema,
  type NodeProto,
  TensorProto_DataLocation,
  type TensorProto,
} from '../../runtime/import/onnx/gen/onnx_pb.js';
import { GraphErrors, ImportError, importOnnx, memoryIO, parseGraph } from '../../runtime/index.js';
import { runCli } from '../support/cli.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'graph-run-import-bad-'));
const mlp = readFileSync(join(root, 'test', 'fixtures', 'onnx', 'mlp.onnx'));

/** A model y = op(x) (x: [batch, 2] float), with extra initializers. */
function model(opts: { opset?: number; op?: string; domain?: string; inits?: Partial<TensorProto>[] } = {}) {
  const f32 = {
    elemType: 1,
    shape: {
      dim: [{ value: { case: 'dimParam' as const, value: 'N' } }, { value: { case: 'dimValue' as const, value: 2n } }],
    },
  };
  const node: Partial<Pick<NodeProto, 'name' | 'opType' | 'input' | 'output' | 'domain'>> = {
    name: 'the_node',
    opType: opts.op ?? 'Relu',
    input: ['x'],
    output: ['y'],
  };
  if (opts.domain) node.domain = opts.domain;
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [{ domain: '', version: BigInt(opts.opset ?? 17) }],
      graph: {
        name: 'g',
        node: [node],
        input: [{ name: 'x', type: { value: { case: 'tensorType', value: f32 } } }],
        output: [{ name: 'y', type: { value: { case: 'tensorType', value: f32 } } }],
        initializer: (opts.inits ?? []) as TensorProto[],
      },
    }),
  );
}

const refused = (bytes: Uint8Array, pattern: RegExp) => {
  let err: unknown;
  try {
    importOnnx(bytes, { file: 'm.onnx' });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ImportError);
  expect((err as Error).message).toMatch(pattern);
};

describe('bad ONNX models', () => {
  it('a small model built here imports (the builder is right)', () => {
    expect(importOnnx(model(), { file: 'm.onnx' }).yaml).toContain('op: relu');
  });

  it('an output that is another value (Identity) keeps its name', () => {
    const { yaml } = importOnnx(model({ op: 'Identity' }), { file: 'm.onnx' });
    expect(yaml).toContain('outputs:\n  y: x\n');
    expect(parseGraph(yaml, 'm.yaml', memoryIO({})).outputs.map((o) => o.name)).toEqual(['y']);
  });

  it('opsets 13 to 21 are accepted, others refused clearly', () => {
    for (const v of [13, 21]) expect(() => importOnnx(model({ opset: v }))).not.toThrow();
    refused(model({ opset: 12 }), /m\.onnx uses ONNX opset 12; graph-run imports opsets 13 to 21/);
    refused(model({ opset: 22 }), /opset 22/);
  });

  it('an unsupported op is refused naming the node and the op type', () => {
    refused(model({ op: 'NonMaxSuppression' }), /node "the_node": ONNX op "NonMaxSuppression" is not supported/);
    refused(model({ op: 'Relu', domain: 'com.microsoft' }), /node "the_node": op "Relu" of domain "com.microsoft"/);
  });

  it('a tensor over the size limits is refused before allocation', () => {
    // 2^20 x 2^20 elements and no data: refused from its dims alone.
    refused(
      model({ inits: [{ name: 'huge', dims: [1n << 20n, 1n << 20n], dataType: 1 }] }),
      /"huge" holds 1099511627776 elements, over the limit/,
    );
    refused(model({ inits: [{ name: 'wide', dims: [1n << 40n], dataType: 1 }] }), /dimension 1099511627776, outside/);
  });

  it("a tensor's data must be what its dims and type need", () => {
    refused(
      model({ inits: [{ name: 'w', dims: [1000n], dataType: 1, rawData: new Uint8Array(4) }] }),
      /tensor "w": FLOAT \[1000\] needs 4000 bytes of data, the file holds 4/,
    );
    refused(model({ inits: [{ name: 's', dims: [2n], dataType: 8 }] }), /"s" is STRING; graph-run imports float/);
  });

  it('data in an external file is refused', () => {
    refused(
      model({
        inits: [
          {
            name: 'w',
            dims: [2n],
            dataType: 1,
            dataLocation: TensorProto_DataLocation.EXTERNAL,
            externalData: [{ key: 'location', value: '../../etc/passwd' }] as TensorProto['externalData'],
          },
        ],
      }),
      /tensor "w" keeps its data in an external file/,
    );
  });

  it('files that are not ONNX are refused', () => {
    refused(new TextEncoder().encode('graph-run: 1\nname: x\n'), /m\.onnx is not an ONNX model/);
    refused(new Uint8Array(0), /not an ONNX model/);
  });

  it('truncated and corrupted copies of a real model: an ImportError or a graph that loads or fails as a graph', () => {
    let s = 12345;
    const rand = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
    const cases: Uint8Array[] = [];
    for (let n = 0; n < mlp.length; n += 13) cases.push(mlp.subarray(0, n));
    for (let k = 0; k < 150; k++) {
      const b = Uint8Array.from(mlp);
      for (let j = 0; j < 1 + (k % 4); j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      cases.push(b);
    }
    let imported = 0;
    for (const bytes of cases) {
      let r: ReturnType<typeof importOnnx> | undefined;
      try {
        r = importOnnx(bytes, { file: 'm.onnx', weights: 'm.safetensors' });
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(ImportError);
        continue;
      }
      imported++;
      // What imports is a graph: it loads, or its problems are graph errors.
      const io = memoryIO({});
      const bin = { ...io, readBytes: (p: string) => (p === 'm.safetensors' ? r!.weights : io.readBytes!(p)) };
      try {
        parseGraph(r.yaml, 'm.yaml', bin);
      } catch (e) {
        expect(e, String(e)).toBeInstanceOf(GraphErrors);
      }
    }
    expect(imported).toBeGreaterThan(0);
  });

  it('the CLI: exit 1 and one line, no stack trace; an oversized file is refused before it is read', async () => {
    const bad = join(tmp, 'bad.onnx');
    writeFileSync(bad, mlp.subarray(0, 300));
    const r = await runCli(['import', bad, '-o', join(tmp, 'bad.yaml')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^graph-run: .*bad\.onnx is not an ONNX model/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const big = join(tmp, 'big.onnx');
    writeFileSync(big, '');
    truncateSync(big, 65 * 1024 * 1024); // sparse: no 65 MiB written
    const b = await runCli(['import', big, '-o', join(tmp, 'big.yaml')]);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/over the 64 MiB limit for an imported model/);
    const op = join(tmp, 'op.onnx');
    writeFileSync(op, model({ op: 'Foo' }));
    const o = await runCli(['import', op, '-o', join(tmp, 'op.yaml')]);
    expect(o.code).toBe(1);
    expect(o.err.split('\n')[0]).toBe('graph-run: node "the_node": ONNX op "Foo" is not supported');
    expect((await runCli(['import', op, '-o', join(tmp, 'op.txt')])).code).toBe(2);
    expect((await runCli(['validate', 'graphs/xor.yaml', '-o', join(tmp, 'x.yaml')])).code).toBe(2);
  });
});

describe('the generated protobuf code', () => {
  it('is what `npm run gen:onnx` writes from runtime/import/onnx/proto/onnx.proto', () => {
    const out = mkdtempSync(join(tmpdir(), 'graph-run-gen-'));
    const r = spawnSync(join(root, 'node_modules', '.bin', 'buf'), ['generate', '-o', out], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const rel = join('runtime', 'import', 'onnx', 'gen', 'onnx_pb.ts');
    expect(
      readFileSync(join(out, rel), 'utf8') === readFileSync(join(root, rel), 'utf8'),
      'stale: run npm run gen:onnx',
    ).toBe(true);
  });
});
