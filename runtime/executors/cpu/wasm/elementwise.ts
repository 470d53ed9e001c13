// WebAssembly SIMD code for fused elementwise groups (scheduler/fusion.ts) over f32 arena
// buffers: four elements per instruction, each group compiled once and cached by a key of
// its structure. run(in0, ..., out, inner, lo, hi): flat groups cover elements [lo, hi) (multiples
// of 4; the caller finishes a ragged tail), row groups (an input repeated along rows, as a
// bias, or one value per row, as a layer norm's mean) cover rows [lo, hi) of `inner` >= 4
// columns.
//
// Precision: add, sub, mul, div, neg, abs, sqrt, square, relu and its gradient, maximum,
// minimum and the comparisons round exactly as the reference kernels do (one f32 rounding per
// op), so they give the same bits. exp and sigmoid use a degree-6 polynomial (Cephes expf,
// within 2 ulp) and sigmoid_grad / tanh_grad round after each product: these agree with the
// reference within f32 rounding, not bit for bit. Other ops keep the JavaScript loop. Each op's
// lowering is its module's `simd` (ops/unary.ts, ops/binary.ts); this file is the loop around them.

import type { IRNode } from '../../../ir/types.js';
import type { FusedGroup } from '../../../ir/fusion.js';
import { getOp, registry } from '../../../ops/registry.js';
import type { SimdRule } from '../../../ops/op.js';
import { i32, Module, uleb, v128, type Fn } from './asm.js';

/** How an input is read: whole, one value, a row repeated down the rows, or one value per row. */
export type WasmAccess = 'full' | 'scalar' | 'inner' | 'outer';

/** Ops with a SIMD lowering (OpDef.simd), and whether it is bit-identical to the reference. */
export const wasmOps: Record<string, boolean> = Object.fromEntries(
  Object.values(registry).flatMap((d) => (d.simd ? [[d.name, d.simd.exact]] : [])),
);

/** Cache key: the group's structure and input access, not its names. */
export function groupKey(group: FusedGroup, access: WasmAccess[]): string {
  const id = new Map<string, string>();
  group.inputs.forEach((v, k) => id.set(v, `in${k}:${access[k]}`));
  group.nodes.forEach((n, t) => id.set(n.name, `t${t}`));
  return group.nodes.map((n) => `${n.op}(${n.inputs.map((i) => id.get(i)).join(',')})`).join(';');
}

/**
 * Vector constants as locals set once before the loop (V8 rebuilds a v128.const at every use):
 * uses read the local; the settings are spliced in at `mark` once the body is written.
 */
export class Consts {
  private readonly locals = new Map<string, number>();
  private readonly init: number[] = [];
  constructor(
    private readonly f: Fn,
    readonly mark: number,
  ) {}
  /** Push constant v (f32 lanes, or i32 lanes with `int`). */
  push(v: number, int = false): void {
    const key = `${int ? 'i' : 'f'}${v}`;
    let l = this.locals.get(key);
    if (l === undefined) {
      l = this.f.local(v128);
      this.locals.set(key, l);
      const lanes = int ? new Int32Array([v, v, v, v]) : new Float32Array([v, v, v, v]);
      this.init.push(0xfd, 12, ...new Uint8Array(lanes.buffer), 0x21, ...uleb(l));
    }
    this.f.get(l);
  }
  /** Splice the settings in before the loop. */
  finish(): void {
    this.f.code.splice(this.mark, 0, ...this.init);
  }
}

/**
 * exp(x), or exp(x + lo) given a second local `lo`: an argument carried as an unevaluated sum
 * (x exact, lo small) keeps the accuracy that rounding x + lo to one f32 would lose (gelu's
 * -x²/2). With `lo`, x + lo must lie in [-104, 88.7] (no clamping of the split argument).
 */
export function emitExp(f: Fn, x: number, tmp: number, n: number, k: Consts, lo?: number): void {
  // Cephes expf: exp(x) = 2^n · p(r), x = n·ln2 + r, |r| <= ln2/2. n = round(x·log2 e) by the
  // 1.5·2^23 trick (adding it leaves n in the low mantissa bits: no float-int conversion, which
  // costs V8 a long sequence). 2^n is applied as two factors 2^h · 2^(n-h), h = n >> 1, each a
  // normal f32, so results reach into the subnormals (x >= -104) and up to the top of the
  // range; beyond it, +Infinity as Math.exp gives.
  const c = (v: number) => k.push(v);
  const MAGIC = 12582912; // 1.5 · 2^23
  // pmin/pmax: one instruction each (min/max order NaN and ±0, which costs V8 several).
  f.get(x);
  if (lo !== undefined) f.get(lo).vadd();
  c(88.72283905206835);
  f.vpmin();
  c(-104);
  f.vpmax().set(tmp);
  f.get(tmp);
  c(Math.LOG2E); // log2(e)
  f.vmul();
  c(MAGIC);
  f.vadd().set(n); // bits: n in the mantissa
  // r = x - nf*C1 - nf*C2 (+ lo) with nf = n as a float (ln2 split in two for an exact first
  // product; with lo, x - nf*C1 is exact too where it matters: x and nf*C1 are close)
  f.get(lo === undefined ? tmp : x);
  f.get(n);
  c(MAGIC);
  f.vsub();
  c(0.693359375);
  f.vmul().vsub();
  f.get(n);
  c(MAGIC);
  f.vsub();
  c(-2.1219444e-4);
  f.vmul().vsub();
  if (lo !== undefined) f.get(lo).vadd();
  f.set(tmp);
  // n as an i32: bits(t) - bits(MAGIC)
  f.get(n);
  c(MAGIC);
  f.isub4().set(n);
  // y = poly(r)·r² + r + 1
  c(1.98756915e-4);
  f.get(tmp).vmul();
  c(1.3981999507e-3);
  f.vadd();
  f.get(tmp).vmul();
  c(8.3334519073e-3);
  f.vadd();
  f.get(tmp).vmul();
  c(4.1665795894e-2);
  f.vadd();
  f.get(tmp).vmul();
  c(1.6666665459e-1);
  f.vadd();
  f.get(tmp).vmul();
  c(5.0000001201e-1);
  f.vadd();
  f.get(tmp).get(tmp).vmul().vmul().get(tmp).vadd();
  c(1);
  f.vadd();
  // · 2^h · 2^(n-h), built in the exponent bits
  f.get(n).i32c(1).ishrS4().set(tmp);
  f.get(tmp);
  k.push(127, true);
  f.iadd4().i32c(23).ishl4().vmul();
  f.get(n).get(tmp).isub4();
  k.push(127, true);
  f.iadd4().i32c(23).ishl4().vmul();
  if (lo !== undefined) return;
  // x past the top of the f32 range: +Infinity
  f.set(tmp);
  c(Infinity);
  f.get(tmp).get(x);
  c(88.72283905206835);
  f.vgt().vbitselect();
}

/** Emit code leaving one f32x4 on the stack for node `n`, its arguments in locals. */
function emitOp(f: Fn, op: string, a: number[], scratch: () => number, k: Consts, rules?: SimdRules): void {
  const rule = rules?.[op] ?? getOp(op)?.simd;
  if (!rule) throw new Error(`no SIMD lowering for ${op}`);
  rule.emit({
    f,
    a,
    scratch,
    c: (v, int) => k.push(v, int),
    exp: (x, lo) => emitExp(f, x, scratch(), scratch(), k, lo),
  });
}

/** Lowerings by op name that stand in for (or add to) the registry's OpDef.simd. */
export type SimdRules = Readonly<Record<string, SimdRule>>;

/** Whether every node of the group has a lowering. */
export function lowerable(nodes: readonly IRNode[]): boolean {
  return nodes.every((n) => n.op in wasmOps && n.type.dtype === 'f32');
}

/** The module's bytes for one group (exports `run`). */
export function elementwiseModule(
  group: FusedGroup,
  access: WasmAccess[],
  maxPages: number,
  rules?: SimdRules,
): Uint8Array<ArrayBuffer> {
  const mod = new Module();
  const k = group.inputs.length;
  const rows = access.includes('inner') || access.includes('outer');
  // run(in0..in{k-1}, out, inner, lo, hi): the pointers first, so callers can bind them once
  const f = mod.fn('run', Array<typeof i32>(k + 4).fill(i32));
  const IN = (j: number) => j,
    OUT = k,
    INNER = k + 1,
    LO = k + 2,
    HI = k + 3;
  const val = new Map<string, number>();
  const hoisted: number[] = [];
  group.inputs.forEach((v, j) => {
    const l = f.local(v128);
    val.set(v, l);
    if (access[j] === 'scalar') {
      f.get(IN(j)).vsplatload().set(l);
      hoisted.push(j);
    }
  });
  const off = f.local(i32),
    col = f.local(i32),
    colOff = f.local(i32),
    end = f.local(i32);
  const consts = new Consts(f, f.code.length);
  const pool: number[] = [];
  const scratch = () => {
    const l = f.local(v128);
    pool.push(l);
    return l;
  };
  // One vector at byte offset `at` past off: fresh locals for its values, so unrolled copies
  // are independent chains the CPU can overlap.
  const body = (at = 0) => {
    group.inputs.forEach((v, j) => {
      if (access[j] === 'scalar' || access[j] === 'outer') return;
      const l = f.local(v128);
      val.set(v, l);
      if (access[j] === 'full') f.get(IN(j)).get(off).add().vload(at).set(l);
      else f.get(IN(j)).get(colOff).add().vload(at).set(l);
    });
    group.nodes.forEach((n, t) => {
      const last = t === group.nodes.length - 1;
      if (last) f.get(OUT).get(off).add();
      emitOp(
        f,
        n.op,
        n.inputs.map((i) => val.get(i)!),
        scratch,
        consts,
        rules,
      );
      if (last) f.vstore(at);
      else {
        const l = f.local(v128);
        f.set(l);
        val.set(n.name, l);
      }
    });
  };
  if (!rows) {
    // off runs over bytes [lo*4, hi*4) in steps of 16
    // Four vectors per iteration while they fit, then one at a time.
    const U = 4;
    f.get(LO).i32c(2).shl().set(off);
    f.get(HI).i32c(2).shl().set(end);
    f.block()
      .get(off)
      .i32c(16 * U)
      .add()
      .get(end)
      .gtS()
      .brIf(0)
      .loop();
    for (let u = 0; u < U; u++) body(u * 16);
    f.get(off)
      .i32c(16 * U)
      .add()
      .tee(off)
      .i32c(16 * U)
      .add()
      .get(end)
      .leS()
      .brIf(0);
    f.end().end();
    f.block().get(off).get(end).geS().brIf(0).loop();
    body();
    f.get(off).i32c(16).add().tee(off).get(end).ltS().brIf(0);
    f.end().end();
  } else {
    // Rows of inner >= 4 columns, four at a time; a row whose length is not a multiple of 4
    // ends with the vector of its last four columns, which redoes up to three of them (the
    // same values again: the output is never one of the inputs).
    const r = f.local(i32),
      rowOff = f.local(i32),
      last = f.local(i32);
    f.get(INNER).i32c(4).sub().set(last);
    f.get(LO).set(r);
    f.block().get(r).get(HI).geS().brIf(0).loop();
    f.get(r).get(INNER).mul().i32c(2).shl().set(rowOff);
    // One value per row (a row's mean or scale): splat once for the row.
    group.inputs.forEach((v, j) => {
      if (access[j] === 'outer') f.get(IN(j)).get(r).i32c(2).shl().add().vsplatload().set(val.get(v)!);
    });
    f.i32c(0).set(col);
    f.loop();
    f.minS(col, last).set(col);
    f.get(col).i32c(2).shl().tee(colOff).get(rowOff).add().set(off);
    body();
    f.get(col).get(last).ltS().if_().get(col).i32c(4).add().set(col).br(1).end();
    f.end();
    f.get(r).i32c(1).add().tee(r).get(HI).ltS().brIf(0);
    f.end().end();
  }
  void hoisted;
  consts.finish();
  return mod.bytes({ initial: 1, maximum: maxPages });
}
