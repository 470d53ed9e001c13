// WebAssembly SIMD softmax rows (log_softmax's passes are further down, emitLogSoftmax).
// A masked softmax over rows (attention's scores): for each row of `len`
// (a multiple of 4) f32 scores and its row of the mask (rows of the mask repeat every
// `maskRows` rows: a [T, T] mask against [batch·heads, T, T] scores),
//   m = the largest kept score (0 when none is finite), v = exp(x - m) where kept, else 0,
//   y = v / Σ v where the row keeps any element, else 0,
// as the reference kernel (ops/masking.ts) computes it, NaN scores ignored by the max as there.
// Rounding: exp is Cephes expf (within 2 ulp, elementwise.ts) and Σ v runs in f32 as four
// partial sums, and x - m is rounded to f32, where the reference works in f64: y is within
// (len/4 + 6) ulp of the reference's plus a relative |x - m|·2^-24 (which matters only for
// outputs far below the row's largest; test/perf/softmax-simd.test.ts).

import { i32, Module, v128, type Fn } from './asm.js';
import { Consts, emitExp } from './elementwise.js';

/** Push the f32 lanes `lanes` (0–3 of the first operand, 4–7 of the second) of the two v128 on the stack. */
function shuffle(f: Fn, lanes: number[]): void {
  f.op(0xfd, 13);
  for (const l of lanes) for (let b = 0; b < 4; b++) f.op(4 * l + b);
}

/** Reduce the f32x4 in local v across its lanes with `op` (pairs, then the two halves), splatted. */
function across(f: Fn, v: number, op: () => void): void {
  for (const lanes of [
    [2, 3, 0, 1],
    [1, 0, 3, 2],
  ]) {
    f.get(v).get(v).get(v);
    shuffle(f, lanes);
    op();
    f.set(v);
  }
}

function emitSoftmax(mod: Module): void {
  // softmax(x, mask, y, rows, len, maskRows)
  const f = mod.fn('softmax', [i32, i32, i32, i32, i32, i32]);
  const [X, M, Y, ROWS, LEN, MROWS] = [0, 1, 2, 3, 4, 5];
  const r = f.local(i32),
    j = f.local(i32),
    xr = f.local(i32),
    yr = f.local(i32),
    mr = f.local(i32),
    bytes = f.local(i32);
  const mx = f.local(v128),
    any = f.local(v128),
    sel = f.local(v128),
    xv = f.local(v128),
    s = f.local(v128),
    tmp = f.local(v128),
    n = f.local(v128);
  const k = new Consts(f, f.code.length);
  const c = (v: number) => k.push(v);
  f.get(LEN).i32c(2).shl().set(bytes);
  /** for (j = 0; j < bytes; j += 16) body() */
  const cols = (body: () => void) => {
    f.i32c(0).set(j);
    f.block().get(j).get(bytes).geS().brIf(0).loop();
    body();
    f.get(j).i32c(16).add().tee(j).get(bytes).ltS().brIf(0);
    f.end().end();
  };
  /** xv = x[j..j+3], sel = mask[j..j+3] != 0 */
  const load = () => {
    f.get(xr).get(j).add().vload().set(xv);
    f.get(mr).get(j).add().vload();
    c(0);
    f.vne().set(sel);
  };
  f.block().get(ROWS).eqz().brIf(0).loop();
  f.get(X).get(r).get(bytes).mul().add().set(xr);
  f.get(Y).get(r).get(bytes).mul().add().set(yr);
  f.get(M).get(r).get(MROWS).op(0x70).get(bytes).mul().add().set(mr); // i32.rem_u
  // The largest kept score: pmax keeps the running maximum against NaN, as `x > m` does.
  c(-Infinity);
  f.set(mx);
  f.v128c([0, 0, 0, 0]).set(any);
  cols(() => {
    load();
    f.get(mx).get(xv);
    c(-Infinity);
    f.get(sel).vbitselect().vpmax().set(mx);
    f.get(any).get(sel).vor().set(any);
  });
  across(f, mx, () => f.vpmax());
  // Not finite (no kept score, or +∞): 0.
  f.get(mx);
  c(0);
  f.get(mx).vabs();
  c(Infinity);
  f.vlt().vbitselect().set(mx);
  // v = exp(x - m) where kept (0 elsewhere, whatever exp gives there), stored; s = Σ v.
  f.v128c([0, 0, 0, 0]).set(s);
  cols(() => {
    load();
    f.get(xv).get(mx).vsub().set(xv);
    f.get(yr).get(j).add();
    emitExp(f, xv, tmp, n, k);
    f.get(sel).vand().tee(xv).vstore();
    f.get(s).get(xv).vadd().set(s);
  });
  across(f, s, () => f.vadd());
  // y = v / s in rows that keep anything (a kept row of -∞ scores gives 0 / 0, as the reference).
  f.get(any).op(0xfd, 0x53).if_(); // v128.any_true
  cols(() => {
    f.get(yr).get(j).add();
    f.get(yr).get(j).add().vload().get(s).vdiv().vstore();
  });
  f.end();
  f.get(r).i32c(1).add().tee(r).get(ROWS).ltS().brIf(0);
  f.end().end();
  k.finish();
}

/** for (r = 0; r < rows; r++) body(), `r` a local. */
function eachRow(f: Fn, r: number, rows: number, body: () => void): void {
  f.block().get(rows).eqz().brIf(0).loop();
  body();
  f.get(r).i32c(1).add().tee(r).get(rows).ltS().brIf(0);
  f.end().end();
}

/**
 * log_softmax's passes over rows of len >= 4; the caller takes each row's log in between.
 * rowstats(x, stats, rows, len): each row's m (its maximum; 0 where that is not finite, NaN
 * included, as the reference's Math.max and test give) and s = Σ exp(x - m) (f32, four partial
 * sums; a ragged row's last vector overlaps the one before, the lanes already counted masked
 * off) as stats[2r], stats[2r + 1]. subrows(x, y, stats, rows, len): y = x - stats[2r] (by then
 * m + log s), a ragged row's last vector overlapping.
 */
function emitLogSoftmax(mod: Module): void {
  {
    const f = mod.fn('rowstats', [i32, i32, i32, i32]);
    const [X, ST, ROWS, LEN] = [0, 1, 2, 3];
    const r = f.local(i32),
      j = f.local(i32),
      xr = f.local(i32),
      last = f.local(i32),
      len4 = f.local(i32),
      ragged = f.local(i32);
    const mx = f.local(v128),
      s = f.local(v128),
      xv = f.local(v128),
      keep = f.local(v128),
      tmp = f.local(v128),
      n = f.local(v128);
    const k = new Consts(f, f.code.length);
    const c = (v: number) => k.push(v);
    f.get(LEN).i32c(4).sub().i32c(2).shl().set(last);
    f.get(LEN).i32c(-4).and().i32c(2).shl().set(len4);
    f.get(LEN).i32c(3).and().set(ragged);
    // The overlapping vector's new lanes: lane id >= 4 - len % 4 (i32x4.ge_s).
    f.op(0xfd, 12, ...new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer));
    f.i32c(4).get(ragged).sub().isplat().op(0xfd, 63).set(keep);
    const vectors = (body: () => void) => {
      f.i32c(0).set(j);
      f.block().get(j).get(len4).geS().brIf(0).loop();
      f.get(xr).get(j).add().vload().set(xv);
      body();
      f.get(j).i32c(16).add().tee(j).get(len4).ltS().brIf(0);
      f.end().end();
      f.get(ragged).if_();
      f.get(xr).get(last).add().vload().set(xv);
      body();
      f.end();
    };
    eachRow(f, r, ROWS, () => {
      f.get(X).get(r).get(LEN).mul().i32c(2).shl().add().set(xr);
      c(-Infinity);
      f.set(mx);
      // The first vector of a ragged tail repeats lanes already seen: harmless for a maximum.
      vectors(() => void f.get(mx).get(xv).vmax().set(mx));
      across(f, mx, () => f.vmax());
      f.get(mx);
      c(0);
      f.get(mx).vabs();
      c(Infinity);
      f.vlt().vbitselect().set(mx);
      f.v128c([0, 0, 0, 0]).set(s);
      f.i32c(0).set(j);
      f.block().get(j).get(len4).geS().brIf(0).loop();
      f.get(xr).get(j).add().vload().get(mx).vsub().set(xv);
      f.get(s);
      emitExp(f, xv, tmp, n, k);
      f.vadd().set(s);
      f.get(j).i32c(16).add().tee(j).get(len4).ltS().brIf(0);
      f.end().end();
      f.get(ragged).if_();
      f.get(xr).get(last).add().vload().get(mx).vsub().set(xv);
      f.get(s);
      emitExp(f, xv, tmp, n, k);
      f.get(keep).vand().vadd().set(s);
      f.end();
      across(f, s, () => f.vadd());
      f.get(ST).get(r).i32c(3).shl().add().get(mx).op(0xfd, 31, 0).f32store(); // f32x4.extract_lane 0
      f.get(ST).get(r).i32c(3).shl().add().get(s).op(0xfd, 31, 0).f32store(4);
    });
    k.finish();
  }
  {
    const f = mod.fn('subrows', [i32, i32, i32, i32, i32]);
    const [X, Y, ST, ROWS, LEN] = [0, 1, 2, 3, 4];
    const r = f.local(i32),
      col = f.local(i32),
      last = f.local(i32),
      off = f.local(i32),
      cv = f.local(v128);
    f.get(LEN).i32c(4).sub().set(last);
    eachRow(f, r, ROWS, () => {
      f.get(ST).get(r).i32c(3).shl().add().vsplatload().set(cv);
      f.i32c(0).set(col);
      f.loop();
      f.minS(col, last).set(col);
      f.get(r).get(LEN).mul().get(col).add().i32c(2).shl().set(off);
      f.get(Y).get(off).add();
      f.get(X).get(off).add().vload().get(cv).vsub().vstore();
      f.get(col).get(last).ltS().if_().get(col).i32c(4).add().set(col).br(1).end();
      f.end();
    });
  }
}

export interface SoftmaxKernels {
  /** Masked softmax of `rows` rows of `len` f32 (byte addresses); the mask's rows repeat every `maskRows`. */
  softmax(x: number, mask: number, y: number, rows: number, len: number, maskRows: number): void;
  /** log_softmax's first pass (emitLogSoftmax). */
  rowstats(x: number, stats: number, rows: number, len: number): void;
  /** log_softmax's last pass. */
  subrows(x: number, y: number, stats: number, rows: number, len: number): void;
}

/** The softmax kernel over `memory` (the arena's), compiled once per memory. */
const compiled = new WeakMap<WebAssembly.Memory, SoftmaxKernels>();
export function softmaxKernels(memory: WebAssembly.Memory, maxPages: number): SoftmaxKernels {
  let k = compiled.get(memory);
  if (!k) {
    const mod = new Module();
    emitSoftmax(mod);
    emitLogSoftmax(mod);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes({ initial: 1, maximum: maxPages })), {
      env: { memory },
    });
    k = inst.exports as unknown as SoftmaxKernels;
    compiled.set(memory, k);
  }
  return k;
}
