// The WebGPU executor: GPUBuffers and the ops' WGSL kernels. A plan run records every kernel
// into one command encoder (one compute pass, broken only for buffer copies) and submits it
// once in end(); nothing is read back unless asked. Between hold() and flush() plan runs keep
// recording into the same encoder, so many training steps go to the GPU in one submission
// (session/step-chunks.ts). Pipelines are cached keyed by their WGSL text, so a changed
// generator can never hit a stale entry. f32 and i32 only: WGSL has no f64.

import { getOp } from '../../ops/registry.js';
import type { DType, IRNode, TensorType, TypedArray } from '../../ir/types.js';
import { DeviceError, type Executor } from '../executor.js';
import { acquireDevice } from './device.js';
import type { DeviceOptions, GpuBuffer, GpuDeviceLostInfo } from './handles.js';
import { frame, type WgslScalar } from './wgsl.js';

// GPUBufferUsage / GPUMapMode values (WebGPU spec); the Node binding defines the named
// constants only as globals, which this module does not install.
const USAGE_MAP_READ = 0x0001,
  USAGE_COPY_SRC = 0x0004,
  USAGE_COPY_DST = 0x0008,
  USAGE_STORAGE = 0x0080;
const MAP_READ = 0x0001;

/** GRAPH_RUN_GPU_STEPS, where the environment has one (Node): training steps per submission. */
function stepsFromEnv(): number | undefined {
  const v = typeof process === 'undefined' ? undefined : process.env?.GRAPH_RUN_GPU_STEPS;
  const n = v === undefined || v === '' ? NaN : Number(v);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** A buffer this executor allocated, as WebGPU types it (public signatures say GpuBuffer, handles.ts). */
const gpuBuffer = (b: GpuBuffer): GPUBuffer => b as GPUBuffer;

export interface WebGpuLimits {
  /** Largest tensor, in bytes, one kernel may bind. */
  maxBindingBytes: number;
  maxBufferBytes: number;
  /** Storage buffers one kernel may bind: its inputs and its output. */
  maxBuffers: number;
}

export class WebGpuExecutor implements Executor<GpuBuffer> {
  readonly kind = 'webgpu' as const;
  readonly limits: WebGpuLimits;
  /**
   * Training steps recorded into one submission when the loop can defer its reads
   * (session/step-chunks.ts); 1 submits every step on its own, as plain plan runs do.
   * Default 256, or GRAPH_RUN_GPU_STEPS.
   */
  stepsPerSubmit = stepsFromEnv() ?? 256;
  /** Command buffers submitted so far (plan runs, reads, held chunks): what chunking saves is visible here. */
  submits = 0;
  /** Kernel dispatches recorded so far: the host's encoding work and the GPU's launches. */
  dispatches = 0;
  private held = false;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = false;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<number, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
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
    const shader = frame(
      kernel,
      inTypes.map((t) => scalar(t.dtype, node)),
      scalar(node.type.dtype, node),
    );
    const groups = shader.dispatch;
    if (!groups) return () => {};
    // One error scope over compilation and binding: its first error (with the WGSL position)
    // is reported against this node by ready() and the next read.
    this.device.pushErrorScope('validation');
    const pipeline = this.pipeline(shader.code, inputs.length);
    const bindGroup = this.device.createBindGroup({
      layout: this.layout(inputs.length).group,
      entries: [...inputs, output].map((buffer, binding) => ({ binding, resource: { buffer: gpuBuffer(buffer) } })),
    });
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
    const [x, y, z] = groups;
    return () => {
      const pass = this.computePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
      this.dispatches++;
    };
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
  private layout(inputs: number): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    let l = this.layouts.get(inputs);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [];
      for (let i = 0; i <= inputs; i++) {
        entries.push({
          binding: i,
          visibility: 4 /* GPUShaderStage.COMPUTE */,
          buffer: { type: i < inputs ? 'read-only-storage' : 'storage' },
        });
      }
      const group = this.device.createBindGroupLayout({ entries });
      l = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(inputs, l);
    }
    return l;
  }

  private pipeline(code: string, inputs: number): GPUComputePipeline {
    let p = this.pipelines.get(code);
    if (!p) {
      const module = this.device.createShaderModule({ code });
      p = this.device.createComputePipeline({
        layout: this.layout(inputs).pipeline,
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(code, p);
    }
    return p;
  }
}

function scalar(d: DType, node: IRNode): WgslScalar {
  if (d === 'f64')
    throw new DeviceError(
      'KernelError',
      `node "${node.name}" is f64, which WGSL lacks`,
      'the scheduler places f64 nodes on the CPU',
      node.name,
    );
  return d;
}
