// sum and mean over arena buffers on the fast CPU tier: the WebAssembly SIMD loops
// (executors/cpu/wasm/reduce.ts) for the leading-axes layout (a bias gradient) and the
// trailing-axes layout (a row: a layer norm's mean, a softmax's sum) must give the reference
// kernel's bits (inputs of 64 elements or more: shorter ones are not arena buffers), on shapes whose rows and columns are not multiples of 4, on one row or one
// column, and on values that round (mixed magnitudes), with ±0, ±∞ and NaN among them.

import { describe, expect, it } from 'vitest';
import { registry } from '../../runtime/ops/registry.js';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { kernels } from '../../runtime/executors/cpu/threads.js';
import { sizeOf, type TensorType } from '../../runtime/ir/types.js';
import { prng } from '../support/prng.js';

const K = kernels();

describe.skipIf(K === null)('sum and mean as WebAssembly SIMD (arena buffers)', () => {
  const cases: [number[], number | number[]][] = [
    [[2048, 64], 0], // bias gradient
    [
      [32, 64, 256],
      [0, 1],
    ],
    [[17, 5], 0], // 5 columns: one vector and a scalar column
    [[29, 3], 0], // fewer columns than a vector
    [
      [300, 1, 7],
      [0, 1],
    ],
    [[32, 64, 64], -1], // layer norm rows
    [[2048, 83], 1], // softmax rows of 83: 20 vectors and 3 columns
    [[13, 6], 1], // 13 rows: 3 blocks of 4 and one row alone
    [[3, 29], 1], // fewer rows than a block
    [[64, 64, 1], 1], // size-1 axis reduced: a copy
    [
      [5, 4, 3, 8],
      [2, 3],
    ],
    [[1, 300], 1],
    [[300, 1], 0],
  ];
  for (const [shape, axis] of cases) {
    for (const op of ['sum', 'mean'] as const) {
      for (const special of [false, true]) {
        it(`${op} ${JSON.stringify(shape)} axis ${JSON.stringify(axis)}${special ? ' with ±0, ±∞, NaN' : ''}`, () => {
          const attrs = { axis, keepdims: true };
          const inT: TensorType = { shape, dtype: 'f32' };
          const outT = registry[op].infer([inT], attrs, { float: 'f32' }) as TensorType;
          const exec = new CpuExecutor({ fast: true });
          const n = sizeOf(shape),
            m = sizeOf(outT.shape);
          const x = exec.allocate('f32', n) as Float32Array;
          const rnd = prng(n + m);
          // Mixed magnitudes, so the order of the adds shows in the last bits.
          for (let i = 0; i < n; i++) x[i] = (rnd() * 2 - 1) * 10 ** Math.floor(rnd() * 8 - 3);
          if (special) {
            const vals = [0, -0, Infinity, -Infinity, NaN];
            for (let i = 0; i < n; i += 37) x[i] = vals[(i / 37) % vals.length]!;
          }
          const got = exec.allocate('f32', m);
          const want = new Float32Array(m);
          registry[op].cpu({ inputs: [x], output: want, inTypes: [inT], outType: outT, attrs })();
          got.fill(12345);
          exec.prepare({ name: 'r', op, inputs: ['x'], attrs, type: outT }, [x], got, [inT])();
          expect(Array.from(got)).toEqual(Array.from(want));
        });
      }
    }
  }

  it('writes a short output that lives outside the arena', () => {
    const exec = new CpuExecutor({ fast: true });
    const inT: TensorType = { shape: [40, 10], dtype: 'f32' };
    const outT: TensorType = { shape: [10], dtype: 'f32' };
    const x = exec.allocate('f32', 400) as Float32Array;
    for (let i = 0; i < 400; i++) x[i] = Math.sin(i) * 1000;
    const got = exec.allocate('f32', 10); // under the arena's minimum length: a plain array
    const want = new Float32Array(10);
    registry.sum.cpu({ inputs: [x], output: want, inTypes: [inT], outType: outT, attrs: { axis: 0 } })();
    exec.prepare({ name: 'r', op: 'sum', inputs: ['x'], attrs: { axis: 0 }, type: outT }, [x], got, [inT])();
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});
