// Many training steps in one WebGPU submission. While a chunk is open the executor holds its
// command encoder (webgpu.ts hold/flush): plan runs record into it instead of submitting. A
// queue write would land before the whole chunk, so fed values are staged on the host in a
// ring (the same host-side row gathering as a single step) and each step copies its own
// slice of the ring into its inputs; the ring is written once, just before the chunk is
// submitted. Values the loop must read (the logged losses and metrics) are copied into a log
// buffer as they are computed and read back with one map per chunk. The GPU therefore runs
// exactly the kernels of the per-step path on the same values; only how inputs arrive and how
// losses leave differ.

import type { DType, TypedArray } from '../ir/types.js';
import type { WebGpuExecutor } from '../executors/webgpu/webgpu.js';
import type { GpuBuffer } from '../executors/webgpu/handles.js';
import type { DeviceRun, FeedSink } from './device-runtime.js';

/** A value copied into a chunk's log buffer: filled once the chunk has been read back. */
export interface Kept {
  value: TypedArray | null;
}

/** A device buffer written or filled by 32-bit words from the start, with a fixed capacity. */
interface Arena {
  buf: GpuBuffer | null;
  /** Capacity and use, in 32-bit words. */
  cap: number;
  used: number;
}

/** Default ring capacity (words): 4 MiB of staged inputs per chunk before it is submitted early. */
const RING_WORDS = 1 << 20;
/** Default log capacity (words). */
const LOG_WORDS = 1 << 16;

export class StepChunks {
  private readonly ring: Arena = { buf: null, cap: 0, used: 0 };
  private readonly log: Arena = { buf: null, cap: 0, used: 0 };
  /** The host copy of the ring's words for the open chunk. */
  private staged = new Uint32Array(0);
  /** Values kept in the open chunk: where in the log, how long, as which dtype. */
  private kept: { slot: Kept; at: number; length: number; dtype: DType }[] = [];
  /** Chunks submitted whose log has not been read back yet, oldest first. */
  private readonly inflight: Promise<void>[] = [];
  private open = false;
  /** Steps recorded into the open chunk. */
  steps = 0;

  constructor(private readonly gpu: WebGpuExecutor) {}

  /** Stage values for an input of the next run: copied from the ring, in order with the runs recorded. */
  readonly feed: FeedSink = (buf, values) => {
    const n = values.length;
    if (n === 0) return;
    const at = this.reserve(this.ring, n, RING_WORDS);
    if (this.staged.length < this.ring.cap) {
      const grown = new Uint32Array(this.ring.cap);
      grown.set(this.staged.subarray(0, at));
      this.staged = grown;
    }
    // WebGPU buffers hold f32 or i32: the words themselves (f64 never reaches a GPU input).
    this.staged.set(new Uint32Array(values.buffer, values.byteOffset, n), at);
    this.gpu.copyRange(this.ring.buf!, at, buf as GpuBuffer, 0, n);
  };

  /** Run a plan into the open chunk. */
  begin(): void {
    if (!this.open) this.gpu.hold();
    this.open = true;
  }

  /** Keep value `name` of the run just recorded: copied into the log now, read with its chunk. */
  keep(run: DeviceRun, name: string): Kept {
    const t = run.graph.node(name).type;
    const length = t.shape.reduce((a, b) => a * b, 1);
    const slot: Kept = { value: null };
    const at = this.reserve(this.log, length, LOG_WORDS);
    this.gpu.copyRange(run.plan.buffer(name) as GpuBuffer, 0, this.log.buf!, at, length);
    this.kept.push({ slot, at, length, dtype: t.dtype });
    return slot;
  }

  /**
   * Submit the open chunk: the ring's words first (queue order puts them before the chunk's
   * copies), then the recorded work; its log is read back without waiting (settle() waits).
   */
  submit(): void {
    if (!this.open) return;
    if (this.ring.used) this.gpu.writeWords(this.ring.buf!, 0, this.staged, this.ring.used);
    this.gpu.flush();
    this.open = false;
    this.steps = 0;
    this.ring.used = 0;
    const kept = this.kept;
    const used = this.log.used;
    this.kept = [];
    this.log.used = 0;
    // A chunk with nothing to read is still waited for (settle), so the host never runs more
    // than a chunk or two ahead of the GPU.
    if (!kept.length) {
      const done = this.gpu.finish();
      done.catch(() => {});
      this.inflight.push(done);
      return;
    }
    // The read's own submission follows this chunk's and precedes the next chunk's, so the log
    // buffer can be reused at once.
    const read = this.gpu.read(this.log.buf!, 'i32', used).then((words) => {
      for (const k of kept) {
        const w = words.subarray(k.at, k.at + k.length);
        k.slot.value = k.dtype === 'i32' ? w : new Float32Array(w.buffer, w.byteOffset, k.length);
      }
    });
    // Awaited by settle(); a chunk abandoned after an error must not be an unhandled rejection.
    read.catch(() => {});
    this.inflight.push(read);
  }

  /** Wait until at most `depth` submitted chunks are still being read back (their kept values filled). */
  async settle(depth = 0): Promise<void> {
    while (this.inflight.length > depth) await this.inflight.shift();
  }

  /** Submit what was recorded (after an error: the steps before it ran, as one by one) and free the ring and the log. */
  dispose(): void {
    this.submit();
    for (const a of [this.ring, this.log]) {
      if (a.buf) this.gpu.free(a.buf);
      a.buf = null;
    }
  }

  /**
   * Room for `n` words in `a`: submits the open chunk first when it is full (the next words
   * start a new one), and grows the buffer when `n` alone exceeds it. Returns the offset.
   */
  private reserve(a: Arena, n: number, min: number): number {
    if (a.used + n > a.cap && a.used > 0) {
      this.submit();
      this.begin();
    }
    if (n > a.cap || !a.buf) {
      // Buffers still read by submitted work are freed once that work is done (WebGPU's destroy).
      if (a.buf) this.gpu.free(a.buf);
      a.cap = Math.max(min, n);
      a.buf = this.gpu.allocate('i32', a.cap);
    }
    const at = a.used;
    a.used += n;
    return at;
  }
}
