// transpose and broadcast_to by runs on the fast CPU tier (ops/shape-runs.ts, WebAssembly SIMD
// copies) against the reference kernels' index maps: the same bits, NaN and -0 included, on
// attention's head transposes, other permutations that keep trailing axes, broadcasts along the
// last axes (filled runs) and along leading or middle ones (copied runs), and layouts left to
// the reference (runs shorter than 4 or not a multiple of 4).

import { describe, expect, it } from 'vitest';
import { registry } from '../../runtime/ops/registry.js';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { kernels } from '../../runtime/executors/cpu/threads.js';
import { sizeOf, type TensorType } from '../../runtime/ir/types.js';

const K = kernels();

function check(op: 'transpose' | 'broadcast_to', shape: number[], attrs: Record<string, unknown>): void {
  const exec = new CpuExecutor({ fast: true });
  const t: TensorType = { shape, dtype: 'f32' };
  const outT = registry[op].infer([t], attrs, { float: 'f32' }) as TensorType;
  // Inputs under 64 elements are not arena buffers: those cases run the reference kernel.
  const x = exec.allocate('f32', sizeOf(shape)) as Float32Array;
  for (let i = 0; i < x.length; i++) x[i] = i % 29 === 0 ? NaN : i % 31 === 0 ? -0 : Math.sin(i) * 100;
  const want = new Float32Array(sizeOf(outT.shape));
  registry[op].cpu({ inputs: [x], output: want, inTypes: [t], outType: outT, attrs })();
  const y = exec.allocate('f32', want.length);
  y.fill(12345);
  exec.prepare({ name: 'y', op, inputs: ['x'], attrs, type: outT }, [x], y, [t])();
  expect(Array.from(y)).toEqual(Array.from(want));
}

describe.skipIf(K === null)('transpose and broadcast_to by runs', () => {
  const transposes: [number[], number[]][] = [
    [
      [32, 64, 2, 32],
      [0, 2, 1, 3],
    ],
    [
      [32, 2, 64, 32],
      [0, 2, 1, 3],
    ],
    [
      [4, 3, 8],
      [1, 0, 2],
    ],
    [
      [2, 3, 4, 8],
      [2, 0, 1, 3],
    ],
    [
      [4, 4, 8],
      [0, 1, 2],
    ], // identity: one run
    [
      [3, 5, 2, 4],
      [1, 0, 2, 3],
    ], // two trailing axes kept: runs of 8
    [
      [12, 20],
      [1, 0],
    ], // runs of 1: the reference
    [
      [5, 6, 6],
      [0, 2, 1],
    ],
  ];
  for (const [shape, perm] of transposes)
    it(`transpose ${JSON.stringify(shape)} perm ${JSON.stringify(perm)}`, () => check('transpose', shape, { perm }));

  const broadcasts: [number[], number[]][] = [
    [
      [32, 64, 1],
      [32, 64, 64],
    ],
    [[64], [100, 64]],
    [
      [3, 1, 32],
      [3, 5, 32],
    ],
    [
      [9, 8, 1, 1],
      [9, 8, 4, 2],
    ],
    [
      [1, 64],
      [9, 64],
    ],
    [[1], [300]],
    [
      [80, 1],
      [40, 80, 6],
    ], // runs of 6: the reference
    [
      [300, 1],
      [300, 3],
    ], // runs of 3: the reference
  ];
  for (const [shape, to] of broadcasts)
    it(`broadcast_to ${JSON.stringify(shape)} → ${JSON.stringify(to)}`, () =>
      check('broadcast_to', shape, { shape: to }));
});
