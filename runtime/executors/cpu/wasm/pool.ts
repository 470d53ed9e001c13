// WebAssembly SIMD kernels of the commonest pooling, 2×2 windows with stride 2 and no padding
// over NCHW images of even height and width (a CNN's downsampling), four windows per step.
// Rows of windows are contiguous across the images and channels then: output row r reads input
// rows 2r and 2r + 1, so each kernel is one loop over R = N·C·H/2 rows of ow = W/2 windows
// (ow ≥ 4; a row's last four windows are redone when ow is not a multiple of 4, which writes the
// same values again).
// - max2x2(x, y, R, ow): y = the maximum of each window (f32x4.max: NaN if any is NaN).
// - max2x2grad(x, dy, dx, R, ow): each window's dy goes to its first maximum in row-major order
//   (the last NaN when there is one), zeros to the other three: PyTorch's rule and the
//   reference kernel's (ops/pool.ts), every dx element written once (no zeroing pass).

import { i32, Module, v128, type Fn } from './asm.js';

/** Push the f32 lanes `lanes` (0–3 of the first operand, 4–7 of the second) of the two v128 on the stack. */
function shuffle(f: Fn, lanes: number[]): void {
  f.op(0xfd, 13);
  for (const l of lanes) for (let b = 0; b < 4; b++) f.op(4 * l + b);
}

/** The loop over rows and 4-window steps; `body` emits one step from the locals it gets. */
function rows(f: Fn, R: number, ow: number, body: (j: number) => void, advance: () => void): void {
  const r = f.local(i32),
    j = f.local(i32),
    last = f.local(i32);
  f.get(ow).i32c(4).sub().set(last);
  f.block().loop();
  f.i32c(0).set(j);
  f.loop();
  f.minS(j, last).set(j);
  body(j);
  f.get(j).get(last).ltS().if_().get(j).i32c(4).add().set(j).br(1).end();
  f.end();
  advance();
  f.get(r).i32c(1).add().tee(r).get(R).ltS().brIf(0);
  f.end().end();
}

function emitForward(mod: Module): void {
  const f = mod.fn('max2x2', [i32, i32, i32, i32]);
  const [x, y, R, ow] = [0, 1, 2, 3];
  const a = f.local(i32),
    b = f.local(i32),
    m0 = f.local(v128),
    m1 = f.local(v128),
    wB = f.local(i32);
  f.get(ow).i32c(8).mul().set(wB);
  rows(
    f,
    R,
    ow,
    (j) => {
      f.get(x).get(j).i32c(8).mul().add().tee(a).get(wB).add().set(b);
      f.get(a).vload(0).get(b).vload(0).vmax().set(m0);
      f.get(a).vload(16).get(b).vload(16).vmax().set(m1);
      f.get(y).get(j).i32c(4).mul().add();
      f.get(m0).get(m1);
      shuffle(f, [0, 2, 4, 6]);
      f.get(m0).get(m1);
      shuffle(f, [1, 3, 5, 7]);
      f.vmax().vstore(0);
    },
    () => {
      f.get(x).get(wB).i32c(2).mul().add().set(x);
      f.get(y).get(ow).i32c(4).mul().add().set(y);
    },
  );
}

function emitGrad(mod: Module): void {
  const f = mod.fn('max2x2grad', [i32, i32, i32, i32, i32]);
  const [x, dy, dx, R, ow] = [0, 1, 2, 3, 4];
  const a = f.local(i32),
    b = f.local(i32),
    wB = f.local(i32);
  const v = (n: number) => Array.from({ length: n }, () => f.local(v128));
  const [r0a, r0b, r1a, r1b] = v(4);
  const w = v(4); // the windows' four values A, B, C, D (row-major)
  const nan = v(4);
  const sel = v(4);
  const [m, t, any, g] = v(4);
  f.get(ow).i32c(8).mul().set(wB);
  rows(
    f,
    R,
    ow,
    (j) => {
      f.get(x).get(j).i32c(8).mul().add().tee(a).get(wB).add().set(b);
      f.get(a).vload(0).set(r0a!).get(a).vload(16).set(r0b!);
      f.get(b).vload(0).set(r1a!).get(b).vload(16).set(r1b!);
      const pairs: [number, number, number[]][] = [
        [r0a!, r0b!, [0, 2, 4, 6]],
        [r0a!, r0b!, [1, 3, 5, 7]],
        [r1a!, r1b!, [0, 2, 4, 6]],
        [r1a!, r1b!, [1, 3, 5, 7]],
      ];
      pairs.forEach(([p, q, lanes], k) => {
        f.get(p).get(q);
        shuffle(f, lanes);
        f.set(w[k]!);
        f.get(w[k]!).get(w[k]!).vne().set(nan[k]!);
      });
      f.get(w[0]!).get(w[1]!).vmax().get(w[2]!).get(w[3]!).vmax().vmax().set(m);
      // Without NaN: the first value equal to the maximum (t collects the windows already taken).
      f.get(w[0]!).get(m).veq().tee(sel[0]!).set(t);
      for (let k = 1; k < 3; k++) {
        f.get(w[k]!).get(m).veq().get(t).vandnot().tee(sel[k]!).get(t).vor().set(t);
      }
      f.get(t).op(0xfd, 77).set(sel[3]!); // v128.not
      // With a NaN: the last NaN; `any` marks the windows holding one.
      f.get(nan[3]!).set(t);
      for (let k = 2; k >= 0; k--) {
        // sel[k] = any ? nan[k] & ~(later NaNs) : sel[k]
        f.get(nan[k]!)
          .get(t)
          .vandnot()
          .get(sel[k]!)
          .get(nan[0]!)
          .get(nan[1]!)
          .vor()
          .get(nan[2]!)
          .vor()
          .get(nan[3]!)
          .vor();
        f.tee(any).vbitselect().set(sel[k]!);
        f.get(t).get(nan[k]!).vor().set(t);
      }
      f.get(nan[3]!).get(sel[3]!).get(any).vbitselect().set(sel[3]!);
      f.get(dy).get(j).i32c(4).mul().add().vload(0).set(g);
      const out = (addr: () => void, off: number, s0: number, s1: number, lanes: number[]) => {
        addr();
        f.get(g).get(s0).vand().get(g).get(s1).vand();
        shuffle(f, lanes);
        f.vstore(off);
      };
      const row0 = () => f.get(dx).get(j).i32c(8).mul().add();
      const row1 = () => f.get(dx).get(j).i32c(8).mul().add().get(wB).add();
      out(row0, 0, sel[0]!, sel[1]!, [0, 4, 1, 5]);
      out(row0, 16, sel[0]!, sel[1]!, [2, 6, 3, 7]);
      out(row1, 0, sel[2]!, sel[3]!, [0, 4, 1, 5]);
      out(row1, 16, sel[2]!, sel[3]!, [2, 6, 3, 7]);
    },
    () => {
      f.get(x).get(wB).i32c(2).mul().add().set(x);
      f.get(dx).get(wB).i32c(2).mul().add().set(dx);
      f.get(dy).get(ow).i32c(4).mul().add().set(dy);
    },
  );
}

export interface PoolKernels {
  max2x2(x: number, y: number, rows: number, ow: number): void;
  max2x2grad(x: number, dy: number, dx: number, rows: number, ow: number): void;
}

/** The pooling kernels over `memory` (the arena's), compiled once per memory. */
const compiled = new WeakMap<WebAssembly.Memory, PoolKernels>();
export function poolKernels(memory: WebAssembly.Memory, maxPages: number): PoolKernels {
  let k = compiled.get(memory);
  if (!k) {
    const mod = new Module();
    emitForward(mod);
    emitGrad(mod);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes({ initial: 1, maximum: maxPages })), {
      env: { memory },
    });
    k = inst.exports as unknown as PoolKernels;
    compiled.set(memory, k);
  }
  return k;
}
