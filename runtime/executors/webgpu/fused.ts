// WGSL for what the planner fuses (scheduler/fusion.ts) on WebGPU: a chain of elementwise nodes
// as one map kernel (each member's element from its row's WGSL expression, ops/elementwise.ts,
// so a fused chain computes what the unfused kernels do, one rounding per op), and a matmul
// finished by its bias row and ReLU in the matmul kernel's store step (ops/matmul.wgsl.ts).
// GRAPH_RUN_EPILOGUE=0 and GRAPH_RUN_FUSE=0 turn either off (to compare; the executor's
// `epilogues` and `fusion` fields, read once from the environment: settings.ts).

import { type FusedGroup, isElementwise } from '../../ir/fusion.js';
import type { Executor } from '../executor.js';
import { sizeOf, type IRNode, type TensorType } from '../../ir/types.js';
import { broadcastStrides } from '../../ops/broadcast.js';
import { elementwiseWgsl } from '../../ops/elementwise.js';
import { matmulWgsl } from '../../ops/matmul.js';
import type { WgslKernel } from '../../ops/op.js';
import { gatherIndex } from '../../ops/wgsl.js';

/** An elementwise f32 node with a WGSL expression: it may join a fused group. */
export function fusibleOnGpu(node: IRNode): boolean {
  return isElementwise(node) && node.type.dtype === 'f32' && elementwiseWgsl(node.op) !== undefined;
}

/** A matmul the epilogue applies to: f32 operands (its kernel handles every shape). */
export function epilogueOnGpu(inTypes: TensorType[]): boolean {
  return inTypes.length === 2 && inTypes.every((t) => t.dtype === 'f32');
}

/** The matmul kernel with bias (in2) and optional ReLU in its store step. */
export function epilogueWgsl(mm: IRNode, inTypes: TensorType[], relu: boolean): WgslKernel {
  return matmulWgsl(inTypes, mm.attrs, { bias: true, relu });
}

/**
 * One map kernel for the group: the group's inputs read at the output's index (broadcast ones
 * through their strides), then every member's expression in order, each a `let`.
 */
export function fusedWgsl(group: FusedGroup, inTypes: TensorType[]): WgslKernel {
  const out = group.nodes.at(-1)!.type.shape;
  const count = sizeOf(out);
  const names = new Map<string, string>();
  const body: string[] = [];
  group.inputs.forEach((x, j) => {
    const shape = inTypes[j]!.shape;
    const n = sizeOf(shape);
    const idx = n === count ? 'i' : n === 1 ? '0u' : gatherIndex('i', out, broadcastStrides(shape, out));
    body.push(`let x${j} = in${j}[${idx}];`);
    names.set(x, `x${j}`);
  });
  const decls = new Set<string>();
  group.nodes.forEach((node, k) => {
    const w = elementwiseWgsl(node.op);
    if (!w) throw new Error(`op ${node.op} has no WGSL expression to fuse`);
    if (w.decls) decls.add(w.decls);
    body.push(`let t${k} = ${w.expr(node.inputs.map((x) => names.get(x)!))};`);
    names.set(node.name, `t${k}`);
  });
  body.push(`out[i] = t${group.nodes.length - 1};`);
  return { kind: 'map', count, body: body.join('\n'), ...(decls.size ? { decls: [...decls].join('\n') } : {}) };
}

/** The group's members as kernels of their own, each into a buffer of its own but the last. */
export function memberByMember<B>(
  exec: Executor<B>,
  group: FusedGroup,
  inputs: B[],
  inTypes: TensorType[],
  output: B,
): () => void {
  const last = group.nodes.at(-1)!;
  const at = new Map<string, { buf: B; type: TensorType }>(
    group.inputs.map((x, j) => [x, { buf: inputs[j] as B, type: inTypes[j]! }]),
  );
  const steps = group.nodes.map((n) => {
    const buf = n === last ? output : exec.allocate(n.type.dtype, sizeOf(n.type.shape));
    const ins = n.inputs.map((x) => at.get(x)!);
    const step = exec.prepare(
      n,
      ins.map((x) => x.buf),
      buf,
      ins.map((x) => x.type),
    );
    at.set(n.name, { buf, type: n.type });
    return step;
  });
  return () => {
    for (const s of steps) s();
  };
}
