// The fixed frame around an op's WGSL kernel (ops/op.ts, WgslKernel): type aliases, storage
// bindings (inputs read-only at 0..n-1, the output read-write at n), the entry point, the
// work-item index and its bounds guard, and a dispatch size that respects the 65,535
// workgroups-per-dimension limit by folding the work over two dimensions.

import type { WgslPass } from '../../ops/op.js';

export type WgslScalar = 'f32' | 'i32';

/** Invocations per workgroup of `map` kernels. */
export const MAP_WORKGROUP = 64;
/** WebGPU's limit on workgroups per dispatch dimension (maxComputeWorkgroupsPerDimension). */
export const MAX_GROUPS_PER_DIM = 65535;

export interface Shader {
  code: string;
  /** Workgroups per dimension; null when there is no work (empty tensors). */
  dispatch: [number, number, number] | null;
}

/** `groups` workgroups as an (x, y) grid with x, y <= 65,535; the frame flattens it back. */
export function splitGroups(groups: number): [number, number, number] {
  if (groups <= MAX_GROUPS_PER_DIM) return [groups, 1, 1];
  const y = Math.ceil(groups / MAX_GROUPS_PER_DIM);
  if (y > MAX_GROUPS_PER_DIM) throw new Error(`${groups} workgroups exceed ${MAX_GROUPS_PER_DIM}² per dispatch`);
  return [MAX_GROUPS_PER_DIM, y, 1];
}

const u = (n: number) => `${n >>> 0}u`;

/**
 * The complete WGSL module for a kernel (one pass of it), and how to dispatch it; `scratch`
 * binds the kernel's scratch buffer after the output (WgslKernel's `passes`).
 */
export function frame(k: WgslPass, inTypes: WgslScalar[], outType: WgslScalar, scratch = false): Shader {
  const head: string[] = [];
  inTypes.forEach((t, i) => head.push(`alias T${i} = ${t};`));
  head.push(`alias TO = ${outType};`);
  inTypes.forEach((_, i) => head.push(`@group(0) @binding(${i}) var<storage, read> in${i}: array<T${i}>;`));
  head.push(`@group(0) @binding(${inTypes.length}) var<storage, read_write> out: array<TO>;`);
  if (scratch) head.push(`@group(0) @binding(${inTypes.length + 1}) var<storage, read_write> scratch: array<f32>;`);
  // A user function is not a constant expression, so f32_bits(0x7f800000u) may be infinite.
  head.push('fn f32_bits(b: u32) -> f32 { return bitcast<f32>(b); }');
  if (k.decls) head.push(k.decls);
  const indent = (s: string) =>
    s
      .split('\n')
      .map((l) => '  ' + l)
      .join('\n');
  switch (k.kind) {
    case 'map': {
      const groups = Math.ceil(k.count / MAP_WORKGROUP);
      const code = [
        ...head,
        `@compute @workgroup_size(${MAP_WORKGROUP})`,
        'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {',
        `  let i = (wg.x + wg.y * nwg.x) * ${u(MAP_WORKGROUP)} + lidx;`,
        `  if (i >= ${u(k.count)}) { return; }`,
        indent(k.body),
        '}',
        '',
      ].join('\n');
      return { code, dispatch: groups === 0 ? null : splitGroups(groups) };
    }
    case 'tiled': {
      const [gx, gy, gz] = k.grid;
      const total = gx * gy * gz;
      const [wx, wy, wz] = k.workgroupSize;
      // The guard and the workgroup's cell depend only on workgroup_id and num_workgroups,
      // which are uniform, so bodies may call workgroupBarrier after it.
      const code = [
        ...head,
        `@compute @workgroup_size(${wx}, ${wy}, ${wz})`,
        'fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,',
        '        @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) lidx: u32) {',
        '  let flat = wg.x + wg.y * nwg.x;',
        `  if (flat >= ${u(total)}) { return; }`,
        `  let wid = vec3<u32>(flat % ${u(gx)}, (flat / ${u(gx)}) % ${u(gy)}, flat / ${u(gx * gy)});`,
        indent(k.body),
        '}',
        '',
      ].join('\n');
      return { code, dispatch: total === 0 ? null : splitGroups(total) };
    }
    default:
      return k satisfies never;
  }
}
