// The WebGPU executor: GPUBuffers and the ops' WGSL kernels. A plan run records every kernel
// into one command encoder (one compute pass, broken only for buffer copies) and submits it
// once in end(); nothing is read back unless asked. Between hold() and flush() plan runs keep
// recording into the same encoder, so many training steps go to the GPU in one submission
// (session/step-chunks.ts). Pipelines are cached keyed by their WGSL text, so a changed
// generator can never hit a stale entry. f32 and i32 only: WGSL has no f64.
// Plans fuse elementwise chains and matmul bias/ReLU epilogues into single kernels (fused.ts).

import { getOp } from '../../ops/registry.js';
import type { DType, IRNode, TensorType, TypedArray } from '../../ir/types.js';
import type { FusedGroup, FusingExecutor } from '../../ir/fusion.js';
import type { WgslKernel } from '../../ops/op.js';
import { DeviceError, type Executor } from '../executor.js';
import { epilogueOnGpu, epilogueWgsl, fusedWgsl, fusibleOnGpu, memberByMember } from './fused.js';
import { epiloguesByDefault, fusionByDefault, scalar, stepsFromEnv } from './settings.js';
import { acquireDevice } from './device.js';
import type { DeviceOptions, GpuBuffer, GpuDeviceLostInfo } from './handles.js';
import { frame } from './wgsl.js';

// GPUBufferUsage / GPUMapMode values (WebGPU spec); the Node binding defines the named
// constants only as globals, which this module does not install.
const USAGE_MAP_READ = 0x0001,
  USAGE_COPY_SRC = 0x0004,
  USAGE_COPY_DST = 0x0008,
  USAGE_STORAGE = 0x0080;
const MAP_READ = 0x0001;

/** A buffer this executor allocated, as WebGPU types it (public signatures say GpuBuffer, handles.ts). */
const gpuBuffer = (b: GpuBuffer): GPUBuffer => b as GPUBuffer;

export interface WebGpuLimits {
  /** Largest tensor, in bytes, one kernel may bind. */
  maxBindingBytes: number;
  maxBufferBytes: number;
  /** Storage buffers one kernel may bind: its inputs and its output. */
  maxBuffers: number;
}

export class WebGpuExecutor implements Executor<GpuBuffer>, FusingExecutor<GpuBuffer> {
  readonly kind = 'webgpu' as const;
  /** A reshape is its input's buffer under another shape: plans give it no buffer and no copy. */
  readonly reshapeShares = true;
  readonly limits: WebGpuLimits;
  /**
   * Training steps recorded into one submission when the loop can defer its reads
   * (session/step-chunks.ts); 1 submits every step on its own, as plain plan runs do.
   * Default 256, or GRAPH_RUN_GPU_STEPS.
   */
  stepsPerSubmit = stepsFromEnv() ?? 256;
  /** Command buffers submitted so far (plan runs, reads, held chunks): what chunking saves is visible here. */
  submits = 0;
  private held = false;
  /** Plans built from now on finish matmuls with their bias and ReLU in the kernel (GRAPH_RUN_EPILOGUE=0: not). */
  epilogues = epiloguesByDefault();
  /** Plans built from now on fuse elementwise chains into one kernel (GRAPH_RUN_FUSE=0: not). */
  fusion = fusionByDefault();
  /** Kernel dispatches recorded so far: the host's encoding work and the GPU's launches. */
  dispatches = 0;
  /** Scratch buffers of multi-pass kernels by size: the passes of one kernel run back to back, so kernels share. */
  private readonly scratch = new Map<number, GPUBuffer>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = false;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  private readonly dtypes = new WeakMap<GpuBuffer, DType>();
  private readonly pending: Promise<void>[] = [];
  private failure: Error | null = null;
  private lostInfo: GpuDeviceLostInfo | null = null;
  private disposed = false;

  private constructor(
    private readonly device: GPUDevice,
    readonly description: string,
    private readonly release: () => void,
  ) {
    this.limits = {
      maxBindingBytes: device.limits.maxStorageBufferBindingSize,
      maxBufferBytes: device.limits.maxBufferSize,
      maxBuffers: device.limits.maxStorageBuffersPerShaderStage,
    };
    void device.lost.then((info) => {
      if (!this.disposed) this.lostInfo = info;
    });
    device.onuncapturederror = (e: GPUUncapturedErrorEvent) => {
      this.failure ??= new DeviceError('KernelError', `WebGPU error: ${e.error.message}`);
    };
  }

  /**
   * Acquire a device (Node: the `webgpu` package; browser: navigator.gpu). Throws DeviceError.
   * @example const gpu = await WebGpuExecutor.create(); ...; gpu.dispose();
   */
  static async create(opts: DeviceOptions = {}): Promise<WebGpuExecutor> {
    const d = await acquireDevice(opts);
    return new WebGpuExecutor(d.device, d.description, d.release);
  }

  /** Set when the device was lost (driver reset, GPU removed); null while it is healthy. */
  get lost(): GpuDeviceLostInfo | null {
    return this.lostInfo;
  }

  allocate(dtype: DType, length: number): GpuBuffer {
    if (dtype === 'f64') throw new DeviceError('KernelError', 'WebGPU buffers hold f32 or i32; WGSL has no f64');
    const size = Math.max(4, length * 4);
    const buf = this.device.createBuffer({ size, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST });
    this.dtypes.set(buf, dtype);
    return buf;
  }

  write(buf: GpuBuffer, data: ArrayLike<number>): void {
    const dtype = this.dtypes.get(buf) ?? 'f32';
    const want = dtype === 'i32' ? Int32Array : Float32Array;
    let arr = data instanceof want ? data : want.from(data as ArrayLike<number>);
    if (arr.length === 0) return;
    // The fast CPU tier keeps tensors in shared WebAssembly memory; queue writes take unshared memory.
    if (typeof SharedArrayBuffer !== 'undefined' && arr.buffer instanceof SharedArrayBuffer) arr = arr.slice();
    this.device.queue.writeBuffer(gpuBuffer(buf), 0, arr.buffer, arr.byteOffset, arr.byteLength);
  }

  async read(buf: GpuBuffer, dtype: DType, length: number): Promise<TypedArray> {
    this.check();
    const bytes = length * 4;
    const out = dtype === 'i32' ? new Int32Array(length) : new Float32Array(length);
    if (length === 0) return out;
    const staging = this.device.createBuffer({ size: bytes, usage: USAGE_MAP_READ | USAGE_COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(gpuBuffer(buf), 0, staging, 0, bytes);
    this.submit(enc);
    try {
      await staging.mapAsync(MAP_READ);
    } catch (e) {
      this.check();
      throw new DeviceError('DeviceLost', `reading from the GPU failed: ${(e as Error).message}`);
    }
    out.set(new (dtype === 'i32' ? Int32Array : Float32Array)(staging.getMappedRange(0, bytes)));
    staging.unmap();
    staging.destroy();
    this.check();
    return out;
  }

  prepare(node: IRNode, inputs: GpuBuffer[], output: GpuBuffer, inTypes: TensorType[]): () => void {
    const def = getOp(node.op);
    if (!def?.wgsl)
      throw new DeviceError(
        'KernelError',
        `op ${node.op} has no WGSL kernel`,
        'the scheduler places such nodes on the CPU',
        node.name,
      );
    const kernel = def.wgsl({ inTypes, outType: node.type, attrs: node.attrs });
    return this.prepareKernel(node, kernel, inputs, inTypes, output);
  }

  fusible(node: IRNode): boolean {
    return this.fusion && fusibleOnGpu(node);
  }

  prepareFused(group: FusedGroup, inputs: GpuBuffer[], inTypes: TensorType[], output: GpuBuffer): () => void {
    // More inputs than a kernel may bind: the members one by one, through buffers of their own.
    if (inputs.length >= this.limits.maxBuffers) return memberByMember(this, group, inputs, inTypes, output);
    return this.prepareKernel(group.nodes.at(-1)!, fusedWgsl(group, inTypes), inputs, inTypes, output);
  }

  epilogue(_mm: IRNode, inTypes: TensorType[]): boolean {
    return this.epilogues && epilogueOnGpu(inTypes);
  }

  prepareEpilogue(
    mm: IRNode,
    inputs: GpuBuffer[],
    inTypes: TensorType[],
    bias: GpuBuffer,
    relu: boolean,
    output: GpuBuffer,
  ): () => void {
    const types = [...inTypes, { shape: [mm.type.shape.at(-1)!], dtype: 'f32' as const }];
    return this.prepareKernel(mm, epilogueWgsl(mm, inTypes, relu), [...inputs, bias], types, output);
  }

  /** Compile (or reuse) a kernel's pipelines and bind its buffers; `node` names it in errors. */
  private prepareKernel(
    node: IRNode,
    kernel: WgslKernel,
    inputs: GpuBuffer[],
    inTypes: TensorType[],
    output: GpuBuffer,
  ): () => void {
    const passes = kernel.kind === 'passes' ? kernel.passes : [kernel];
    const scratch = kernel.kind === 'passes' ? this.scratchBuffer(kernel.scratch) : null;
    const ins = inTypes.map((t) => scalar(t.dtype, node));
    const buffers = [...inputs, output, ...(scratch ? [scratch] : [])];
    const steps: [GPUComputePipeline, GPUBindGroup, [number, number, number]][] = [];
    // One error scope over compilation and binding: its first error (with the WGSL position)
    // is reported against this node by ready() and the next read.
    this.device.pushErrorScope('validation');
    for (const pass of passes) {
      const shader = frame(pass, ins, scalar(node.type.dtype, node), scratch !== null);
      if (!shader.dispatch) continue;
      const writable = scratch ? 2 : 1;
      const layout = this.layout(inputs.length, writable);
      const pipeline = this.pipeline(shader.code, inputs.length, writable);
      const bindGroup = this.device.createBindGroup({
        layout: layout.group,
        entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer: gpuBuffer(buffer) } })),
      });
      steps.push([pipeline, bindGroup, shader.dispatch]);
    }
    this.pending.push(
      this.device.popErrorScope().then((e) => {
        if (e)
          this.failure ??= new DeviceError(
            'KernelError',
            `the WGSL kernel of node "${node.name}" (${node.op}) is invalid: ${e.message}`,
            'this is a bug in graph-run; --device cpu avoids it',
            node.name,
          );
      }),
    );
    if (steps.length === 0) return () => {};
    return () => {
      const pass = this.computePass();
      this.dispatches += steps.length;
      for (const [pipeline, bindGroup, [x, y, z]] of steps) {
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        pass.dispatchWorkgroups(x, y, z);
      }
    };
  }

  private scratchBuffer(floats: number): GPUBuffer {
    const size = Math.max(4, floats * 4);
    let b = this.scratch.get(size);
    if (!b) {
      b = this.device.createBuffer({ size, usage: USAGE_STORAGE });
      this.scratch.set(size, b);
    }
    return b;
  }

  copy(src: GpuBuffer, dst: GpuBuffer, length: number): () => void {
    if (length === 0) return () => {};
    return () => {
      this.endPass();
      this.openEncoder().copyBufferToBuffer(gpuBuffer(src), 0, gpuBuffer(dst), 0, length * 4);
      this.recorded = true;
    };
  }

  begin(): void {
    this.openEncoder();
  }

  end(): void {
    this.endPass();
    if (this.held) return;
    if (this.encoder && this.recorded) this.submit(this.encoder);
    this.encoder = null;
    this.recorded = false;
  }

  /**
   * Until flush(), plan runs (end()) keep recording into one encoder instead of submitting.
   * Queue writes land before the whole held work, so inputs must come by recorded copies
   * (copyRange) from buffers written before the flush.
   */
  hold(): void {
    this.held = true;
  }

  /** Submit what was recorded since hold(), and end holding. */
  flush(): void {
    this.held = false;
    this.end();
  }

  /** Record a copy of `length` elements now, in order with the plan runs recorded so far (offsets in elements). */
  copyRange(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, length: number): void {
    if (length === 0) return;
    this.endPass();
    this.openEncoder().copyBufferToBuffer(gpuBuffer(src), srcOffset * 4, gpuBuffer(dst), dstOffset * 4, length * 4);
    this.recorded = true;
  }

  /** Write raw 32-bit words at element `offset` (queue order: before any later submission). */
  writeWords(buf: GpuBuffer, offset: number, words: Uint32Array, length: number): void {
    if (length > 0)
      this.device.queue.writeBuffer(gpuBuffer(buf), offset * 4, words.buffer, words.byteOffset, length * 4);
  }

  /** Free a buffer this executor allocated. */
  free(buf: GpuBuffer): void {
    gpuBuffer(buf).destroy();
  }

  /** Resolves once the GPU has finished everything submitted so far (for timing). */
  async finish(): Promise<void> {
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Waits for shader compilation results; throws the first kernel or validation error. */
  async ready(): Promise<void> {
    await Promise.all(this.pending.splice(0));
    this.check();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pipelines.clear();
    this.layouts.clear();
    for (const b of this.scratch.values()) b.destroy();
    this.scratch.clear();
    // Explicit destroy: otherwise the Dawn binding may keep Node alive or crash at exit.
    this.device.destroy();
    this.release();
  }

  /** Throws a lost device (for good) or the first error since the last check (once). */
  private check(): void {
    if (this.lostInfo) {
      throw new DeviceError(
        'DeviceLost',
        `the GPU device was lost: ${this.lostInfo.message || this.lostInfo.reason}`,
        'rerun; if it recurs, check the driver or use --device cpu',
      );
    }
    const f = this.failure;
    this.failure = null;
    if (f) throw f;
  }

  private submit(enc: GPUCommandEncoder): void {
    this.submits++;
    this.device.queue.submit([enc.finish()]);
  }

  private openEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private computePass(): GPUComputePassEncoder {
    this.recorded = true;
    return (this.pass ??= this.openEncoder().beginComputePass());
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Explicit layouts (not 'auto'): a binding the kernel leaves unused must still be accepted. */
  private layout(inputs: number, writable = 1): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    const key = `${inputs}:${writable}`;
    let l = this.layouts.get(key);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let i = 0; i < inputs + writable; i++) {
        entries.push({
          binding: i,
          visibility: 4 /* GPUShaderStage.COMPUTE */,
          buffer: { type: i < inputs ? 'read-only-storage' : 'storage' },
        });
      }
      const group = this.device.createBindGroupLayout({ entries });
      l = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(key, l);
    }
    return l;
  }

  private pipeline(code: string, inputs: number, writable: number): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (!p) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({
        layout: this.layout(inputs, writable).pipeline,
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(code, p);
    }
    return p;
  }
}
