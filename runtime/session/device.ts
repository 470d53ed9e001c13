// The device choice, computed in one place: what the options and the graph ask for (`device:`
// and per-node requests), whether WebGPU is needed, the note saying what was chosen, and where
// each node of the session's main plan runs (Session.explain).

import type { Program } from '../compile/program.js';
import type { Model } from '../load/model.js';
import {
  deviceRequests,
  explainPlacement,
  place,
  type DeviceChoice,
  type DeviceRequest,
} from '../scheduler/placement.js';
import type { DeviceRunner } from './device-runner.js';
import { planSpec } from './runner.js';

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

/**
 * Where each node runs and why: the training step's plan (the forward pass without a training
 * section), with the transfers a fallback inserts; on the CPU, every node there.
 */
export function explainSession(program: Program, dev: DeviceRunner | null, note: string): string {
  const m = program.model;
  const training = !!m.loss && m.updates.length > 0;
  const kind = training ? 'train' : 'forward';
  const batch = training ? program.batchSize : 1;
  const header = `${training ? `training step (batch ${program.batchSize})` : 'forward pass'} on ${note}`;
  if (dev) return dev.dev.explain(dev.prepare(kind, batch).run, header);
  const spec = planSpec(program, kind, batch);
  const g = spec.graph;
  const order = g.ancestors([...spec.outputs, ...spec.writebacks.map((w) => w.from)]);
  return explainPlacement(g, place(g, order, { device: 'cpu', main: 'cpu', gpu: null }), order, [], header);
}
