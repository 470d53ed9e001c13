// im2col and col2im for the common convolution that keeps the width (stride 1, dilation 1 along
// W, output width = input width, any dilation along H: 'same' padding, or `padding: 1` with a 3x3 kernel). Then one
// column-matrix row (a kernel tap) is the input plane shifted by a constant offset, so it is
// one contiguous run: a single memmove (copyWithin over the shared memory both live in) where
// conv-cpu.ts's general im2col copies a row of ow at a time, plus zeros where the tap falls
// outside the image (rows above or below, one or two columns at the sides). col2im adds one
// such run per tap into the image, after zeroing the side columns that belong to no input.

import type { TypedArray } from '../ir/types.js';
import type { ConvGeom } from './conv-geom.js';

/** Whether the runs apply to this geometry. */
export function keepsWidth(g: ConvGeom): boolean {
  return g.sh === 1 && g.sw === 1 && g.dw === 1 && g.ow === g.w;
}

/** One tap's run: columns [j0, j1) of its row read the plane at j + off; ox in [lo, hi) are inside. */
interface Tap {
  r: number;
  off: number;
  j0: number;
  j1: number;
  lo: number;
  hi: number;
}

function taps(g: ConvGeom): Tap[] {
  const { h, w, kh, kw, oh, ow, dh, pt, pl } = g;
  const cg = g.c / g.groups,
    hw = h * w;
  const out: Tap[] = [];
  for (let ic = 0; ic < cg; ic++)
    for (let ky = 0; ky < kh; ky++)
      for (let kx = 0; kx < kw; kx++) {
        // Output rows whose input row oy − pt + ky·dh lies inside the image.
        const oy0 = Math.min(oh, Math.max(0, pt - ky * dh)),
          oy1 = Math.max(oy0, Math.min(oh, h + pt - ky * dh));
        const dx = kx - pl,
          lo = Math.max(0, -dx),
          hi = Math.min(ow, w - dx);
        const off = ic * hw + (ky * dh - pt) * w + dx;
        // The run, clipped so that it reads inside this channel's plane.
        const j0 = Math.max(oy0 * ow, -off + ic * hw),
          j1 = Math.max(j0, Math.min(oy1 * ow, ic * hw + hw - off));
        out.push({ r: (ic * kh + ky) * kw + kx, off, j0, j1, lo: Math.min(lo, ow), hi: Math.max(0, hi) });
      }
  return out;
}

/** The whole arena as one array (the latest of the views' buffers covers all the earlier ones). */
function heapOf(arrays: TypedArray[], prev: Float32Array | null): Float32Array {
  let best = arrays[0]!.buffer;
  for (const a of arrays) if (a.buffer.byteLength > best.byteLength) best = a.buffer;
  return prev && prev.buffer.byteLength >= best.byteLength ? prev : new Float32Array(best);
}

/**
 * im2col for width-keeping convolutions, on arrays in the shared memory:
 * returns fill(xb) writing the column matrix of the group whose first input element is x[xb].
 */
export function im2colRuns(g: ConvGeom, x: Float32Array, cols: Float32Array): (xb: number) => void {
  const p = g.oh * g.ow,
    ow = g.ow;
  const ts = taps(g);
  let heap: Float32Array | null = null;
  return (xb) => {
    heap = heapOf([x, cols], heap);
    const xs = x.byteOffset / 4 + xb,
      cs = cols.byteOffset / 4;
    for (const t of ts) {
      const row = t.r * p;
      cols.fill(0, row, row + t.j0);
      cols.fill(0, row + t.j1, row + p);
      if (t.j1 <= t.j0) continue;
      heap.copyWithin(cs + row + t.j0, xs + t.off + t.j0, xs + t.off + t.j1);
      // The side columns whose tap falls left or right of the image (read from the next row).
      if (t.lo > 0 || t.hi < ow)
        for (let a = row + t.j0 - (t.j0 % ow); a < row + t.j1; a += ow) {
          for (let ox = 0; ox < t.lo; ox++) cols[a + ox] = 0;
          for (let ox = t.hi; ox < ow; ox++) cols[a + ox] = 0;
        }
    }
  };
}

/**
 * col2im for the same convolutions: dx[xb + plane] = Σ over taps of the tap's run of `cols`,
 * accumulated in the image itself (zeroed first), one contiguous loop per tap.
 */
export function col2imRuns(g: ConvGeom, cols: Float32Array, dx: TypedArray): (xb: number) => void {
  const p = g.oh * g.ow,
    ow = g.ow;
  const ts = taps(g);
  const size = (g.c / g.groups) * g.h * g.w;
  return (xb) => {
    dx.fill(0, xb, xb + size);
    for (const t of ts) {
      if (t.j1 <= t.j0) continue;
      const row = t.r * p;
      if (t.lo > 0 || t.hi < ow)
        for (let a = row + t.j0 - (t.j0 % ow); a < row + t.j1; a += ow) {
          for (let ox = 0; ox < t.lo; ox++) cols[a + ox] = 0;
          for (let ox = t.hi; ox < ow; ox++) cols[a + ox] = 0;
        }
      const d = xb + t.off - row;
      for (let a = row + t.j0, e = row + t.j1; a < e; a++) dx[a + d]! += cols[a]!;
    }
  };
}
