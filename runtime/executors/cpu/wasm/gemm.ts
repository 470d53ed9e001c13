// f32 matrix product C = op(A)·op(B) as WebAssembly SIMD, generated here (see asm.ts).
// The BLIS scheme: B is packed into k-major panels of NR columns and A into panels of MR rows
// (packing reads any strides, so transposed operands cost nothing extra), and an MR×NR
// register-tiled micro-kernel accumulates one tile over a k-block in MR·NR/4 vector registers.
// Each C element sums its k products in order 0..k-1 (C is reloaded between k-blocks), as the
// reference kernel does. Plain wasm SIMD has no fused multiply-add: each product is rounded to
// f32 before the add. Where the engine validates relaxed SIMD (Node >= 22, Chrome >= 114, Node
// 20 with --experimental-wasm-relaxed-simd), `fma: true` accumulates with f32x4.relaxed_madd,
// which is one fused operation on CPUs with FMA: one rounding per step instead of two, so sums
// differ from the reference's by f32 rounding (docs/performance.md gives the measured bound).

import { f32, i32, type Module, v128, type Fn } from './asm.js';
import { emitCopyTile, emitEpilogue } from './gemm-tile.js';

export interface GemmShape {
  /** Rows and columns of the register tile (nr a multiple of 4). */
  mr: number;
  nr: number;
  /** k steps per micro-kernel loop iteration. */
  unroll?: number;
  /** Accumulate with relaxed SIMD's fused multiply-add (only where the engine validates it). */
  fma?: boolean;
}

// 5×8: 10 accumulators + 2 B vectors + a splat fit the 16 xmm registers V8 uses on x64; measured
// (kernel alone, CPU time, Zen 4): 5×8 and 2×16 ~50 GFLOP/s, 4×8 42, 6×8 25, 4×16 31 (spills).
export const defaultGemmShape: GemmShape = { mr: 5, nr: 8, unroll: 1 };

// (module (func (param v128 v128 v128) (result v128)
//   local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2,
  253, 133, 2, 11,
]);
let relaxed: boolean | undefined;

/** Whether this engine validates relaxed SIMD (asked once, when first needed). */
export function relaxedSimd(): boolean {
  relaxed ??= WebAssembly.validate(RELAXED_PROBE);
  return relaxed;
}

/** The tile shape the CPU executor uses: the default, with fused multiply-add where available. */
export function preferredGemmShape(): GemmShape {
  return { ...defaultGemmShape, fma: relaxedSimd() };
}

/**
 * Adds to `mod` (pointers and strides in bytes):
 * - gemm_packB(b, rs, cs, kc, nc, bp), gemm_packA(a, rs, cs, mc, kc, ap): pack a block;
 * - gemm_macro(mc, nc, kc, ap, bp, c, ldc, beta, tile, bias, flags): C block (+)= Ap·Bp, edge
 *   tiles through `tile` (mr·nr floats of scratch); beta 0 overwrites C, 1 accumulates into it;
 *   flags (gemm-tile.ts) finish each tile with the bias row at `bias` and ReLU (last k-block).
 */
export function emitGemm(mod: Module, shape: GemmShape): void {
  const kernel = emitKernel(mod, shape);
  emitPackB(mod, shape);
  emitPackA(mod, shape);
  const copy = emitCopyTile(mod);
  const epi = emitEpilogue(mod, shape.nr);
  emitMacro(mod, shape, kernel, copy, epi);
}

// kernel(kc, a, b, c, ldc, beta): one full mr×nr tile at c.
function emitKernel(mod: Module, { mr, nr, unroll = 1, fma = false }: GemmShape): Fn {
  const nv = nr / 4;
  const k = mod.fn('gemm_kernel', [i32, i32, i32, i32, i32, i32]);
  const [KC, A, B, C, LDC, BETA] = [0, 1, 2, 3, 4, 5];
  const acc: number[][] = [];
  for (let i = 0; i < mr; i++) acc.push(Array.from({ length: nv }, () => k.local(v128)));
  const bv = Array.from({ length: nv }, () => k.local(v128));
  const av = k.local(v128);
  const row = Array.from({ length: mr }, () => k.local(i32));
  for (let i = 0; i < mr; i++) k.get(C).get(LDC).i32c(i).mul().add().set(row[i]!);
  k.get(BETA).if_();
  for (let i = 0; i < mr; i++)
    for (let v = 0; v < nv; v++)
      k.get(row[i]!)
        .vload(v * 16)
        .set(acc[i]![v]!);
  k.else_();
  for (let i = 0; i < mr; i++) for (let v = 0; v < nv; v++) k.v128c([0, 0, 0, 0]).set(acc[i]![v]!);
  k.end();
  const step = (u: number) => {
    for (let v = 0; v < nv; v++)
      k.get(B)
        .vload(u * nr * 4 + v * 16)
        .set(bv[v]!);
    for (let i = 0; i < mr; i++) {
      k.get(A)
        .vsplatload(u * mr * 4 + i * 4)
        .set(av);
      for (let v = 0; v < nv; v++)
        if (fma) k.get(av).get(bv[v]!).get(acc[i]![v]!).vmadd().set(acc[i]![v]!);
        else k.get(acc[i]![v]!).get(av).get(bv[v]!).vmul().vadd().set(acc[i]![v]!);
    }
  };
  // Unrolled main loop over kc - kc % unroll steps, then the remainder one step at a time.
  if (unroll > 1) {
    const rest = k.local(i32);
    k.get(KC)
      .i32c(unroll - 1)
      .and()
      .set(rest);
    k.get(KC).get(rest).sub().set(KC);
    k.block().get(KC).eqz().brIf(0).loop();
    for (let u = 0; u < unroll; u++) step(u);
    k.get(A)
      .i32c(unroll * mr * 4)
      .add()
      .set(A);
    k.get(B)
      .i32c(unroll * nr * 4)
      .add()
      .set(B);
    k.get(KC).i32c(unroll).sub().tee(KC).brIf(0);
    k.end().end();
    k.get(rest).set(KC);
  }
  k.block().get(KC).eqz().brIf(0).loop();
  step(0);
  k.get(A)
    .i32c(mr * 4)
    .add()
    .set(A);
  k.get(B)
    .i32c(nr * 4)
    .add()
    .set(B);
  k.get(KC).i32c(1).sub().tee(KC).brIf(0);
  k.end().end();
  for (let i = 0; i < mr; i++)
    for (let v = 0; v < nv; v++)
      k.get(row[i]!)
        .get(acc[i]![v]!)
        .vstore(v * 16);
  return k;
}

// packB(b, rs, cs, kc, nc, bp): bp[(jp*kc + p)*nr + j] = b[p*rs + (jp*nr + j)*cs], 0 past nc.
function emitPackB(mod: Module, { nr }: GemmShape): void {
  const nv = nr / 4;
  const f = mod.fn('gemm_packB', [i32, i32, i32, i32, i32, i32]);
  const [Bq, RS, CS, KC, NC, BP] = [0, 1, 2, 3, 4, 5];
  const j0 = f.local(i32),
    p = f.local(i32),
    j = f.local(i32),
    src = f.local(i32),
    w = f.local(i32);
  f.i32c(0).set(j0);
  f.block().loop();
  f.get(j0).get(NC).geS().brIf(1);
  f.get(NC).get(j0).sub().set(w);
  f.i32c(nr).get(w).get(w).i32c(nr).gtS().select().set(w); // w = min(nr, nc - j0)
  f.i32c(0).set(p);
  f.block().get(KC).eqz().brIf(0).loop();
  f.get(Bq).get(p).get(RS).mul().add().get(j0).get(CS).mul().add().set(src);
  f.get(CS).i32c(4).eq().get(w).i32c(nr).eq().and().if_();
  for (let v = 0; v < nv; v++)
    f.get(BP)
      .get(src)
      .vload(v * 16)
      .vstore(v * 16);
  f.else_();
  f.i32c(0).set(j);
  f.loop();
  f.get(BP).get(j).i32c(2).shl().add();
  f.get(j).get(w).ltS().ifT(f32);
  f.get(src).get(j).get(CS).mul().add().f32load();
  f.else_().f32c(0).end();
  f.f32store();
  f.get(j).i32c(1).add().tee(j).i32c(nr).ltS().brIf(0);
  f.end();
  f.end();
  f.get(BP)
    .i32c(nr * 4)
    .add()
    .set(BP);
  f.get(p).i32c(1).add().tee(p).get(KC).ltS().brIf(0);
  f.end().end();
  f.get(j0).i32c(nr).add().set(j0);
  f.br(0);
  f.end().end();
}

// packA(a, rs, cs, mc, kc, ap): ap[(ip*kc + p)*mr + i] = a[(ip*mr + i)*rs + p*cs], 0 past mc.
function emitPackA(mod: Module, { mr }: GemmShape): void {
  const f = mod.fn('gemm_packA', [i32, i32, i32, i32, i32, i32]);
  const [Aq, RS, CS, MC, KC, AP] = [0, 1, 2, 3, 4, 5];
  const i0 = f.local(i32),
    p = f.local(i32),
    h = f.local(i32),
    src = f.local(i32);
  f.i32c(0).set(i0);
  f.block().loop();
  f.get(i0).get(MC).geS().brIf(1);
  f.get(MC).get(i0).sub().set(h);
  f.i32c(0).set(p);
  f.block().get(KC).eqz().brIf(0).loop();
  f.get(Aq).get(i0).get(RS).mul().add().get(p).get(CS).mul().add().set(src);
  // A full panel: straight loads; a partial one: rows past mc read as 0 (never loaded: they
  // may lie past the end of memory).
  f.get(h).i32c(mr).geS().if_();
  for (let i = 0; i < mr; i++)
    f.get(AP)
      .get(src)
      .get(RS)
      .i32c(i)
      .mul()
      .add()
      .f32load()
      .f32store(i * 4);
  f.else_();
  for (let i = 0; i < mr; i++) {
    f.get(AP);
    if (i === 0) f.get(src).f32load();
    else {
      f.get(h).i32c(i).gtS().ifT(f32);
      f.get(src).get(RS).i32c(i).mul().add().f32load();
      f.else_().f32c(0).end();
    }
    f.f32store(i * 4);
  }
  f.end();
  f.get(AP)
    .i32c(mr * 4)
    .add()
    .set(AP);
  f.get(p).i32c(1).add().tee(p).get(KC).ltS().brIf(0);
  f.end().end();
  f.get(i0).i32c(mr).add().set(i0);
  f.br(0);
  f.end().end();
}

function emitMacro(mod: Module, { mr, nr }: GemmShape, kernel: Fn, copy: Fn, epi: Fn): void {
  const f = mod.fn('gemm_macro', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32]);
  const [MC, NC, KC, AP, BP, C, LDC, BETA, TILE, BIAS, FLAGS] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const jr = f.local(i32),
    ir = f.local(i32),
    w = f.local(i32),
    h = f.local(i32),
    a = f.local(i32),
    b = f.local(i32),
    c = f.local(i32);
  f.i32c(0).set(jr);
  f.block().loop();
  f.get(jr).get(NC).geS().brIf(1);
  f.get(NC).get(jr).sub().set(w);
  f.i32c(nr).get(w).get(w).i32c(nr).gtS().select().set(w);
  f.get(BP).get(jr).get(KC).mul().i32c(2).shl().add().set(b);
  f.i32c(0).set(ir);
  f.block().loop();
  f.get(ir).get(MC).geS().brIf(1);
  f.get(MC).get(ir).sub().set(h);
  f.i32c(mr).get(h).get(h).i32c(mr).gtS().select().set(h);
  f.get(AP).get(ir).get(KC).mul().i32c(2).shl().add().set(a);
  f.get(C).get(ir).get(LDC).mul().add().get(jr).i32c(2).shl().add().set(c);
  f.get(w).i32c(nr).eq().get(h).i32c(mr).eq().and().if_();
  f.get(KC).get(a).get(b).get(c).get(LDC).get(BETA).call(mod.index(kernel));
  f.get(FLAGS).if_();
  f.get(c).get(LDC).i32c(mr).get(BIAS).get(jr).i32c(2).shl().add().get(FLAGS).call(mod.index(epi));
  f.end();
  f.else_();
  f.get(BETA).if_();
  f.get(c)
    .get(LDC)
    .get(TILE)
    .i32c(nr * 4)
    .get(h)
    .get(w)
    .call(mod.index(copy));
  f.end();
  f.get(KC)
    .get(a)
    .get(b)
    .get(TILE)
    .i32c(nr * 4)
    .get(BETA)
    .call(mod.index(kernel));
  f.get(FLAGS).if_();
  f.get(TILE)
    .i32c(nr * 4)
    .get(h)
    .get(BIAS)
    .get(jr)
    .i32c(2)
    .shl()
    .add()
    .get(FLAGS)
    .call(mod.index(epi));
  f.end();
  f.get(TILE)
    .i32c(nr * 4)
    .get(c)
    .get(LDC)
    .get(h)
    .get(w)
    .call(mod.index(copy));
  f.end();
  f.get(ir).i32c(mr).add().set(ir);
  f.br(0);
  f.end().end();
  f.get(jr).i32c(nr).add().set(jr);
  f.br(0);
  f.end().end();
}

/** Cache blocking: a kc×nc block of packed B stays in L2, an mc×kc block of packed A in L2/L1. */
export interface GemmBlocking {
  mc: number;
  kc: number;
  nc: number;
}

// mc 160: a batch of 128 rows is one block (no thin leftover block to pack and run separately).
export const defaultBlocking: GemmBlocking = { mc: 160, kc: 256, nc: 512 };

/** The k-block for a product of depth k: at most kc, cutting k into equal blocks (784 → 4 × 196, not 3 × 256 + 16). */
export function gemmKc(k: number, kc = defaultBlocking.kc): number {
  return Math.max(1, Math.ceil(k / Math.ceil(k / kc)));
}

/** Floats of scratch one thread needs: packed A, packed B, one edge tile. */
export function gemmScratch(shape: GemmShape, b: GemmBlocking): { ap: number; bp: number; tile: number } {
  const mc = Math.ceil(b.mc / shape.mr) * shape.mr;
  const nc = Math.ceil(b.nc / shape.nr) * shape.nr;
  return { ap: mc * b.kc, bp: nc * b.kc, tile: shape.mr * shape.nr };
}

/**
 * gemm(m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, ap, bp, tile, kcb, bias, flags): C[m×n] =
 * op(A)·op(B) for k ≥ 1, in k-blocks of kcb (≤ the blocking's kc; gemmKc gives an even cut),
 * then (flags ≠ 0) the epilogue with the bias row at `bias` (n floats, padded to whole tiles),
 * element (i, p) of op(A) at a + i*rsa + p*csa, (p, j) of op(B) at b + p*rsb + j*csb (bytes).
 */
export function emitGemmDriver(mod: Module, { mc: MCB, nc: NCB }: GemmBlocking): void {
  const f = mod.fn('gemm', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32]);
  const [M, N, K, A, RSA, CSA, B, RSB, CSB, C, LDC, AP, BP, TILE, KCR, BIAS, FLAGS] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
  ];
  const jc = f.local(i32),
    pc = f.local(i32),
    ic = f.local(i32),
    nc = f.local(i32),
    kc = f.local(i32),
    mc = f.local(i32),
    t = f.local(i32);
  const fnIndex = (name: string) => mod.indexOf(name);
  const min = (x: number, limit: number, out: number) => {
    // out = min(limit, x)
    f.get(x).set(t);
    f.i32c(limit).get(t).get(t).i32c(limit).gtS().select().set(out);
  };
  f.i32c(0).set(jc);
  f.block().loop();
  f.get(jc).get(N).geS().brIf(1);
  f.get(N).get(jc).sub().set(nc);
  min(nc, NCB, nc);
  f.i32c(0).set(pc);
  f.block().loop();
  f.get(pc).get(K).geS().brIf(1);
  // kc = min(kcr, k - pc): the caller gives a block length (≤ kc of the scratch) that cuts k evenly.
  f.get(K).get(pc).sub().set(kc);
  f.get(KCR).get(kc).get(kc).get(KCR).gtS().select().set(kc);
  f.get(B).get(pc).get(RSB).mul().add().get(jc).get(CSB).mul().add();
  f.get(RSB).get(CSB).get(kc).get(nc).get(BP).call(fnIndex('gemm_packB'));
  f.i32c(0).set(ic);
  f.block().loop();
  f.get(ic).get(M).geS().brIf(1);
  f.get(M).get(ic).sub().set(mc);
  min(mc, MCB, mc);
  f.get(A).get(ic).get(RSA).mul().add().get(pc).get(CSA).mul().add();
  f.get(RSA).get(CSA).get(mc).get(kc).get(AP).call(fnIndex('gemm_packA'));
  f.get(mc).get(nc).get(kc).get(AP).get(BP);
  f.get(C).get(ic).get(LDC).mul().add().get(jc).i32c(2).shl().add();
  f.get(LDC).get(pc).i32c(0).gtS().get(TILE);
  // The epilogue after the last k-block only: bias columns from this column block's first.
  f.get(BIAS).get(jc).i32c(2).shl().add();
  f.get(FLAGS).i32c(0).get(pc).get(kc).add().get(K).geS().select();
  f.call(fnIndex('gemm_macro'));
  f.get(ic).i32c(MCB).add().set(ic);
  f.br(0);
  f.end().end();
  f.get(pc).get(KCR).add().set(pc);
  f.br(0);
  f.end().end();
  f.get(jc).i32c(NCB).add().set(jc);
  f.br(0);
  f.end().end();
}
