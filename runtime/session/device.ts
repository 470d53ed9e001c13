// The device choice, computed in one place: what the options and the graph ask for (`device:`
// and per-node requests), whether WebGPU is needed, and the note saying what was chosen.

import type { Model } from '../load/model.js';
import { deviceRequests, type DeviceChoice, type DeviceRequest } from '../scheduler/placement.js';

export interface DeviceWish {
  /** cpu, webgpu or auto: the option, else the graph's `device:`, else cpu. */
  choice: DeviceChoice;
  /** Per-node requests (`device:` on nodes). */
  requests: Map<string, DeviceRequest>;
  /** Some node asks for WebGPU itself. */
  nodeGpu: boolean;
  /** A WebGPU device must be acquired (or `auto` may fall back to the CPU). */
  wantsGpu: boolean;
}

export function deviceWish(model: Model, device: DeviceChoice | undefined): DeviceWish {
  const choice = device ?? model.device?.choice ?? 'cpu';
  const requests = deviceRequests(model);
  const nodeGpu = [...requests.values()].some((r) => r.device === 'webgpu');
  return { choice, requests, nodeGpu, wantsGpu: choice !== 'cpu' || nodeGpu };
}

/** What `deviceNote` says about a session. */
export function deviceNote(wish: DeviceWish, gpu: { description: string } | null, f64: boolean, why?: string): string {
  const auto = wish.choice === 'auto' ? 'auto: ' : '';
  if (!gpu) return why !== undefined ? `${auto}cpu (${why})` : 'cpu';
  const device = wish.choice === 'cpu' ? 'cpu' : 'webgpu';
  const f = device === 'webgpu' && f64 ? '; f64 tensors stay on the CPU (WGSL has no f64)' : '';
  return `${auto}${device} (${gpu.description})${f}`;
}
