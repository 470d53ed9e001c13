// A WebAssembly SIMD kernel of f32 row sums with the reference kernel's rounding: each row's
// elements are added in order, rounded to f32 after every add (ops/reduce.ts's fast path, and
// so the reference's `y[map[i]] += x[i]`), four rows at a time, one row per lane. A 4×4 block
// (four columns of four rows) is transposed in registers, then its four columns are added to
// the lanes one after another; a single row's chain of adds waits on each add, four lanes of
// independent chains do not. A convolution's bias gradient sums each (image, channel) plane so.
// - sum4(x, y, groups, cols, cols4): for rows 4g..4g+3 (g < groups) of `cols` floats from x,
//   y[4g..4g+3] = the sums of their first cols4 (a multiple of 4) elements; the caller adds
//   the rest in the same order.

import { i32, Module, v128, type Fn } from './asm.js';

/** i8x16.shuffle of the two v128 on the stack into f32 lanes `lanes` (0–3 first, 4–7 second). */
function shuffle(f: Fn, lanes: number[]): void {
  f.op(0xfd, 13);
  for (const l of lanes) for (let b = 0; b < 4; b++) f.op(4 * l + b);
}

function emitSum4(mod: Module): void {
  const f = mod.fn('sum4', [i32, i32, i32, i32, i32]);
  const [x, y, groups, cols, cols4] = [0, 1, 2, 3, 4];
  const g = f.local(i32),
    j = f.local(i32),
    a = f.local(i32),
    rowB = f.local(i32),
    acc = f.local(v128);
  const v = Array.from({ length: 4 }, () => f.local(v128));
  const t = Array.from({ length: 4 }, () => f.local(v128));
  f.get(cols).i32c(4).mul().set(rowB);
  f.block().loop();
  f.get(g).get(groups).geS().brIf(1);
  f.v128c([0, 0, 0, 0]).set(acc);
  f.i32c(0).set(j);
  f.block().loop();
  f.get(j).get(cols4).geS().brIf(1);
  // v[k] = row k's elements j..j+3
  f.get(x).get(j).i32c(4).mul().add().set(a);
  for (let k = 0; k < 4; k++) {
    f.get(a).vload(0).set(v[k]!);
    if (k < 3) f.get(a).get(rowB).add().set(a);
  }
  // t0 = (v0[0], v1[0], v0[1], v1[1]), t1 = (v2[0], v3[0], v2[1], v3[1]), t2/t3 the same for lanes 2, 3
  f.get(v[0]!).get(v[1]!);
  shuffle(f, [0, 4, 1, 5]);
  f.set(t[0]!);
  f.get(v[2]!).get(v[3]!);
  shuffle(f, [0, 4, 1, 5]);
  f.set(t[1]!);
  f.get(v[0]!).get(v[1]!);
  shuffle(f, [2, 6, 3, 7]);
  f.set(t[2]!);
  f.get(v[2]!).get(v[3]!);
  shuffle(f, [2, 6, 3, 7]);
  f.set(t[3]!);
  // Columns j, j+1, j+2, j+3 across the four rows, added in that order.
  const columns: [number, number, number[]][] = [
    [t[0]!, t[1]!, [0, 1, 4, 5]],
    [t[0]!, t[1]!, [2, 3, 6, 7]],
    [t[2]!, t[3]!, [0, 1, 4, 5]],
    [t[2]!, t[3]!, [2, 3, 6, 7]],
  ];
  for (const [p, q, lanes] of columns) {
    f.get(acc).get(p).get(q);
    shuffle(f, lanes);
    f.vadd().set(acc);
  }
  f.get(j).i32c(4).add().set(j).br(0);
  f.end().end();
  f.get(y).get(g).i32c(16).mul().add().get(acc).vstore(0);
  f.get(x).get(rowB).i32c(4).mul().add().set(x);
  f.get(g).i32c(1).add().set(g).br(0);
  f.end().end();
}

export interface SumRowKernels {
  sum4(x: number, y: number, groups: number, cols: number, cols4: number): void;
}

const compiled = new WeakMap<WebAssembly.Memory, SumRowKernels>();
/** The kernel over `memory` (the arena's), compiled once per memory. */
export function sumRowKernels(memory: WebAssembly.Memory, maxPages: number): SumRowKernels {
  let k = compiled.get(memory);
  if (!k) {
    const mod = new Module();
    emitSum4(mod);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes({ initial: 1, maximum: maxPages })), {
      env: { memory },
    });
    k = inst.exports as unknown as SumRowKernels;
    compiled.set(memory, k);
  }
  return k;
}
