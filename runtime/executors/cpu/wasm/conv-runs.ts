// WebAssembly kernels of the width-keeping im2col and col2im runs (ops/conv-runs.ts): one call per
// image does every tap's run, where the TypeScript loops made three to five calls into the
// engine's fill/copyWithin per tap (their overhead, not the bytes moved, was most of the cost).
// Each tap is a record of TAP_FIELDS i32 in memory, byte offsets: its column-matrix row, the
// input offset of the run, the run [j0, j1), the start of the run's first output row, and the
// inside columns [lo, hi) of each row (the others are zeros).
// - im2col(x, cols, taps, count, p, ow): cols = the runs of x, zeros outside;
// - col2im(cols, dx, taps, count, p, ow, size): dx = Σ over taps of their runs (each added in tap
//   order, rounded to f32 each time: the same values as the loops), after zeroing dx's `size`
//   bytes; the columns outside each row's [lo, hi) are zeroed in `cols` first.
// p, ow and size are in bytes too.

import { i32, Module, type Fn } from './asm.js';

/** i32 per tap record: row, src, j0, j1, side, lo, hi, (unused). */
export const TAP_FIELDS = 8;

function fill(f: Fn, dest: () => void, len: () => void): void {
  dest();
  f.i32c(0);
  len();
  f.op(0xfc, 11, 0); // memory.fill
}

/** Zero the columns outside [lo, hi) of each output row from `side` to j1 of the row at `row`. */
function zeroSides(f: Fn, row: number, side: number, j1: number, lo: number, hi: number, ow: number): void {
  const a = f.local(i32),
    e = f.local(i32),
    q = f.local(i32);
  // if (lo > 0 || hi < ow)
  f.get(lo).i32c(0).gtS().get(hi).get(ow).ltS().op(0x72).if_(); // i32.or
  f.get(row).get(side).add().set(a);
  f.get(row).get(j1).add().set(e);
  f.block().loop();
  f.get(a).get(e).op(0x4f).brIf(1); // i32.ge_u: addresses
  for (const [from, to] of [
    [-1, lo],
    [hi, ow],
  ] as const) {
    if (from < 0) f.i32c(0).set(q);
    else f.get(from).set(q);
    f.block().loop();
    f.get(q).get(to).geS().brIf(1);
    f.get(a).get(q).add().f32c(0).f32store(0);
    f.get(q).i32c(4).add().set(q).br(0);
    f.end().end();
  }
  f.get(a).get(ow).add().set(a).br(0);
  f.end().end();
  f.end();
}

/** Loop over the tap records: loads the fields into locals, then `body`. */
function eachTap(f: Fn, taps: number, count: number, body: (t: number[]) => void): void {
  const t = Array.from({ length: 7 }, () => f.local(i32));
  const end = f.local(i32);
  f.get(taps)
    .get(count)
    .i32c(TAP_FIELDS * 4)
    .mul()
    .add()
    .set(end);
  f.block().loop();
  f.get(taps).get(end).op(0x4f).brIf(1); // i32.ge_u
  t.forEach((l, k) => {
    f.get(taps)
      .op(0x28, 2, k * 4)
      .set(l); // i32.load, offset k·4 (< 128: one LEB byte)
  });
  body(t);
  f.get(taps)
    .i32c(TAP_FIELDS * 4)
    .add()
    .set(taps)
    .br(0);
  f.end().end();
}

function emitIm2col(mod: Module): void {
  const f = mod.fn('im2col', [i32, i32, i32, i32, i32, i32]);
  const [x, cols, taps, count, p, ow] = [0, 1, 2, 3, 4, 5];
  const row = f.local(i32);
  eachTap(f, taps, count, ([r, src, j0, j1, side, lo, hi]) => {
    f.get(cols).get(r!).add().set(row);
    fill(
      f,
      () => f.get(row),
      () => f.get(j0!),
    );
    fill(
      f,
      () => f.get(row).get(j1!).add(),
      () => f.get(p).get(j1!).sub(),
    );
    f.get(j1!).get(j0!).gtS().if_();
    // memory.copy(row + j0, x + src + j0, j1 − j0)
    f.get(row).get(j0!).add();
    f.get(x).get(src!).add().get(j0!).add();
    f.get(j1!).get(j0!).sub();
    f.op(0xfc, 10, 0, 0);
    zeroSides(f, row, side!, j1!, lo!, hi!, ow);
    f.end();
  });
}

function emitCol2im(mod: Module): void {
  const f = mod.fn('col2im', [i32, i32, i32, i32, i32, i32, i32]);
  const [cols, dx, taps, count, , ow, size] = [0, 1, 2, 3, 4, 5, 6];
  const row = f.local(i32),
    q = f.local(i32),
    e4 = f.local(i32),
    d = f.local(i32);
  fill(
    f,
    () => f.get(dx),
    () => f.get(size),
  );
  eachTap(f, taps, count, ([r, src, j0, j1, side, lo, hi]) => {
    f.get(j1!).get(j0!).gtS().if_();
    f.get(cols).get(r!).add().set(row);
    zeroSides(f, row, side!, j1!, lo!, hi!, ow);
    // dx[src + q] += cols[row + q] for q in [j0, j1): four at a time, then one at a time.
    f.get(dx).get(src!).add().set(d);
    f.get(j0!).set(q);
    f.get(j1!).i32c(16).sub().set(e4);
    f.block().loop();
    f.get(q).get(e4).gtS().brIf(1);
    f.get(d).get(q).add();
    f.get(d).get(q).add().vload(0).get(row).get(q).add().vload(0).vadd();
    f.vstore(0);
    f.get(q).i32c(16).add().set(q).br(0);
    f.end().end();
    f.block().loop();
    f.get(q).get(j1!).geS().brIf(1);
    f.get(d).get(q).add();
    f.get(d).get(q).add().f32load(0).get(row).get(q).add().f32load(0).fadd();
    f.f32store(0);
    f.get(q).i32c(4).add().set(q).br(0);
    f.end().end();
    f.end();
  });
}

export interface ConvRunKernels {
  im2col(x: number, cols: number, taps: number, count: number, p: number, ow: number): void;
  col2im(cols: number, dx: number, taps: number, count: number, p: number, ow: number, size: number): void;
}

/** The kernels over `memory` (the arena's), compiled once per memory. */
const compiled = new WeakMap<WebAssembly.Memory, ConvRunKernels>();
export function convRunKernels(memory: WebAssembly.Memory, maxPages: number): ConvRunKernels {
  let k = compiled.get(memory);
  if (!k) {
    const mod = new Module();
    emitIm2col(mod);
    emitCol2im(mod);
    const bytes = mod.bytes({ initial: 1, maximum: maxPages });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    k = inst.exports as unknown as ConvRunKernels;
    compiled.set(memory, k);
  }
  return k;
}
