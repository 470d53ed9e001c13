// Placement: which executor runs each node, and why. Nodes go to the graph's device unless
// they ask for another (`device:` on the node; reverse-graph nodes follow the forward node
// whose rule made them) or cannot run there (no WGSL kernel, f64): those fall back to the CPU,
// visibly (explainPlacement) or as an error under --strict-device. placed-plan.ts turns a
// placed graph into one plan per run of same-device nodes, with the transfers between them.

import { DeviceError } from '../device-error.js';
import type { IRGraph } from '../ir/graph.js';
import { sizeOf, type IRNode } from '../ir/types.js';
import type { SourceLoc } from '../errors.js';
import type { Model } from '../load/model.js';
import { getOp } from '../ops/registry.js';

// The plan over placed nodes (segments and transfers) lives in placed-plan.ts.
export { buildPlacedPlan, type PlacedPlan, type PlacedPlanOptions, type Transfer } from './placed-plan.js';
import type { Transfer } from './placed-plan.js';

export type DeviceKind = 'cpu' | 'webgpu';
/** Where nodes run: `cpu`, `webgpu`, or `auto` (WebGPU when an adapter exists, else the CPU). */
export type DeviceChoice = DeviceKind | 'auto';

/** A `device:` written on a node in the YAML. */
export interface DeviceRequest {
  device: DeviceKind;
  loc?: SourceLoc;
}

export interface PlacementOptions {
  /** Where nodes run unless they ask otherwise or cannot (the graph's device). */
  device: DeviceKind;
  /** Where inputs, parameters and optimizer state live: the graph's device, except that f64 stays on the CPU. */
  main: DeviceKind;
  /** Node name -> its `device:` request. */
  requests?: Map<string, DeviceRequest>;
  /** The WebGPU device's limits on one bound tensor and on buffers per kernel; null without a WebGPU device. */
  gpu: { maxBindingBytes: number; maxBuffers?: number } | null;
  /** Make any fallback an error. */
  strict?: boolean;
}

export interface NodePlace {
  device: DeviceKind;
  why: string;
  /** Asked for WebGPU, runs on the CPU. */
  fallback: boolean;
}

export interface Placement {
  /** The graph's device, and where inputs and parameters live. */
  device: DeviceKind;
  main: DeviceKind;
  nodes: Map<string, NodePlace>;
  /** Names of nodes that fell back to the CPU, in order. */
  fallbacks: string[];
}

const bytesOf = (n: IRNode) => sizeOf(n.type.shape) * (n.type.dtype === 'f64' ? 8 : 4);
const where = (loc?: SourceLoc) => (loc ? ` (${loc.file}:${loc.line}:${loc.col})` : '');

/** Why a WebGPU request cannot be met for this node, or null when it can. */
function gpuObstacle(g: IRGraph, node: IRNode, maxBuffers: number): string | null {
  const types = [node.type, ...node.inputs.map((i) => g.node(i).type)];
  if (types.some((t) => t.dtype === 'f64')) return 'f64: WGSL has no f64';
  if (!getOp(node.op)?.wgsl) return `op ${node.op} has no WGSL kernel`;
  if (node.inputs.length + 1 > maxBuffers)
    return `${node.inputs.length} inputs and an output: a WebGPU kernel binds at most ${maxBuffers} storage buffers`;
  return null;
}

/**
 * Place the nodes of `order` (a topological order of `g`). Throws DeviceError for a tensor
 * larger than the device can bind (naming the tensor and the limit) and, under `strict`, for
 * any fallback.
 */
export function place(g: IRGraph, order: string[], opts: PlacementOptions): Placement {
  const nodes = new Map<string, NodePlace>();
  const fallbacks: string[] = [];
  const requests = opts.requests ?? new Map<string, DeviceRequest>();
  const request = (n: IRNode): { device: DeviceKind; why: string } => {
    const own = requests.get(n.name);
    if (own) return { device: own.device, why: `node device: ${own.device}${where(own.loc)}` };
    // A reverse-graph node runs where the forward node it differentiates asked to run.
    const from = n.grad?.from !== undefined ? requests.get(n.grad.from) : undefined;
    if (from) return { device: from.device, why: `gradient of ${n.grad!.from}, which asks for ${from.device}` };
    return { device: opts.device, why: `graph device: ${opts.device}` };
  };
  const consumers = new Map<string, string[]>();
  for (const name of order)
    for (const i of g.node(name).inputs) (consumers.get(i) ?? consumers.set(i, []).get(i)!).push(name);

  for (const name of order) {
    const node = g.node(name);
    if (node.op === 'const') continue; // placed with its first consumer, below
    if (node.op === 'input' || node.op === 'param' || node.op === 'state') {
      const what =
        node.op === 'input' ? 'input, fed' : node.op === 'param' ? 'parameter, kept' : 'optimizer state, kept';
      nodes.set(name, {
        device: opts.main,
        why: `${what} on ${opts.main}${opts.main !== opts.device ? ' (f64)' : ''}`,
        fallback: false,
      });
      continue;
    }
    const r = request(node);
    if (r.device === 'webgpu') {
      if (!opts.gpu)
        throw new DeviceError(
          'NoAdapter',
          `node "${name}" asks for webgpu, but no WebGPU device was acquired`,
          'create the session with Session.create (or the CLI), which acquires one',
          name,
        );
      // WebGPU guarantees 8 storage buffers per shader stage; devices may offer more.
      const obstacle = gpuObstacle(g, node, opts.gpu.maxBuffers ?? 8);
      if (obstacle) {
        nodes.set(name, { device: 'cpu', why: `fallback: ${obstacle}`, fallback: true });
        fallbacks.push(name);
        continue;
      }
      for (const t of [...node.inputs, name]) {
        const b = bytesOf(g.node(t));
        if (b > opts.gpu.maxBindingBytes) {
          throw new DeviceError(
            'BufferLimit',
            `tensor "${t}" [${g.node(t).type.shape.join(', ')}] needs ${b} bytes; the WebGPU device binds at most ${opts.gpu.maxBindingBytes} (maxStorageBufferBindingSize)`,
            `use a smaller batch or layer, or run node "${name}" on the CPU (device: cpu)`,
            t,
          );
        }
      }
    }
    nodes.set(name, { device: r.device, why: r.why, fallback: false });
  }
  for (const name of order) {
    if (g.node(name).op !== 'const') continue;
    const first = consumers.get(name)?.[0];
    const device = first ? nodes.get(first)!.device : opts.main;
    nodes.set(name, { device, why: 'constant, filled where it is first read', fallback: false });
  }
  if (opts.strict && fallbacks.length) {
    const list = fallbacks
      .slice(0, 3)
      .map((n) => `"${n}" (${g.node(n).op}): ${nodes.get(n)!.why.replace(/^fallback: /, '')}${where(g.node(n).loc)}`);
    if (fallbacks.length > 3) list.push(`and ${fallbacks.length - 3} more (graph-run plan lists them)`);
    throw new DeviceError(
      'Fallback',
      `--strict-device: ${fallbacks.length} node${fallbacks.length === 1 ? '' : 's'} cannot run on webgpu: ${list.join('; ')}`,
      'drop --strict-device to let them run on the CPU, or mark them device: cpu',
      fallbacks[0],
    );
  }
  return { device: opts.device, main: opts.main, nodes, fallbacks };
}

/** A table of where each node runs and why, plus the transfers a plan inserted (for --explain). */
export function explainPlacement(
  g: IRGraph,
  p: Placement,
  order: string[],
  transfers: Transfer[] = [],
  header?: string,
): string {
  const rows = order.map((n) => [n, g.node(n).op, p.nodes.get(n)?.device ?? '-', p.nodes.get(n)?.why ?? '']);
  const counts = new Map<string, number>();
  for (const n of order) {
    const d = p.nodes.get(n)?.device;
    if (d && !['input', 'param', 'state', 'const'].includes(g.node(n).op)) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length), ['node', 'op', 'device'][c]!.length));
  const line = (r: string[]) =>
    `  ${r[0]!.padEnd(w[0]!)}  ${r[1]!.padEnd(w[1]!)}  ${r[2]!.padEnd(w[2]!)}  ${r[3]}`.trimEnd();
  const summary = [...counts].map(([d, c]) => `${c} on ${d}`).join(', ') || 'no kernels';
  const out = [
    `${header ?? 'placement'}: graph device ${p.device}${p.main !== p.device ? ` (tensors on ${p.main})` : ''}; ${summary}; ${p.fallbacks.length} fallback${p.fallbacks.length === 1 ? '' : 's'}; ${transfers.length} transfer${transfers.length === 1 ? '' : 's'} per run`,
    line(['node', 'op', 'device', 'why']),
    ...rows.map(line),
  ];
  for (const t of transfers) out.push(`  transfer ${t.value}: ${t.from} -> ${t.to} (${t.purpose})`);
  return out.join('\n');
}

/** The `device:` requests written on a model's nodes (forward, loss, optimizer), by node name. */
export function deviceRequests(model: Model): Map<string, DeviceRequest> {
  const out = new Map<string, DeviceRequest>();
  const lists = [model.nodes, model.loss?.nodes ?? [], model.gradNodes ?? [], ...model.updates.map((u) => u.nodes)];
  for (const list of lists) for (const n of list) if (n.device) out.set(n.name, { device: n.device, loc: n.loc });
  return out;
}
