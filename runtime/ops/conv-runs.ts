// im2col and col2im for the common convolution that keeps the width (stride 1, dilation 1 along
// W, output width = input width, any dilation along H: 'same' padding, or `padding: 1` with a 3x3 kernel). Then one
// column-matrix row (a kernel tap) is the input plane shifted by a constant offset, so it is
// one contiguous run: a single memmove where conv-cpu.ts's general im2col copies a row of ow at
// a time, plus zeros where the tap falls outside the image (rows above or below, one or two
// columns at the sides). col2im adds one such run per tap into the image, after zeroing the side
// columns that belong to no input. The runs are described here (one record per tap) and run as
// WebAssembly (CpuAccel.convRuns: one call per image for all its taps).

import type { ConvGeom } from './conv-geom.js';
import type { ConvRuns, CpuAccel } from './op.js';

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

/** The taps as CpuAccel.convRuns records: row, src, j0, j1, side (j0's row start), lo, hi, 0. */
function records(g: ConvGeom): Int32Array {
  const ts = taps(g);
  const out = new Int32Array(ts.length * 8);
  const p = g.oh * g.ow;
  ts.forEach((t, i) => {
    // A tap wholly outside a small image can have j0 past the row's end: clip to the row.
    const j0 = Math.min(t.j0, p),
      j1 = Math.min(t.j1, p);
    out.set([t.r * p, t.off, j0, j1, j0 - (j0 % g.ow), t.lo, t.hi, 0], i * 8);
  });
  return out;
}

/** The runs of geometry g, on arrays in the kernels' memory. */
export function convRuns(accel: CpuAccel, g: ConvGeom): ConvRuns {
  return accel.convRuns(records(g), g.oh * g.ow, g.ow);
}
