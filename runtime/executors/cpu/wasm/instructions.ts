// WebAssembly function bodies: value types, LEB128, and a builder with one method per
// instruction the CPU executor's kernels use (i32, f32, SIMD v128). ./asm.ts wraps bodies into a
// module.

export const i32 = 0x7f,
  f32 = 0x7d,
  v128 = 0x7b;
export type ValType = typeof i32 | typeof f32 | typeof v128;

/** Unsigned LEB128, appended to `out` (also returned, for building byte lists inline). */
export function uleb(n: number, out: number[] = []): number[] {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/** out.push(...xs) without spreading (big code sections would overflow the argument stack). */
export function append(out: number[], xs: ArrayLike<number>): void {
  for (let i = 0; i < xs.length; i++) out.push(xs[i]!);
}

/** One function body under construction; methods append instructions and return `this`. */
export class Fn {
  readonly code: number[] = [];
  private readonly extra: ValType[] = [];
  constructor(
    readonly name: string,
    readonly params: ValType[],
    readonly results: ValType[],
  ) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.extra.push(t);
    return this.params.length + this.extra.length - 1;
  }

  op(...bytes: number[]): this {
    append(this.code, bytes);
    return this;
  }
  private simd(op: number): this {
    this.code.push(0xfd);
    uleb(op, this.code);
    return this;
  }
  private mem(align: number, offset: number): this {
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }

  // Locals and constants.
  get(l: number): this {
    this.code.push(0x20);
    uleb(l, this.code);
    return this;
  }
  set(l: number): this {
    this.code.push(0x21);
    uleb(l, this.code);
    return this;
  }
  tee(l: number): this {
    this.code.push(0x22);
    uleb(l, this.code);
    return this;
  }
  i32c(v: number): this {
    this.code.push(0x41);
    sleb(v | 0, this.code);
    return this;
  }
  f32c(v: number): this {
    this.code.push(0x43);
    append(this.code, new Uint8Array(new Float32Array([v]).buffer));
    return this;
  }
  v128c(lanes: [number, number, number, number]): this {
    this.simd(12);
    append(this.code, new Uint8Array(new Float32Array(lanes).buffer));
    return this;
  }

  // Control. Blocks are closed with end(); br/brIf take a relative depth.
  block(): this {
    return this.op(0x02, 0x40);
  }
  loop(): this {
    return this.op(0x03, 0x40);
  }
  if_(): this {
    return this.op(0x04, 0x40);
  }
  /** An if whose arms leave one value of type `t`. */
  ifT(t: ValType): this {
    return this.op(0x04, t);
  }
  else_(): this {
    return this.op(0x05);
  }
  end(): this {
    return this.op(0x0b);
  }
  br(d: number): this {
    this.code.push(0x0c);
    uleb(d, this.code);
    return this;
  }
  brIf(d: number): this {
    this.code.push(0x0d);
    uleb(d, this.code);
    return this;
  }
  ret(): this {
    return this.op(0x0f);
  }
  call(f: number): this {
    this.code.push(0x10);
    uleb(f, this.code);
    return this;
  }
  drop(): this {
    return this.op(0x1a);
  }
  select(): this {
    return this.op(0x1b);
  }

  // i32.
  add(): this {
    return this.op(0x6a);
  }
  sub(): this {
    return this.op(0x6b);
  }
  mul(): this {
    return this.op(0x6c);
  }
  and(): this {
    return this.op(0x71);
  }
  shl(): this {
    return this.op(0x74);
  }
  shrU(): this {
    return this.op(0x76);
  }
  eqz(): this {
    return this.op(0x45);
  }
  eq(): this {
    return this.op(0x46);
  }
  ne(): this {
    return this.op(0x47);
  }
  ltS(): this {
    return this.op(0x48);
  }
  gtS(): this {
    return this.op(0x4a);
  }
  leS(): this {
    return this.op(0x4c);
  }
  geS(): this {
    return this.op(0x4e);
  }
  minS(a: number, b: number): this {
    return this.get(a).get(b).get(a).get(b).ltS().select();
  }

  // Memory (alignment as log2 bytes).
  i32load(off = 0): this {
    this.code.push(0x28);
    return this.mem(2, off);
  }
  f32load(off = 0): this {
    this.code.push(0x2a);
    return this.mem(2, off);
  }
  f32store(off = 0): this {
    this.code.push(0x38);
    return this.mem(2, off);
  }
  vload(off = 0): this {
    this.simd(0);
    return this.mem(4, off);
  }
  vsplatload(off = 0): this {
    this.simd(9);
    return this.mem(2, off);
  }
  vstore(off = 0): this {
    this.simd(11);
    return this.mem(4, off);
  }

  // f32 scalar.
  fadd(): this {
    return this.op(0x92);
  }
  fsub(): this {
    return this.op(0x93);
  }
  fmul(): this {
    return this.op(0x94);
  }
  fdiv(): this {
    return this.op(0x95);
  }

  // f32x4.
  splat(): this {
    return this.simd(19);
  }
  vadd(): this {
    return this.simd(228);
  }
  vsub(): this {
    return this.simd(229);
  }
  vmul(): this {
    return this.simd(230);
  }
  /** f32x4.relaxed_madd (relaxed SIMD): a·b + c, fused (one rounding) where the CPU has FMA. */
  vmadd(): this {
    return this.simd(0x105);
  }
  vdiv(): this {
    return this.simd(231);
  }
  vmin(): this {
    return this.simd(232);
  }
  vmax(): this {
    return this.simd(233);
  }
  vpmin(): this {
    return this.simd(234);
  }
  vpmax(): this {
    return this.simd(235);
  }
  vabs(): this {
    return this.simd(224);
  }
  vneg(): this {
    return this.simd(225);
  }
  vsqrt(): this {
    return this.simd(227);
  }
  vfloor(): this {
    return this.simd(104);
  }
  vnearest(): this {
    return this.simd(106);
  }
  veq(): this {
    return this.simd(65);
  }
  vne(): this {
    return this.simd(66);
  }
  vlt(): this {
    return this.simd(67);
  }
  vgt(): this {
    return this.simd(68);
  }
  vle(): this {
    return this.simd(69);
  }
  vge(): this {
    return this.simd(70);
  }
  vand(): this {
    return this.simd(78);
  }
  vandnot(): this {
    return this.simd(79);
  }
  vor(): this {
    return this.simd(80);
  }
  vxor(): this {
    return this.simd(81);
  }
  vbitselect(): this {
    return this.simd(82);
  }
  /** i32x4 ops, for exponent tricks. */
  iadd4(): this {
    return this.simd(174);
  }
  isub4(): this {
    return this.simd(177);
  }
  ishl4(): this {
    return this.simd(171);
  }
  ishrS4(): this {
    return this.simd(172);
  }
  itrunc4(): this {
    return this.simd(248);
  } // i32x4.trunc_sat_f32x4_s
  iconvert4(): this {
    return this.simd(250);
  } // f32x4.convert_i32x4_s
  isplat(): this {
    return this.simd(17);
  } // i32x4.splat

  /** Body bytes: locals (run-length coded) then the code. */
  body(): number[] {
    const out: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.extra) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(groups.length, out);
    for (const [n, t] of groups) {
      uleb(n, out);
      out.push(t);
    }
    append(out, this.code);
    out.push(0x0b);
    const sized: number[] = [];
    uleb(out.length, sized);
    append(sized, out);
    return sized;
  }
}
