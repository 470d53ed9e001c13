// WGSL kernels of the convolutions: one invocation per result element, the same gathers as the
// reference kernels of conv-cpu.ts (forward: the taps of one output; input gradient: the
// outputs one input element reached; weight gradient: the batch and positions one tap saw), so
// no two invocations write one element and no atomics are needed. Indices are i32: the
// geometry (baked in as literals) makes tap positions negative before the bounds tests.

import type { ConvGeom } from './conv-geom.js';
import type { WgslKernel } from './op.js';

/** `let` lines splitting the flat index into the named coordinates (innermost last). */
function coords(names: string[], sizes: number[]): string {
  const lines = ['var rest = i32(i);'];
  for (let d = names.length - 1; d > 0; d--) {
    lines.push(`let ${names[d]} = rest % ${sizes[d]};`, `rest = rest / ${sizes[d]};`);
  }
  lines.push(`let ${names[0]} = rest;`);
  return lines.join('\n');
}

export function convWgsl(g: ConvGeom, bias: boolean): WgslKernel {
  const { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups } = g;
  const cg = c / groups,
    og = o / groups;
  const body = [
    coords(['ni', 'oc', 'oy', 'ox'], [n, o, oh, ow]),
    `let grp = oc / ${og};`,
    `var s = ${bias ? 'in2[oc]' : '0.0'};`,
    `for (var ic = 0; ic < ${cg}; ic++) {`,
    `  let xb = (ni * ${c} + grp * ${cg} + ic) * ${h * w};`,
    `  let wb = (oc * ${cg} + ic) * ${kh * kw};`,
    `  for (var ky = 0; ky < ${kh}; ky++) {`,
    `    let iy = oy * ${sh} - ${pt} + ky * ${dh};`,
    `    if (iy < 0 || iy >= ${h}) { continue; }`,
    `    for (var kx = 0; kx < ${kw}; kx++) {`,
    `      let ix = ox * ${sw} - ${pl} + kx * ${dw};`,
    `      if (ix >= 0 && ix < ${w}) { s += in0[xb + iy * ${w} + ix] * in1[wb + ky * ${kw} + kx]; }`,
    '    }',
    '  }',
    '}',
    'out[i] = s;',
  ].join('\n');
  return { kind: 'map', count: n * o * oh * ow, body };
}

export function inputGradWgsl(g: ConvGeom): WgslKernel {
  const { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups } = g;
  const cg = c / groups,
    og = o / groups;
  const body = [
    coords(['ni', 'xc', 'iy', 'ix'], [n, c, h, w]),
    `let grp = xc / ${cg};`,
    `let ic = xc - grp * ${cg};`,
    'var s = 0.0;',
    `for (var oc = grp * ${og}; oc < (grp + 1) * ${og}; oc++) {`,
    `  let yb = (ni * ${o} + oc) * ${oh * ow};`,
    `  let wb = (oc * ${cg} + ic) * ${kh * kw};`,
    `  for (var ky = 0; ky < ${kh}; ky++) {`,
    `    let ty = iy + ${pt} - ky * ${dh};`,
    `    if (ty < 0 || ty % ${sh} != 0 || ty / ${sh} >= ${oh}) { continue; }`,
    `    for (var kx = 0; kx < ${kw}; kx++) {`,
    `      let tx = ix + ${pl} - kx * ${dw};`,
    `      if (tx < 0 || tx % ${sw} != 0 || tx / ${sw} >= ${ow}) { continue; }`,
    `      s += in0[yb + (ty / ${sh}) * ${ow} + tx / ${sw}] * in1[wb + ky * ${kw} + kx];`,
    '    }',
    '  }',
    '}',
    'out[i] = s;',
  ].join('\n');
  return { kind: 'map', count: n * c * h * w, body };
}

export function weightGradWgsl(g: ConvGeom): WgslKernel {
  const { n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pl, groups } = g;
  const cg = c / groups,
    og = o / groups;
  const body = [
    coords(['oc', 'ic', 'ky', 'kx'], [o, cg, kh, kw]),
    `let grp = oc / ${og};`,
    'var s = 0.0;',
    `for (var ni = 0; ni < ${n}; ni++) {`,
    `  let xb = (ni * ${c} + grp * ${cg} + ic) * ${h * w};`,
    `  let yb = (ni * ${o} + oc) * ${oh * ow};`,
    `  for (var oy = 0; oy < ${oh}; oy++) {`,
    `    let iy = oy * ${sh} - ${pt} + ky * ${dh};`,
    `    if (iy < 0 || iy >= ${h}) { continue; }`,
    `    for (var ox = 0; ox < ${ow}; ox++) {`,
    `      let ix = ox * ${sw} - ${pl} + kx * ${dw};`,
    `      if (ix >= 0 && ix < ${w}) { s += in1[yb + oy * ${ow} + ox] * in0[xb + iy * ${w} + ix]; }`,
    '    }',
    '  }',
    '}',
    'out[i] = s;',
  ].join('\n');
  return { kind: 'map', count: o * cg * kh * kw, body };
}
