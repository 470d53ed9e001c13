// WebAssembly SIMD sums of f32 matrices (rows × cols, row-major) in the reference's order, so
// they give the reference kernel's bits (ops/reduce.ts): every output element adds its inputs
// one at a time, first to last, rounding to f32 after each add, from +0; a mean then divides
// once (f32 division of the f32 sum, which equals the reference's f64 quotient rounded to f32).
// - colsum(x, y, rows, cols, mean, count): y[j] = Σ_r x[r][j] (a bias gradient: the leading axes
//   summed). Four columns per lane group: each lane is one column's running sum, row after row.
// - rowsum(x, y, rows, cols, mean, count): y[r] = Σ_j x[r][j] (the last axis summed: a layer
//   norm's mean, a softmax's row). Four rows at a time, one per lane: a 4×4 block is loaded and
//   transposed with shuffles, so lane i adds row i's elements in their order. Left-over columns
//   and rows are added one scalar at a time, in the same order.

import { f32, i32, Module, v128, type Fn, type ValType } from './asm.js';

/** Push the f32 lanes `lanes` (0–3 of the first operand, 4–7 of the second) of the two v128 on the stack. */
function shuffle(f: Fn, lanes: number[]): void {
  f.op(0xfd, 13);
  for (const l of lanes) for (let b = 0; b < 4; b++) f.op(4 * l + b);
}

/** for (i = from; i < to; i += step) body(): `i` a local, `from`/`to` pushers. */
function loop(f: Fn, i: number, from: () => void, to: number, step: number, body: () => void): void {
  from();
  f.set(i);
  f.block().get(i).get(to).geS().brIf(0).loop();
  body();
  f.get(i).i32c(step).add().tee(i).get(to).ltS().brIf(0);
  f.end().end();
}

const [X, Y, ROWS, COLS, MEAN, COUNT] = [0, 1, 2, 3, 4, 5];
const params: ValType[] = [i32, i32, i32, i32, i32, f32];

function emitColsum(mod: Module): void {
  const f = mod.fn('colsum', params);
  const r = f.local(i32),
    j = f.local(i32),
    cols4 = f.local(i32),
    row = f.local(i32),
    cnt = f.local(v128);
  f.get(COLS).i32c(-4).and().set(cols4);
  // y = +0
  loop(
    f,
    j,
    () => f.i32c(0),
    COLS,
    1,
    () => {
      f.get(Y).get(j).i32c(2).shl().add().f32c(0).f32store();
    },
  );
  loop(
    f,
    r,
    () => f.i32c(0),
    ROWS,
    1,
    () => {
      f.get(X).get(r).get(COLS).mul().i32c(2).shl().add().set(row);
      loop(
        f,
        j,
        () => f.i32c(0),
        cols4,
        4,
        () => {
          f.get(Y).get(j).i32c(2).shl().add();
          f.get(Y).get(j).i32c(2).shl().add().vload();
          f.get(row).get(j).i32c(2).shl().add().vload();
          f.vadd().vstore();
        },
      );
      loop(
        f,
        j,
        () => f.get(cols4),
        COLS,
        1,
        () => {
          f.get(Y).get(j).i32c(2).shl().add();
          f.get(Y).get(j).i32c(2).shl().add().f32load();
          f.get(row).get(j).i32c(2).shl().add().f32load();
          f.fadd().f32store();
        },
      );
    },
  );
  f.get(MEAN).if_();
  f.get(COUNT).splat().set(cnt);
  loop(
    f,
    j,
    () => f.i32c(0),
    cols4,
    4,
    () => {
      f.get(Y).get(j).i32c(2).shl().add();
      f.get(Y).get(j).i32c(2).shl().add().vload().get(cnt).vdiv().vstore();
    },
  );
  loop(
    f,
    j,
    () => f.get(cols4),
    COLS,
    1,
    () => {
      f.get(Y).get(j).i32c(2).shl().add();
      f.get(Y).get(j).i32c(2).shl().add().f32load().get(COUNT).fdiv().f32store();
    },
  );
  f.end();
}

function emitRowsum(mod: Module): void {
  const f = mod.fn('rowsum', params);
  const r = f.local(i32),
    j = f.local(i32),
    i = f.local(i32),
    cols4 = f.local(i32),
    rows4 = f.local(i32),
    stride = f.local(i32),
    base = f.local(i32),
    acc = f.local(v128),
    s = f.local(f32);
  const v = Array.from({ length: 4 }, () => f.local(v128));
  const t = Array.from({ length: 4 }, () => f.local(v128));
  f.get(COLS).i32c(-4).and().set(cols4);
  f.get(ROWS).i32c(-4).and().set(rows4);
  f.get(COLS).i32c(2).shl().set(stride);
  // Four rows at a time.
  loop(
    f,
    r,
    () => f.i32c(0),
    rows4,
    4,
    () => {
      f.get(X).get(r).get(stride).mul().add().set(base);
      f.v128c([0, 0, 0, 0]).set(acc);
      loop(
        f,
        j,
        () => f.i32c(0),
        cols4,
        4,
        () => {
          for (let q = 0; q < 4; q++) {
            f.get(base).get(j).i32c(2).shl().add();
            if (q > 0) f.get(stride).i32c(q).mul().add();
            f.vload().set(v[q]!);
          }
          // Transpose: t[q] holds column j + q of the four rows.
          f.get(v[0]!).get(v[1]!);
          shuffle(f, [0, 4, 1, 5]);
          f.set(t[0]!);
          f.get(v[0]!).get(v[1]!);
          shuffle(f, [2, 6, 3, 7]);
          f.set(t[1]!);
          f.get(v[2]!).get(v[3]!);
          shuffle(f, [0, 4, 1, 5]);
          f.set(t[2]!);
          f.get(v[2]!).get(v[3]!);
          shuffle(f, [2, 6, 3, 7]);
          f.set(t[3]!);
          f.get(acc).get(t[0]!).get(t[2]!);
          shuffle(f, [0, 1, 4, 5]);
          f.vadd();
          f.get(t[0]!).get(t[2]!);
          shuffle(f, [2, 3, 6, 7]);
          f.vadd();
          f.get(t[1]!).get(t[3]!);
          shuffle(f, [0, 1, 4, 5]);
          f.vadd();
          f.get(t[1]!).get(t[3]!);
          shuffle(f, [2, 3, 6, 7]);
          f.vadd().set(acc);
        },
      );
      // Left-over columns: one element of each row per lane.
      loop(
        f,
        j,
        () => f.get(cols4),
        COLS,
        1,
        () => {
          f.get(acc);
          f.get(base).get(j).i32c(2).shl().add().f32load().splat();
          for (let q = 1; q < 4; q++) {
            f.get(base).get(j).i32c(2).shl().add().get(stride).i32c(q).mul().add().f32load();
            f.op(0xfd, 0x20, q); // f32x4.replace_lane q
          }
          f.vadd().set(acc);
        },
      );
      f.get(Y).get(r).i32c(2).shl().add();
      f.get(MEAN).ifT(v128).get(acc).get(COUNT).splat().vdiv().else_().get(acc).end();
      f.vstore();
    },
  );
  // Left-over rows, one at a time.
  loop(
    f,
    r,
    () => f.get(rows4),
    ROWS,
    1,
    () => {
      f.get(X).get(r).get(stride).mul().add().set(base);
      f.f32c(0).set(s);
      loop(
        f,
        i,
        () => f.i32c(0),
        COLS,
        1,
        () => {
          f.get(s).get(base).get(i).i32c(2).shl().add().f32load().fadd().set(s);
        },
      );
      f.get(Y).get(r).i32c(2).shl().add();
      f.get(MEAN).ifT(f32).get(s).get(COUNT).fdiv().else_().get(s).end();
      f.f32store();
    },
  );
}

export interface ReduceKernels {
  /** y[j] = Σ_r x[r·cols + j] (÷ count with mean ≠ 0); byte addresses. */
  colsum(x: number, y: number, rows: number, cols: number, mean: number, count: number): void;
  /** y[r] = Σ_j x[r·cols + j] (÷ count with mean ≠ 0); byte addresses. */
  rowsum(x: number, y: number, rows: number, cols: number, mean: number, count: number): void;
}

/** The sum kernels over `memory` (the arena's), compiled once per memory. */
const compiled = new WeakMap<WebAssembly.Memory, ReduceKernels>();
export function reduceKernels(memory: WebAssembly.Memory, maxPages: number): ReduceKernels {
  let k = compiled.get(memory);
  if (!k) {
    const mod = new Module();
    emitColsum(mod);
    emitRowsum(mod);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes({ initial: 1, maximum: maxPages })), {
      env: { memory },
    });
    k = inst.exports as unknown as ReduceKernels;
    compiled.set(memory, k);
  }
  return k;
}
