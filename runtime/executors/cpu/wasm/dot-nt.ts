// A WebAssembly SIMD kernel for products too thin for the gemm's packing: C += A·Bᵀ with A
// [m, k] and B [n, k] both read along their rows (k contiguous), m and n small, k long: a
// convolution's weight gradient of few channels, dWᵀ[r, oc] += Σ_j cols[r, j]·dY[oc, j] over one
// image's positions j (the MNIST CNN's first: 9×8 over 784 positions, where the gemm spends its
// time packing and in edge tiles). One row of A against four rows of B at a time: per four k, one
// load of A and four of B feed four multiply-adds into four vector accumulators, summed across
// lanes at the end of the row (so not the gemm's order of adds: a different rounding, within f32's).
// - dotNT(a, lda, b, ldb, c, m, n, k): C[i·n + j] += Σ_q a[i·lda + q]·b[j·ldb + q]; pointers and
//   row strides in bytes, k in elements.

import { f32, i32, Module, v128, type Fn } from './asm.js';

/** f32x4.extract_lane */
const lane = (f: Fn, l: number) => f.op(0xfd, 31, l);

/** Rows j..j+J−1 of B against the row of A at `arow`: C[ci..ci+J−1] += the J sums. */
function block(
  f: Fn,
  J: number,
  L: { arow: number; b: number; ldb: number; j: number; c: number; k4: number; kB: number },
): void {
  const acc = Array.from({ length: J }, () => f.local(v128));
  const brow = Array.from({ length: J }, () => f.local(i32));
  const s = Array.from({ length: J }, () => f.local(f32));
  const q = f.local(i32),
    va = f.local(v128),
    ci = f.local(i32);
  for (let t = 0; t < J; t++) {
    f.get(L.b).get(L.j).i32c(t).add().get(L.ldb).mul().add().set(brow[t]!);
    f.v128c([0, 0, 0, 0]).set(acc[t]!);
  }
  f.i32c(0).set(q);
  f.block().loop();
  f.get(q).get(L.k4).geS().brIf(1);
  f.get(L.arow).get(q).add().vload(0).set(va);
  for (let t = 0; t < J; t++) f.get(acc[t]!).get(va).get(brow[t]!).get(q).add().vload(0).vmul().vadd().set(acc[t]!);
  f.get(q).i32c(16).add().set(q).br(0);
  f.end().end();
  for (let t = 0; t < J; t++) {
    f.get(acc[t]!);
    lane(f, 0);
    f.get(acc[t]!);
    lane(f, 1);
    f.fadd().get(acc[t]!);
    lane(f, 2);
    f.fadd().get(acc[t]!);
    lane(f, 3);
    f.fadd().set(s[t]!);
  }
  // The last k mod 4 elements one at a time.
  f.block().loop();
  f.get(q).get(L.kB).geS().brIf(1);
  for (let t = 0; t < J; t++)
    f.get(s[t]!).get(L.arow).get(q).add().f32load(0).get(brow[t]!).get(q).add().f32load(0).fmul().fadd().set(s[t]!);
  f.get(q).i32c(4).add().set(q).br(0);
  f.end().end();
  for (let t = 0; t < J; t++) {
    f.get(L.c).get(L.j).i32c(t).add().i32c(4).mul().add().set(ci);
    f.get(ci).get(ci).f32load(0).get(s[t]!).fadd().f32store(0);
  }
}

function emitDotNT(mod: Module): void {
  const f = mod.fn('dotNT', [i32, i32, i32, i32, i32, i32, i32, i32]);
  const [a, lda, b, ldb, c, m, n, k] = [0, 1, 2, 3, 4, 5, 6, 7];
  const i = f.local(i32),
    j = f.local(i32),
    arow = f.local(i32),
    crow = f.local(i32),
    k4 = f.local(i32),
    kB = f.local(i32);
  f.get(k).i32c(-4).and().i32c(4).mul().set(k4); // bytes of the whole vectors
  f.get(k).i32c(4).mul().set(kB);
  const L = { arow, b, ldb, j, c: crow, k4, kB };
  f.block().loop();
  f.get(i).get(m).geS().brIf(1);
  f.get(a).get(i).get(lda).mul().add().set(arow);
  f.get(c).get(i).get(n).mul().i32c(4).mul().add().set(crow);
  f.i32c(0).set(j);
  // Four rows of B at a time, then one.
  f.block().loop();
  f.get(j).i32c(4).add().get(n).gtS().brIf(1);
  block(f, 4, L);
  f.get(j).i32c(4).add().set(j).br(0);
  f.end().end();
  f.block().loop();
  f.get(j).get(n).geS().brIf(1);
  block(f, 1, L);
  f.get(j).i32c(1).add().set(j).br(0);
  f.end().end();
  f.get(i).i32c(1).add().set(i).br(0);
  f.end().end();
}

export interface DotNTKernel {
  dotNT(a: number, lda: number, b: number, ldb: number, c: number, m: number, n: number, k: number): void;
}

const compiled = new WeakMap<WebAssembly.Memory, DotNTKernel>();
/** The kernel over `memory` (the arena's), compiled once per memory. */
export function dotNTKernel(memory: WebAssembly.Memory, maxPages: number): DotNTKernel {
  let kern = compiled.get(memory);
  if (!kern) {
    const mod = new Module();
    emitDotNT(mod);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes({ initial: 1, maximum: maxPages })), {
      env: { memory },
    });
    kern = inst.exports as unknown as DotNTKernel;
    compiled.set(memory, kern);
  }
  return kern;
}
