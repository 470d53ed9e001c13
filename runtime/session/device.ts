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
import { describeCost, estimateCost, type StepCost } from '../scheduler/cost.js';
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

/** The plan `explain` and `auto` look at: the training step at its batch, else the forward pass of one row. */
function mainSpec(program: Program) {
  const m = program.model;
  const training = !!m.loss && m.updates.length > 0;
  const batch = training ? program.batchSize : 1;
  const spec = planSpec(program, training ? 'train' : 'forward', batch);
  const order = spec.graph.ancestors([...spec.outputs, ...spec.writebacks.map((w) => w.from)]);
  return { training, batch, spec, order, what: training ? `training step (batch ${batch})` : 'forward pass' };
}

/** The estimated cost of the main plan on each device (scheduler/cost.ts). */
export function stepCost(program: Program): StepCost & { what: string } {
  const m = mainSpec(program);
  return { ...estimateCost(m.spec.graph, m.order), what: m.what };
}

/**
 * Under `auto`, when no node asks for WebGPU: the CPU's note when the estimate says the graph is
 * too small to gain from a GPU (no adapter is probed then), else null (try WebGPU).
 */
export function autoPrefersCpu(wish: DeviceWish, program: Program): string | null {
  if (wish.choice !== 'auto' || wish.nodeGpu) return null;
  const c = stepCost(program);
  if (c.device !== 'cpu') return null;
  return `auto: cpu (estimated ${c.what}: cpu ${c.cpuMs.toPrecision(2)} ms, webgpu ${c.gpuMs.toPrecision(2)} ms)`;
}

/**
 * Where each node runs and why: the training step's plan (the forward pass without a training
 * section), with the transfers a fallback inserts; on the CPU, every node there.
 */
export function explainSession(program: Program, dev: DeviceRunner | null, note: string): string {
  const { training, batch, spec, order, what } = mainSpec(program);
  const header = `${what} on ${note}`;
  const cost = describeCost(estimateCost(spec.graph, order), what);
  if (dev) return `${dev.dev.explain(dev.prepare(training ? 'train' : 'forward', batch).run, header)}\n${cost}`;
  const g = spec.graph;
  return `${explainPlacement(g, place(g, order, { device: 'cpu', main: 'cpu', gpu: null }), order, [], header)}\n${cost}`;
}
