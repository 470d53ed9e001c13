// WGSL for matmul (see matmul.ts): a workgroup-tiled kernel in which every invocation computes
// a TM×TN block of outputs from BK-deep slices of A and B staged in workgroup memory, plus a
// one-output-per-invocation kernel for products too small to fill a tile. Shapes, strides and
// transposes are baked into the text, so each distinct product compiles (and caches) once.

import type { MatmulDims } from './matmul.js';
import type { WgslKernel } from './op.js';
import { u32 } from './wgsl.js';

/** A product as matmul.ts resolves it (C[b] (m×n) = op(A[b]) (m×k) · op(B[b]) (k×n)), with its transposes. */
export type MatmulShape = Omit<MatmulDims, 'out'> & { ta: boolean; tb: boolean };

/** Tile: BM×BN outputs per workgroup, BK-deep slices, TM×TN per invocation (multiples of 4). */
export interface MatmulTile {
  bm: number;
  bn: number;
  bk: number;
  tm: number;
  tn: number;
  /**
   * Double-buffer the slices: the next slice is fetched into registers while the current one
   * is multiplied, which hides global-memory latency at the cost of twice the workgroup memory.
   */
  prefetch: boolean;
}

/**
 * The configurations the benchmark compares (docs/performance-gpu.md). Measured on an H100:
 * big16 is fastest at n = 4096 (32.1 TFLOP/s against 30.3 for big, 28.7 for plain), but with
 * fewer 128×128 tiles than the GPU has room for it idles SMs, and plain wins (n = 1024:
 * 23.4 TFLOP/s against 12.7). matmulKernel chooses between the two by tile count.
 */
export const matmulTiles = {
  big: { bm: 128, bn: 128, bk: 8, tm: 8, tn: 8, prefetch: true },
  big16: { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8, prefetch: false },
  wide: { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8, prefetch: true },
  mid: { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4, prefetch: true },
  plain: { bm: 64, bn: 64, bk: 16, tm: 4, tn: 4, prefetch: false },
} satisfies Record<string, MatmulTile>;

export type MatmulTileName = keyof typeof matmulTiles;

/** The kernel for a product: tiled unless it is too small to fill one tile usefully. */
export function matmulKernel(s: MatmulShape, tile?: MatmulTile): WgslKernel {
  if (s.m * s.n * s.batch === 0) return { kind: 'map', count: 0, body: '' };
  if (!tile) {
    if (s.m * s.n * s.batch <= 4096 || s.k < 4) return naiveMatmul(s);
    // 192 big tiles: about one and a half per SM of a large GPU (132 on an H100), so none idles long.
    tile = Math.ceil(s.m / 128) * Math.ceil(s.n / 128) * s.batch >= 192 ? matmulTiles.big16 : matmulTiles.plain;
  }
  return tiledMatmul(s, tile);
}

/** Element (row, col) of op(A) / op(B) within batch item base `b`: its flat index. */
function aIndex(s: MatmulShape, base: string, row: string, col: string): string {
  return s.ta ? `${base} + (${col}) * ${u32(s.m)} + (${row})` : `${base} + (${row}) * ${u32(s.k)} + (${col})`;
}
function bIndex(s: MatmulShape, base: string, row: string, col: string): string {
  return s.tb ? `${base} + (${col}) * ${u32(s.k)} + (${row})` : `${base} + (${row}) * ${u32(s.n)} + (${col})`;
}

/** One invocation per output; for small products, where a tile's set-up would dominate. */
function naiveMatmul(s: MatmulShape): WgslKernel {
  const body = [
    `let col = i % ${u32(s.n)};`,
    `let row = (i / ${u32(s.n)}) % ${u32(s.m)};`,
    `let b = i / ${u32(s.m * s.n)};`,
    `let ab = b * ${u32(s.aStride)};`,
    `let bb = b * ${u32(s.bStride)};`,
    'var acc = 0.0;',
    `for (var p = 0u; p < ${u32(s.k)}; p = p + 1u) {`,
    `  acc = fma(in0[${aIndex(s, 'ab', 'row', 'p')}], in1[${bIndex(s, 'bb', 'p', 'col')}], acc);`,
    '}',
    'out[i] = acc;',
  ].join('\n');
  return { kind: 'map', count: s.m * s.n * s.batch, body };
}

/**
 * The tiled kernel. Invocation (tx, ty) of a (BN/TN)×(BM/TM) workgroup owns rows
 * (ty + q·WY)·4 + c and columns (tx + q·WX)·4 + c of the tile: interleaved vec4 columns, so
 * neighbouring invocations read neighbouring vec4s of workgroup memory (no bank conflicts)
 * and store neighbouring outputs. Workgroup rows are padded by one vec4 so that the
 * transposing stores of a slice fall in different banks.
 */
export function tiledMatmul(s: MatmulShape, t: MatmulTile): WgslKernel {
  const { bm, bn, bk, tm, tn } = t;
  if (tm % 4 || tn % 4 || bm % tm || bn % tn) throw new Error(`bad matmul tile ${JSON.stringify(t)}`);
  const wx = bn / tn,
    wy = bm / tm,
    threads = wx * wy;
  if ((bm * bk) % threads || (bk * bn) % threads)
    throw new Error(`matmul tile ${JSON.stringify(t)}: slices do not divide among ${threads} invocations`);
  const la = (bm * bk) / threads,
    lb = (bk * bn) / threads;
  const pa = bm / 4 + 1,
    pb = bn / 4 + 1; // padded row lengths in vec4s
  const tiles = Math.ceil(s.k / bk);
  const bufs = t.prefetch ? 2 : 1;
  const fm = tm / 4,
    fn = tn / 4;
  const L: string[] = [];
  L.push(`let tx = lidx % ${u32(wx)};`, `let ty = lidx / ${u32(wx)};`);
  L.push(`let row0 = wid.y * ${u32(bm)};`, `let col0 = wid.x * ${u32(bn)};`);
  L.push(
    `let ab = wid.z * ${u32(s.aStride)};`,
    `let bb = wid.z * ${u32(s.bStride)};`,
    `let cb = wid.z * ${u32(s.m * s.n)};`,
  );
  L.push(`var acc: array<vec4<f32>, ${fm * tn}>;`);

  // Slice coordinates of the l-th element an invocation fetches; the fastest-varying index
  // follows memory order of the operand, so a warp's fetches are contiguous.
  const aCoord = (l: number): [string, string] => {
    const idx = `(${l * threads}u + lidx)`;
    return s.ta
      ? [`(${idx} / ${u32(bm)})`, `(${idx} % ${u32(bm)})`]
      : [`(${idx} % ${u32(bk)})`, `(${idx} / ${u32(bk)})`];
  };
  const bCoord = (l: number): [string, string] => {
    const idx = `(${l * threads}u + lidx)`;
    return s.tb
      ? [`(${idx} % ${u32(bk)})`, `(${idx} / ${u32(bk)})`]
      : [`(${idx} / ${u32(bn)})`, `(${idx} % ${u32(bn)})`];
  };
  const fetch = (k0: string, into: (kind: 'a' | 'b', l: number, v: string) => string): string[] => {
    const out: string[] = [];
    for (let l = 0; l < la; l++) {
      const [kk, mm] = aCoord(l);
      out.push('{', `  let kk = ${kk}; let mm = ${mm}; let r = row0 + mm; let c = ${k0} + kk;`);
      out.push(
        `  ${into('a', l, `select(0.0, in0[${aIndex(s, 'ab', 'r', 'c')}], r < ${u32(s.m)} && c < ${u32(s.k)})`)}`,
        '}',
      );
    }
    for (let l = 0; l < lb; l++) {
      const [kk, nn] = bCoord(l);
      out.push('{', `  let kk = ${kk}; let nn = ${nn}; let c = col0 + nn; let r = ${k0} + kk;`);
      out.push(
        `  ${into('b', l, `select(0.0, in1[${bIndex(s, 'bb', 'r', 'c')}], r < ${u32(s.k)} && c < ${u32(s.n)})`)}`,
        '}',
      );
    }
    return out;
  };
  const aSlot = (buf: string, l: number) => {
    const [kk, mm] = aCoord(l);
    return `As[${buf} + ${kk} * ${u32(pa)} + ${mm} / 4u][${mm} % 4u]`;
  };
  const bSlot = (buf: string, l: number) => {
    const [kk, nn] = bCoord(l);
    return `Bs[${buf} + ${kk} * ${u32(pb)} + ${nn} / 4u][${nn} % 4u]`;
  };
  const multiply = (buf: string): string[] => {
    const out = [`for (var kk = 0u; kk < ${u32(bk)}; kk = kk + 1u) {`];
    for (let q = 0; q < fm; q++) out.push(`  let a${q} = As[${buf}A + kk * ${u32(pa)} + ty + ${u32(q * wy)}];`);
    for (let q = 0; q < fn; q++) out.push(`  let b${q} = Bs[${buf}B + kk * ${u32(pb)} + tx + ${u32(q * wx)}];`);
    for (let i = 0; i < tm; i++) {
      for (let q = 0; q < fn; q++)
        out.push(`  acc[${i * fn + q}] = fma(vec4<f32>(a${i >> 2}[${i & 3}]), b${q}, acc[${i * fn + q}]);`);
    }
    out.push('}');
    return out;
  };

  const sizeA = pa * bk,
    sizeB = pb * bk;
  if (t.prefetch) {
    const regs = [...Array(la).keys()].map((l) => `ra${l}`).concat([...Array(lb).keys()].map((l) => `rb${l}`));
    L.push(...regs.map((r) => `var ${r} = 0.0;`));
    if (tiles > 0) {
      L.push(...fetch('0u', (kind, l, v) => `${kind === 'a' ? aSlot('0u', l) : bSlot('0u', l)} = ${v};`));
      L.push('workgroupBarrier();');
    }
    L.push(`for (var t = 0u; t < ${u32(tiles)}; t = t + 1u) {`);
    L.push(`  let curA = (t & 1u) * ${u32(sizeA)}; let curB = (t & 1u) * ${u32(sizeB)};`);
    L.push(`  let nxtA = ${u32(sizeA)} - curA; let nxtB = ${u32(sizeB)} - curB;`);
    L.push(`  let more = t + 1u < ${u32(tiles)};`);
    L.push('  if (more) {', `    let k0 = (t + 1u) * ${u32(bk)};`);
    L.push(...fetch('k0', (kind, l, v) => `r${kind}${l} = ${v};`).map((x) => '    ' + x), '  }');
    L.push(...multiply('cur').map((x) => '  ' + x));
    L.push('  if (more) {');
    for (let l = 0; l < la; l++) L.push(`    ${aSlot('nxtA', l)} = ra${l};`);
    for (let l = 0; l < lb; l++) L.push(`    ${bSlot('nxtB', l)} = rb${l};`);
    L.push('  }', '  workgroupBarrier();', '}');
  } else {
    L.push(`for (var t = 0u; t < ${u32(tiles)}; t = t + 1u) {`, `  let k0 = t * ${u32(bk)};`);
    L.push(
      ...fetch('k0', (kind, l, v) => `${kind === 'a' ? aSlot('0u', l) : bSlot('0u', l)} = ${v};`).map((x) => '  ' + x),
    );
    L.push('  workgroupBarrier();', '  let curA = 0u; let curB = 0u;');
    L.push(...multiply('cur').map((x) => '  ' + x));
    L.push('  workgroupBarrier();', '}');
  }

  // Store: output rows (ty + q·WY)·4 + c, vec4 columns tx + q·WX.
  for (let i = 0; i < tm; i++) {
    const rowExpr = `row0 + (ty + ${u32((i >> 2) * wy)}) * 4u + ${u32(i & 3)}`;
    L.push('{', `  let r = ${rowExpr};`, `  if (r < ${u32(s.m)}) {`);
    for (let q = 0; q < fn; q++) {
      L.push(`    let c${q} = col0 + (tx + ${u32(q * wx)}) * 4u;`);
      for (let c = 0; c < 4; c++) {
        L.push(
          `    if (c${q} + ${u32(c)} < ${u32(s.n)}) { out[cb + r * ${u32(s.n)} + c${q} + ${u32(c)}] = acc[${i * fn + q}][${c}]; }`,
        );
      }
    }
    L.push('  }', '}');
  }
  const decls = [
    `var<workgroup> As: array<vec4<f32>, ${bufs * sizeA}>;`,
    `var<workgroup> Bs: array<vec4<f32>, ${bufs * sizeB}>;`,
  ].join('\n');
  return {
    kind: 'tiled',
    grid: [Math.ceil(s.n / bn), Math.ceil(s.m / bm), s.batch],
    workgroupSize: [threads, 1, 1],
    decls,
    body: L.join('\n'),
  };
}
