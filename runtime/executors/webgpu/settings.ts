// The WebGPU executor's settings that the environment may override (Node; a browser has none),
// read when an executor is made, and the check that a node's dtype exists in WGSL.

import type { DType, IRNode } from '../../ir/types.js';
import { DeviceError } from '../executor.js';
import type { WgslScalar } from './wgsl.js';

const env = (name: string): string | undefined => (typeof process === 'undefined' ? undefined : process.env?.[name]);

/** Whether plans on WebGPU finish matmuls with bias + ReLU in the kernel (GRAPH_RUN_EPILOGUE=0: not). */
export const epiloguesByDefault = (): boolean => env('GRAPH_RUN_EPILOGUE') !== '0';
/** Whether plans on WebGPU fuse elementwise chains into one kernel (GRAPH_RUN_FUSE=0: not). */
export const fusionByDefault = (): boolean => env('GRAPH_RUN_FUSE') !== '0';

/** GRAPH_RUN_GPU_STEPS, where the environment has one: training steps per submission. */
export function stepsFromEnv(): number | undefined {
  const v = env('GRAPH_RUN_GPU_STEPS');
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** A node's dtype as a WGSL scalar: f64 has none (the scheduler places f64 nodes on the CPU). */
export function scalar(d: DType, node: IRNode): WgslScalar {
  if (d === 'f64')
    throw new DeviceError(
      'KernelError',
      `node "${node.name}" is f64, which WGSL lacks`,
      'the scheduler places f64 nodes on the CPU',
      node.name,
    );
  return d;
}
