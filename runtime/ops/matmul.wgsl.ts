// WGSL for matmul (see matmul.ts): a workgroup-tiled kernel in which every invocation computes
// a TM×TN block of outputs from BK-deep slices of A and B staged in workgroup memory, plus a
// one-output-per-invocation kernel for products too small to fill a tile. Shapes, strides and
// transposes are baked into the text, so each distinct product compiles (and caches) once.
// Both finish in their store step with an optional epilogue (a bias row, then ReLU), so a
// matmul → add(bias) → relu chain is one dispatch (scheduler/fusion.ts gemmEpilogues). Thin
// products (few output tiles, long k: the output layer of an MLP, n = 10, and its weight
// gradient) take a narrow tile and split k across workgroups: partial tiles go to a scratch
// buffer and a second pass sums them in chunk order and applies the epilogue.

import type { MatmulDims } from './matmul.js';
import type { WgslKernel, WgslPass } from './op.js';
import { u32 } from './wgsl.js';

/** A product as matmul.ts resolves it (C[b] (m×n) = op(A[b]) (m×k) · op(B[b]) (k×n)), with its transposes. */
export type MatmulShape = Omit<MatmulDims, 'out'> & { ta: boolean; tb: boolean };

/**
 * What the store step adds: `bias` reads one value per output column from the third binding
 * (in2, shape [n] or [1, n]); `relu` then clips as the relu op's kernel does.
 */
export interface MatmulEpilogue {
  bias: boolean;
  relu: boolean;
}

/** The value stored for accumulator `acc` at output column `col`. */
function finish(acc: string, col: string, epi?: MatmulEpilogue): string {
  const v = epi?.bias ? `(${acc} + in2[${col}])` : acc;
  // The relu row's own expression (ops/unary.ts): NaN gives 0, as unfused.
  return epi?.relu ? `select(0.0, ${v}, ${v} > 0.0)` : v;
}

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
  /** For n ≤ 16: a 64×64 tile would leave 54 of its 64 columns idle at n = 10. */
  narrow: { bm: 128, bn: 16, bk: 16, tm: 4, tn: 4, prefetch: false },
} satisfies Record<string, MatmulTile>;

export type MatmulTileName = keyof typeof matmulTiles;

/** Workgroups below which a product splits k (when k is long enough): a large GPU has 100+ SMs. */
const SPLIT_BELOW = 128;
/** Shortest k-chunk of a split product. */
const SPLIT_MIN_K = 128;

/** GRAPH_RUN_SPLIT_K=0: no narrow tile and no split k, every product in one pass (to compare). */
const splitOff = () => typeof process !== 'undefined' && process.env?.GRAPH_RUN_SPLIT_K === '0';

/** How many k-chunks a product of `tiles` workgroups splits into (1: none). */
export function splitCount(s: MatmulShape, tiles: number, bk: number): number {
  if (tiles >= SPLIT_BELOW || s.k < 2 * SPLIT_MIN_K || splitOff()) return 1;
  const want = Math.min(Math.ceil((2 * SPLIT_BELOW) / tiles), Math.floor(s.k / SPLIT_MIN_K));
  // Chunks of whole slices; the count that covers k with them.
  const chunk = Math.ceil(Math.ceil(s.k / want) / bk) * bk;
  return Math.ceil(s.k / chunk);
}

/** The kernel for a product: tiled unless it is too small to fill one tile usefully. */
export function matmulKernel(s: MatmulShape, tile?: MatmulTile, epi?: MatmulEpilogue): WgslKernel {
  if (s.m * s.n * s.batch === 0) return { kind: 'map', count: 0, body: '' };
  if (!tile) {
    const thin = !splitOff();
    if ((s.m * s.n * s.batch <= 4096 && (s.k <= SPLIT_MIN_K || !thin)) || s.k < 4) return naiveMatmul(s, epi);
    // 192 big tiles: about one and a half per SM of a large GPU (132 on an H100), so none idles long.
    tile =
      s.n <= 16 && thin
        ? matmulTiles.narrow
        : Math.ceil(s.m / 128) * Math.ceil(s.n / 128) * s.batch >= 192
          ? matmulTiles.big16
          : matmulTiles.plain;
  }
  const tiles = Math.ceil(s.m / tile.bm) * Math.ceil(s.n / tile.bn) * s.batch;
  return tiledMatmul(s, tile, epi, splitCount(s, tiles, tile.bk));
}

/** Element (row, col) of op(A) / op(B) within batch item base `b`: its flat index. */
function aIndex(s: MatmulShape, base: string, row: string, col: string): string {
  return s.ta ? `${base} + (${col}) * ${u32(s.m)} + (${row})` : `${base} + (${row}) * ${u32(s.k)} + (${col})`;
}
function bIndex(s: MatmulShape, base: string, row: string, col: string): string {
  return s.tb ? `${base} + (${col}) * ${u32(s.k)} + (${row})` : `${base} + (${row}) * ${u32(s.n)} + (${col})`;
}

/** One invocation per output; for small products, where a tile's set-up would dominate. */
function naiveMatmul(s: MatmulShape, epi?: MatmulEpilogue): WgslKernel {
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
    `out[i] = ${finish('acc', 'col', epi)};`,
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
export function tiledMatmul(s: MatmulShape, t: MatmulTile, epi?: MatmulEpilogue, split = 1): WgslKernel {
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
  // With k split, workgroup z = b·split + chunk covers k from chunk·kc, kc whole slices.
  const kc = split > 1 ? Math.ceil(Math.ceil(s.k / split) / bk) * bk : s.k;
  const tiles = Math.ceil(kc / bk);
  const bufs = t.prefetch ? 2 : 1;
  const fm = tm / 4,
    fn = tn / 4;
  const L: string[] = [];
  L.push(`let tx = lidx % ${u32(wx)};`, `let ty = lidx / ${u32(wx)};`);
  L.push(`let row0 = wid.y * ${u32(bm)};`, `let col0 = wid.x * ${u32(bn)};`);
  L.push(
    `let bz = wid.z / ${u32(split)};`,
    `let kb = (wid.z % ${u32(split)}) * ${u32(kc)};`,
    `let ab = bz * ${u32(s.aStride)};`,
    `let bb = bz * ${u32(s.bStride)};`,
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
      L.push(...fetch('kb', (kind, l, v) => `${kind === 'a' ? aSlot('0u', l) : bSlot('0u', l)} = ${v};`));
      L.push('workgroupBarrier();');
    }
    L.push(`for (var t = 0u; t < ${u32(tiles)}; t = t + 1u) {`);
    L.push(`  let curA = (t & 1u) * ${u32(sizeA)}; let curB = (t & 1u) * ${u32(sizeB)};`);
    L.push(`  let nxtA = ${u32(sizeA)} - curA; let nxtB = ${u32(sizeB)} - curB;`);
    L.push(`  let more = t + 1u < ${u32(tiles)};`);
    L.push('  if (more) {', `    let k0 = kb + (t + 1u) * ${u32(bk)};`);
    L.push(...fetch('k0', (kind, l, v) => `r${kind}${l} = ${v};`).map((x) => '    ' + x), '  }');
    L.push(...multiply('cur').map((x) => '  ' + x));
    L.push('  if (more) {');
    for (let l = 0; l < la; l++) L.push(`    ${aSlot('nxtA', l)} = ra${l};`);
    for (let l = 0; l < lb; l++) L.push(`    ${bSlot('nxtB', l)} = rb${l};`);
    L.push('  }', '  workgroupBarrier();', '}');
  } else {
    L.push(`for (var t = 0u; t < ${u32(tiles)}; t = t + 1u) {`, `  let k0 = kb + t * ${u32(bk)};`);
    L.push(
      ...fetch('k0', (kind, l, v) => `${kind === 'a' ? aSlot('0u', l) : bSlot('0u', l)} = ${v};`).map((x) => '  ' + x),
    );
    L.push('  workgroupBarrier();', '  let curA = 0u; let curB = 0u;');
    L.push(...multiply('cur').map((x) => '  ' + x));
    L.push('  workgroupBarrier();', '}');
  }

  // Store: output rows (ty + q·WY)·4 + c, vec4 columns tx + q·WX; a split product's partial
  // tiles go to scratch, finished by the second pass.
  const store = (idx: string, col: string, v: string) =>
    split > 1 ? `scratch[${idx}] = ${v};` : `out[${idx}] = ${finish(v, col, epi)};`;
  for (let i = 0; i < tm; i++) {
    const rowExpr = `row0 + (ty + ${u32((i >> 2) * wy)}) * 4u + ${u32(i & 3)}`;
    L.push('{', `  let r = ${rowExpr};`, `  if (r < ${u32(s.m)}) {`);
    for (let q = 0; q < fn; q++) {
      L.push(`    let c${q} = col0 + (tx + ${u32(q * wx)}) * 4u;`);
      for (let c = 0; c < 4; c++) {
        L.push(
          `    if (c${q} + ${u32(c)} < ${u32(s.n)}) { ${store(`cb + r * ${u32(s.n)} + c${q} + ${u32(c)}`, `c${q} + ${u32(c)}`, `acc[${i * fn + q}][${c}]`)} }`,
        );
      }
    }
    L.push('  }', '}');
  }
  const decls = [
    `var<workgroup> As: array<vec4<f32>, ${bufs * sizeA}>;`,
    `var<workgroup> Bs: array<vec4<f32>, ${bufs * sizeB}>;`,
  ].join('\n');
  const pass: WgslPass = {
    kind: 'tiled',
    grid: [Math.ceil(s.n / bn), Math.ceil(s.m / bm), s.batch * split],
    workgroupSize: [threads, 1, 1],
    decls,
    body: L.join('\n'),
  };
  if (split === 1) return pass;
  const mn = s.m * s.n;
  const sum = [
    `let col = i % ${u32(s.n)};`,
    `let at = (i / ${u32(mn)}) * ${u32(split * mn)} + i % ${u32(mn)};`,
    'var acc = 0.0;',
    `for (var c = 0u; c < ${u32(split)}; c = c + 1u) { acc = acc + scratch[at + c * ${u32(mn)}]; }`,
    `out[i] = ${finish('acc', 'col', epi)};`,
  ].join('\n');
  return {
    kind: 'passes',
    scratch: s.batch * split * mn,
    passes: [pass, { kind: 'map', count: s.batch * mn, body: sum }],
  };
}
