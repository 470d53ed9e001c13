// Tile helpers of the gemm (gemm.ts): the copy of an edge tile between C and scratch, and the
// epilogue that finishes a tile of C after its last k-block: C = act(C + bias), bias one value
// per column, act ReLU or none. The epilogue runs on the tile while it is in L1, instead of a
// separate pass over C; it computes what the unfused nodes compute, bit for bit: the f32 sum,
// then ReLU as `x > 0 ? x : 0` (NaN and -0 give 0), the same instructions as the elementwise
// kernel's relu.

import { i32, type Module, v128, type Fn } from './asm.js';

/** Epilogue flags (the driver's last argument): add the bias row; then ReLU. */
export const EPI_BIAS = 1;
export const EPI_RELU = 2;

// copyTile(src, sld, dst, dld, h, w): h×w floats between two row strides (bytes).
export function emitCopyTile(mod: Module): Fn {
  const f = mod.fn('gemm_copy', [i32, i32, i32, i32, i32, i32]);
  const [S, SLD, D, DLD, H, W] = [0, 1, 2, 3, 4, 5];
  const i = f.local(i32),
    j = f.local(i32);
  f.block().get(H).i32c(1).ltS().get(W).i32c(1).ltS().op(0x72).brIf(0); // i32.or
  f.i32c(0).set(i).loop();
  f.i32c(0).set(j).loop();
  f.get(D).get(j).i32c(2).shl().add();
  f.get(S).get(j).i32c(2).shl().add().f32load();
  f.f32store();
  f.get(j).i32c(1).add().tee(j).get(W).ltS().brIf(0);
  f.end();
  f.get(S).get(SLD).add().set(S);
  f.get(D).get(DLD).add().set(D);
  f.get(i).i32c(1).add().tee(i).get(H).ltS().brIf(0);
  f.end().end();
  return f;
}

// epi(c, ld, h, bias, flags): rows 0..h-1 of an nr-wide tile at c (row stride ld bytes) become
// act(c + bias[0..nr-1]). The bias is read nr wide: the caller pads it to whole tiles.
export function emitEpilogue(mod: Module, nr: number): Fn {
  const nv = nr / 4;
  const f = mod.fn('gemm_epi', [i32, i32, i32, i32, i32]);
  const [C, LD, H, BIAS, FLAGS] = [0, 1, 2, 3, 4];
  const i = f.local(i32),
    relu = f.local(i32),
    x = f.local(v128);
  const bv = Array.from({ length: nv }, () => f.local(v128));
  for (let v = 0; v < nv; v++)
    f.get(BIAS)
      .vload(v * 16)
      .set(bv[v]!);
  f.get(FLAGS).i32c(EPI_RELU).and().set(relu);
  f.block().get(H).i32c(1).ltS().brIf(0);
  f.i32c(0).set(i).loop();
  for (let v = 0; v < nv; v++) {
    f.get(C)
      .vload(v * 16)
      .get(bv[v]!)
      .vadd()
      .set(x);
    f.get(relu).if_();
    f.get(x).get(x).v128c([0, 0, 0, 0]).vgt().vand().set(x);
    f.end();
    f.get(C)
      .get(x)
      .vstore(v * 16);
  }
  f.get(C).get(LD).add().set(C);
  f.get(i).i32c(1).add().tee(i).get(H).ltS().brIf(0);
  f.end().end();
  return f;
}
