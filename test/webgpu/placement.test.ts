// Placement and mixed plans without a GPU: which node runs where and why, strictness and
// buffer limits as errors, and a training step split across two executors (a second CPU
// executor stands in for WebGPU) giving exactly the single-executor result. Also the kernel
// frame's dispatch folding past 65,535 workgroups per dimension.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuExecutor } from '../../runtime/executors/cpu/cpu.js';
import { DeviceError, type Executor } from '../../runtime/executors/executor.js';
import { frame, splitGroups } from '../../runtime/executors/webgpu/wgsl.js';
import { loadGraph, parseGraph } from '../../runtime/index.js';
import type { TypedArray } from '../../runtime/ir/types.js';
import type { OpDef } from '../../runtime/ops/op.js';
import { registry } from '../../runtime/ops/registry.js';
import { buildPlacedPlan, deviceRequests, explainPlacement, place } from '../../runtime/scheduler/placement.js';
import { Session } from '../../runtime/session.js';

const gpu = { maxBindingBytes: 1 << 30 };

function trainGraph(text?: string) {
  const model = text ? parseGraph(text, 'graphs/gender.yaml') : loadGraph('graphs/gender.yaml');
  const s = new Session(model, { device: 'cpu' });
  const t = s.trainGraph(1);
  const g = t.built.graph;
  const order = g.ancestors([t.loss, ...t.writebacks.map((w) => w.from)]);
  return { model, s, t, g, order };
}

describe('placement', () => {
  it('puts every node on the graph device, with the reason', () => {
    const { g, order } = trainGraph();
    const p = place(g, order, { device: 'webgpu', main: 'webgpu', gpu });
    expect(p.fallbacks).toEqual([]);
    expect(p.nodes.get('z1')).toEqual({ device: 'webgpu', why: 'graph device: webgpu', fallback: false });
    expect(p.nodes.get('w1')!.why).toBe('parameter, kept on webgpu');
  });

  it("follows a node's device: request, and sends its gradient nodes along", () => {
    const text = readGender().replace(
      '{name: h, op: sigmoid, inputs: [s1]}',
      '{name: h, op: sigmoid, inputs: [s1], device: cpu}',
    );
    const { g, order, model } = trainGraph(text);
    const requests = deviceRequests(model);
    expect(requests.get('h')).toMatchObject({ device: 'cpu', loc: { file: 'graphs/gender.yaml' } });
    const p = place(g, order, { device: 'webgpu', main: 'webgpu', requests, gpu });
    expect(p.nodes.get('h')!.device).toBe('cpu');
    expect(p.nodes.get('h')!.why).toMatch(/^node device: cpu \(graphs\/gender\.yaml:\d+:\d+\)$/);
    const hGrad = order.find((n) => g.node(n).grad?.from === 'h')!;
    expect(p.nodes.get(hGrad)).toMatchObject({ device: 'cpu', why: 'gradient of h, which asks for cpu' });
    expect(p.nodes.get('z1')!.device).toBe('webgpu');
    expect(p.fallbacks).toEqual([]);
  });

  it('falls back to the CPU for an op without a WGSL kernel, visibly; --strict-device makes it an error', () => {
    const { g, order } = trainGraph();
    const def = registry.sigmoid as OpDef;
    const saved = def.wgsl;
    delete def.wgsl;
    try {
      const p = place(g, order, { device: 'webgpu', main: 'webgpu', gpu });
      expect(p.fallbacks).toEqual(['h', 'o']);
      expect(p.nodes.get('h')).toEqual({
        device: 'cpu',
        why: 'fallback: op sigmoid has no WGSL kernel',
        fallback: true,
      });
      const table = explainPlacement(g, p, order);
      expect(table).toMatch(/^placement: graph device webgpu; \d+ on webgpu, 2 on cpu; 2 fallbacks;/);
      expect(table).toMatch(/^ {2}h +sigmoid +cpu +fallback: op sigmoid has no WGSL kernel$/m);
      let err: unknown;
      try {
        place(g, order, { device: 'webgpu', main: 'webgpu', gpu, strict: true });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DeviceError);
      expect(err).toMatchObject({ code: 'Fallback', nodeName: 'h' });
      expect((err as Error).message).toMatch(
        /"h" \(sigmoid\): op sigmoid has no WGSL kernel \(graphs\/gender\.yaml:\d+:\d+\)/,
      );
    } finally {
      def.wgsl = saved!;
    }
  });

  it('names a tensor larger than the device binds, and the limit, before anything runs', () => {
    const { g, order } = trainGraph();
    expect(() => place(g, order, { device: 'webgpu', main: 'webgpu', gpu: { maxBindingBytes: 4 } })).toThrow(
      /tensor "x" \[1, 2\] needs 8 bytes; the WebGPU device binds at most 4 \(maxStorageBufferBindingSize\)/,
    );
  });

  it('falls back for a kernel with more inputs than the device binds buffers', () => {
    const m = parseGraph(
      'inputs: {a: {shape: [2]}}\nnodes: [{name: c, op: concat, inputs: [a, a, a, a, a, a, a, a]}]\noutputs: [c]',
      'cat.yaml',
    );
    const s = new Session(m);
    const built = (
      s as unknown as { build(b: number, l: boolean): { graph: import('../../runtime/ir/graph.js').IRGraph } }
    ).build(1, false);
    const p = place(built.graph, built.graph.order, {
      device: 'webgpu',
      main: 'webgpu',
      gpu: { maxBindingBytes: 1 << 20, maxBuffers: 8 },
    });
    expect(p.nodes.get('c')!.why).toBe(
      'fallback: 8 inputs and an output: a WebGPU kernel binds at most 8 storage buffers',
    );
  });
});

describe('a training step split across two executors', () => {
  it('inserts the transfers and matches the single-executor step exactly', async () => {
    const text = readGender().replace(
      '{name: h, op: sigmoid, inputs: [s1]}',
      '{name: h, op: sigmoid, inputs: [s1], device: cpu}',
    );
    const { g, order, t, model } = trainGraph(text);
    const placement = place(g, order, { device: 'webgpu', main: 'webgpu', requests: deviceRequests(model), gpu });
    const main = new CpuExecutor({ fast: false }),
      other = new CpuExecutor({ fast: false });
    // "webgpu" is a second CPU executor: the plan only sees the Executor interface.
    const execs = { cpu: other as Executor<TypedArray>, webgpu: main as Executor<unknown> };
    const bound = new Map<string, unknown>(),
      single = new Map<string, TypedArray>();
    for (const p of model.params) {
      bound.set(
        p.name,
        Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => 0.1),
      );
      single.set(
        p.name,
        Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => 0.1),
      );
    }
    const mixed = buildPlacedPlan(g, placement, execs, { outputs: [t.loss], bound, writebacks: t.writebacks });
    expect(mixed.transfers.map((x) => `${x.value} ${x.from}->${x.to}`)).toContain('s1 webgpu->cpu');
    expect(mixed.transfers.some((x) => x.from === 'cpu' && x.to === 'webgpu')).toBe(true);
    const whole = buildPlacedPlan(
      g,
      place(g, order, { device: 'cpu', main: 'cpu', gpu: null }),
      { cpu: new CpuExecutor({ fast: false }) },
      { outputs: [t.loss], bound: single as Map<string, unknown>, writebacks: t.writebacks },
    );
    expect(whole.transfers).toEqual([]);
    const rows = [
      [-2, -1, 1],
      [25, 6, 0],
      [17, 4, 0],
      [-15, -6, 1],
    ];
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const [a, b, y] of rows) {
        for (const plan of [mixed, whole]) {
          (plan.buffer('x') as Float32Array).set([a!, b!]);
          (plan.buffer('y') as Float32Array).set([y!]);
          await plan.run();
        }
        expect((mixed.buffer(t.loss) as Float32Array)[0]).toBe((whole.buffer(t.loss) as Float32Array)[0]);
      }
    }
    for (const [name, buf] of single) expect(Array.from(bound.get(name) as Float32Array)).toEqual(Array.from(buf));
  });
});

describe('the kernel frame', () => {
  it('folds more than 65,535 workgroups into two dimensions, and guards the overshoot', () => {
    expect(splitGroups(65535)).toEqual([65535, 1, 1]);
    expect(splitGroups(65536)).toEqual([65535, 2, 1]);
    const map = frame({ kind: 'map', count: 65536 * 64 + 1, body: 'out[i] = in0[i];' }, ['f32'], 'f32');
    expect(map.dispatch).toEqual([65535, 2, 1]);
    expect(map.code).toContain(`if (i >= ${65536 * 64 + 1}u) { return; }`);
    const tiled = frame(
      { kind: 'tiled', grid: [2, 3, 20000], workgroupSize: [64, 1, 1], body: 'out[wid.x] = 1.0;' },
      [],
      'f32',
    );
    expect(tiled.dispatch).toEqual([65535, 2, 1]);
    expect(tiled.code).toContain('if (flat >= 120000u) { return; }');
    expect(tiled.code).toContain('let wid = vec3<u32>(flat % 2u, (flat / 2u) % 3u, flat / 6u);');
  });

  it('dispatches nothing for an empty tensor', () => {
    expect(frame({ kind: 'map', count: 0, body: '' }, ['f32'], 'f32').dispatch).toBeNull();
  });
});

function readGender(): string {
  return readFileSync('graphs/gender.yaml', 'utf8');
}
