// WGSL kernels of max_pool2d/avg_pool2d (pool.ts) and their gradients: one invocation per result
// element, the CPU kernels' rules (first maximum of a window, NaN wins; PyTorch's divisor), the
// gradients as gathers over the windows that cover an input element (no atomics).

import type { WgslKernel } from './op.js';
import type { PoolGeom } from './pool.js';

/** WGSL fn argmax(base, oy, ox) -> i32 and fn divisor(oy, ox) -> f32, the CPU's rules. */
function helpers(g: PoolGeom): string {
  return `fn argmax(base: i32, oy: i32, ox: i32) -> i32 {
  var m = 0.0;
  var at = -1;
  for (var ky = 0; ky < ${g.kh}; ky++) {
    let iy = oy * ${g.sh} - ${g.ph} + ky;
    if (iy < 0 || iy >= ${g.h}) { continue; }
    for (var kx = 0; kx < ${g.kw}; kx++) {
      let ix = ox * ${g.sw} - ${g.pw} + kx;
      if (ix < 0 || ix >= ${g.w}) { continue; }
      let v = in0[base + iy * ${g.w} + ix];
      if (at < 0 || v > m || is_nan(v)) { m = v; at = iy * ${g.w} + ix; }
    }
  }
  return at;
}
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn divisor(oy: i32, ox: i32) -> f32 {
  let y0 = oy * ${g.sh} - ${g.ph};
  let x0 = ox * ${g.sw} - ${g.pw};
  let y1 = min(y0 + ${g.kh}, ${g.h + g.ph});
  let x1 = min(x0 + ${g.kw}, ${g.w + g.pw});
  ${g.include ? 'return f32((y1 - y0) * (x1 - x0));' : `return f32((min(y1, ${g.h}) - max(y0, 0)) * (min(x1, ${g.w}) - max(x0, 0)));`}
}`;
}

export function forwardWgsl(g: PoolGeom, max: boolean): WgslKernel {
  const body = [
    `let ii = i32(i);`,
    `let ox = ii % ${g.ow};`,
    `let oy = (ii / ${g.ow}) % ${g.oh};`,
    `let base = (ii / ${g.ow * g.oh}) * ${g.h * g.w};`,
    max
      ? 'out[i] = in0[base + argmax(base, oy, ox)];'
      : [
          'var s = 0.0;',
          `for (var iy = max(0, oy * ${g.sh} - ${g.ph}); iy < min(${g.h}, oy * ${g.sh} - ${g.ph} + ${g.kh}); iy++) {`,
          `  for (var ix = max(0, ox * ${g.sw} - ${g.pw}); ix < min(${g.w}, ox * ${g.sw} - ${g.pw} + ${g.kw}); ix++) { s += in0[base + iy * ${g.w} + ix]; }`,
          '}',
          'out[i] = s / divisor(oy, ox);',
        ].join('\n'),
  ].join('\n');
  return { kind: 'map', count: g.n * g.oh * g.ow, body, decls: helpers(g) };
}

/** The gradient as a gather: input element (iy, ix) sums over the windows that cover it. */
export function gradWgsl(g: PoolGeom, max: boolean): WgslKernel {
  const dy = max ? 'in1' : 'in0';
  const body = [
    `let ii = i32(i);`,
    `let ix = ii % ${g.w};`,
    `let iy = (ii / ${g.w}) % ${g.h};`,
    `let img = ii / ${g.h * g.w};`,
    'var s = 0.0;',
    `let ay = iy + ${g.ph - g.kh + 1};`,
    `let ax = ix + ${g.pw - g.kw + 1};`,
    `var lo_y = 0; if (ay > 0) { lo_y = (ay + ${g.sh - 1}) / ${g.sh}; }`,
    `var lo_x = 0; if (ax > 0) { lo_x = (ax + ${g.sw - 1}) / ${g.sw}; }`,
    `for (var oy = lo_y; oy <= min(${g.oh - 1}, (iy + ${g.ph}) / ${g.sh}); oy++) {`,
    `  for (var ox = lo_x; ox <= min(${g.ow - 1}, (ix + ${g.pw}) / ${g.sw}); ox++) {`,
    `    let d = ${dy}[(img * ${g.oh} + oy) * ${g.ow} + ox];`,
    max
      ? `    if (argmax(img * ${g.h * g.w}, oy, ox) == iy * ${g.w} + ix) { s += d; }`
      : '    s += d / divisor(oy, ox);',
    '  }',
    '}',
    'out[i] = s;',
  ].join('\n');
  return { kind: 'map', count: g.n * g.h * g.w, body, decls: helpers(g) };
}
