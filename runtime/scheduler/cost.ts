// What one run of a plan costs on each device, estimated from its shapes: `device: auto` takes
// the cheaper device, and `graph-run plan` shows the figures. The model is deliberately coarse:
// arithmetic at a sustained rate, memory traffic at a bandwidth, and a fixed cost per kernel and
// per step. The GPU's fixed costs are what decide small graphs: a step of the tutorial's network
// is under a microsecond on the CPU and a quarter of a millisecond of submission and read-back on
// any GPU, while an MLP with 4096-wide layers is the other way round by a factor of a hundred.

import type { IRGraph } from '../ir/graph.js';
import { sizeOf, type DType } from '../ir/types.js';
import { getOp } from '../ops/registry.js';

/**
 * The rates the estimate uses, from docs/performance.md and docs/performance-gpu.md: the CPU
 * figures are this project's SIMD gemm on two cores (relaxed FMA) and its fused elementwise
 * loops; the GPU's are an H100's WebGPU figures (matmul 4096 at 32 TFLOP/s, a 784-4096-4096-10
 * step at ~21 TFLOP/s effective, the tutorial's network at ~250 µs per step), rounded down.
 */
export const COST_MODEL = {
  cpu: { flops: 50e9, bytes: 8e9, kernelUs: 0.05, stepUs: 0 },
  gpu: { flops: 15e12, bytes: 1e12, kernelUs: 5, stepUs: 250 },
} as const;

/** The ops that hold values rather than compute them: no kernel runs for them. */
const HOLDERS = new Set(['input', 'param', 'state', 'const']);

const BYTES: Record<DType, number> = { f32: 4, f64: 8, i32: 4 };

/** One run of a plan, counted and timed by the estimate. */
export interface StepCost {
  /** Kernels one run launches (before the CPU's elementwise fusion). */
  kernels: number;
  /** Floating-point operations (a multiply-add is two). */
  flops: number;
  /** Bytes the kernels write (a stand-in for memory traffic). */
  bytes: number;
  /** Estimated milliseconds per run on the CPU and on a discrete GPU. */
  cpuMs: number;
  gpuMs: number;
  /** The cheaper device by the estimate. */
  device: 'cpu' | 'webgpu';
}

/** The cost of running `order`'s nodes of a bound graph once, by COST_MODEL. */
export function estimateCost(g: IRGraph, order: readonly string[]): StepCost {
  let kernels = 0;
  let flops = 0;
  let bytes = 0;
  for (const name of order) {
    const node = g.node(name);
    if (HOLDERS.has(node.op)) continue;
    kernels++;
    const n = sizeOf(node.type.shape);
    const def = getOp(node.op);
    const inTypes = node.inputs.map((i) => g.node(i).type);
    flops += def?.flops ? def.flops(inTypes, node.type, node.attrs) : n;
    bytes += n * BYTES[node.type.dtype];
  }
  const time = (d: (typeof COST_MODEL)['cpu' | 'gpu']) =>
    (d.stepUs + kernels * d.kernelUs) / 1e3 + (flops / d.flops + bytes / d.bytes) * 1e3;
  const cpuMs = time(COST_MODEL.cpu);
  const gpuMs = time(COST_MODEL.gpu);
  return { kernels, flops, bytes, cpuMs, gpuMs, device: gpuMs < cpuMs ? 'webgpu' : 'cpu' };
}

/** Milliseconds as a short figure: 0.0012 ms, 0.25 ms, 12 ms. */
function ms(v: number): string {
  return `${v < 0.01 ? v.toPrecision(2) : v < 10 ? v.toFixed(2) : v.toFixed(0)} ms`;
}

/** A large count as 1.2 M / 3.4 G. */
function count(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)} G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)} k`;
  return `${v} `;
}

/** One line for `plan` and `deviceNote`: the figures and what `auto` takes. */
export function describeCost(c: StepCost, what: string): string {
  return (
    `estimated ${what}: ${count(c.flops)}FLOP in ${c.kernels} kernels; cpu ${ms(c.cpuMs)}, ` +
    `webgpu ${ms(c.gpuMs)} on a discrete GPU; auto takes ${c.device}`
  );
}
