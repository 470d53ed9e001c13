// The CPU executor's kernel runtime: one process-wide set of WebAssembly kernels over the
// shared arena (arena.ts), run on the calling thread plus helper worker threads (one per
// extra core). A parallel call is cut into chunks that every thread takes from one atomic
// counter, so a helper that wakes late (a busy machine) only takes fewer chunks; results do
// not depend on who ran which chunk. Process-wide like a BLAS thread pool: kernels and
// workers are created once, lazily, on the first large matrix product.
//
// Settings (environment): GRAPH_RUN_THREADS=n caps the threads (1: no workers);
// GRAPH_RUN_FAST=0 turns the fast kernels off (the plain TypeScript kernels run instead);
// GRAPH_RUN_EPILOGUE=0 runs a matmul's bias and ReLU as a pass of their own (to compare).

import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { Arena } from './arena.js';
import { Module } from './wasm/asm.js';
import {
  defaultBlocking,
  emitGemm,
  emitGemmDriver,
  gemmKc,
  gemmScratch,
  preferredGemmShape,
  type GemmShape,
} from './wasm/gemm.js';

// Control block (Int32 slots of a SharedArrayBuffer).
const SEQ = 0; // task number, bumped to wake the helpers
const NEXT = 1; // (task << 16) | next chunk index
const DONE = 2; // chunks finished
const READY = 3; // helpers started
const P = 8; // task: P type (1 gemm, 2 map), P+1 chunks, P+2 chunk size, then the type's fields
const SLOTS = 40;
const MAX_PTRS = SLOTS - P - 8;
const TASK_BITS = 0x7fff;
/** Polls of a flag before sleeping on it: ~10-50 µs, so back-to-back kernels skip the futex. */
const SPIN = 20000;

/** One gemm task: C[m×n] = op(A)·op(B), cut along n or m into chunks. */
interface GemmTask {
  m: number;
  n: number;
  k: number;
  a: number;
  rsa: number;
  csa: number;
  b: number;
  rsb: number;
  csb: number;
  c: number;
  ldc: number;
  /** Epilogue (wasm/gemm-tile.ts): the bias row (padded to whole tiles) and flags; 0: none. */
  bias?: number;
  flags?: number;
}

/** The module's gemm (wasm/gemm.ts): m, n, k, a, rsa, csa, b, rsb, csb, c, ldc, ap, bp, tile, kc, bias, flags. */
type GemmFn = (...args: number[]) => void;
type MapFn = (...ptrsInnerLoHi: number[]) => void;
/** A map kernel with its pointers and `inner` bound: run(lo, hi). */
export type BoundMap = (lo: number, hi: number) => void;

// Run chunk j of the task in the control block: the same text runs on the calling thread
// (compiled below) and in the helpers, so the two cannot drift apart.
const chunkSource = `
  const size = c[${P} + 2];
  if (c[${P}] === 1) {
    const m = c[${P} + 3], n = c[${P} + 4], along = c[${P} + 14];
    const lo = j * size, hi = Math.min(lo + size, along ? n : m);
    if (along) gemm(m, hi - lo, c[${P} + 5], c[${P} + 6], c[${P} + 7], c[${P} + 8], c[${P} + 9] + lo * c[${P} + 11], c[${P} + 10], c[${P} + 11], c[${P} + 12] + lo * 4, c[${P} + 13], ap, bp, tile, c[${P} + 15], c[${P} + 16] + lo * 4, c[${P} + 17]);
    else gemm(hi - lo, n, c[${P} + 5], c[${P} + 6] + lo * c[${P} + 7], c[${P} + 7], c[${P} + 8], c[${P} + 9], c[${P} + 10], c[${P} + 11], c[${P} + 12] + lo * c[${P} + 13], c[${P} + 13], ap, bp, tile, c[${P} + 15], c[${P} + 16], c[${P} + 17]);
  } else {
    const id = c[${P} + 3];
    while (maps.length <= id) { const msg = receive(); if (msg) maps.push(msg); }
    const lo = c[${P} + 4] + j * size, hi = Math.min(lo + size, c[${P} + 5]);
    const k = c[${P} + 7], args = [];
    for (let q = 0; q < k; q++) args.push(c[${P} + 8 + q]);
    args.push(c[${P} + 6], lo, hi);
    maps[id](...args);
  }
`;

// The helper's code, run with eval (so it needs no file next to the compiled one, and works
// the same from source under tsx/vitest).
const workerSource = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, module, ctrl, scratch, port } = workerData;
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
const c = new Int32Array(ctrl);
const [ap, bp, tile] = scratch;
const maps = [];
const receive = () => {
  const m = receiveMessageOnPort(port);
  return m && new WebAssembly.Instance(m.message, { env: { memory } }).exports.run;
};
Atomics.add(c, ${READY}, 1);
let seen = Atomics.load(c, ${SEQ});
for (;;) {
  let s, spins = 0;
  while ((s = Atomics.load(c, ${SEQ})) === seen) {
    if (++spins > ${SPIN}) { Atomics.wait(c, ${SEQ}, seen); spins = 0; }
  }
  seen = s;
  const t = s & ${TASK_BITS};
  for (;;) {
    const v = Atomics.load(c, ${NEXT});
    if ((v >>> 16) !== t) break;
    const j = v & 0xffff;
    if (j >= c[${P} + 1]) break;
    if (Atomics.compareExchange(c, ${NEXT}, v, v + 1) !== v) continue;
    ${chunkSource}
    Atomics.add(c, ${DONE}, 1);
    Atomics.notify(c, ${DONE});
  }
}
`;

type ChunkFn = (
  c: Int32Array,
  j: number,
  gemm: GemmFn,
  ap: number,
  bp: number,
  tile: number,
  maps: MapFn[],
  receive: () => MapFn | undefined,
) => void;
const runChunk = new Function('c', 'j', 'gemm', 'ap', 'bp', 'tile', 'maps', 'receive', chunkSource) as ChunkFn;

export class Kernels {
  readonly arena = new Arena();
  private readonly gemmFn: GemmFn;
  private readonly module: WebAssembly.Module;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly scratch: [number, number, number];
  private workers: { worker: Worker; port: MessagePort }[] = [];
  private readonly maps: MapFn[] = [];
  private readonly mapModules: WebAssembly.Module[] = [];
  private readonly mapIds = new Map<string, number>();
  private task = 0;
  /** Threads a call may use (≤ threads): the benchmark compares 1 and 2 in one process. */
  active: number;
  /** Plans finish matmuls with their bias and ReLU in the gemm (GRAPH_RUN_EPILOGUE=0: not). */
  epilogue = process.env.GRAPH_RUN_EPILOGUE !== '0';

  constructor(
    readonly threads: number,
    /** The micro-kernel's tile (and whether it fuses multiply-add): the benchmark compares both. */
    readonly shape: GemmShape = preferredGemmShape(),
  ) {
    this.active = threads;
    const mod = new Module();
    emitGemm(mod, shape);
    emitGemmDriver(mod, defaultBlocking);
    this.module = new WebAssembly.Module(mod.bytes({ initial: 1, maximum: this.arena.maxPages }));
    const ex = new WebAssembly.Instance(this.module, { env: { memory: this.arena.memory } }).exports;
    this.gemmFn = ex.gemm as GemmFn;
    this.scratch = this.newScratch();
  }

  private newScratch(): [number, number, number] {
    const s = gemmScratch(this.shape, defaultBlocking);
    return [this.arena.scratch(s.ap * 4), this.arena.scratch(s.bp * 4), this.arena.scratch(s.tile * 4)];
  }

  /** Start the helpers (asynchronously: until they are up, the calling thread does all chunks). */
  private startWorkers(): void {
    if (this.workers.length || this.threads < 2) return;
    for (let i = 1; i < this.threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(workerSource, {
        eval: true,
        workerData: {
          memory: this.arena.memory,
          module: this.module,
          ctrl: this.ctrl.buffer,
          scratch: this.newScratch(),
          port: port2,
        },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      // Element-wise modules compiled before the helper started.
      for (const m of this.mapModules) port1.postMessage(m);
      this.workers.push({ worker, port: port1 });
    }
  }

  /**
   * Whether to split the next call. On a machine busier than its cores a helper can be
   * descheduled while it holds a chunk, and the calling thread then waits for it: after a few
   * calls in a row where the wait exceeded half the caller's own work, calls run on the caller
   * alone for a while (64 calls), then splitting is tried again.
   */
  private splitting(): boolean {
    if (this.active < 2) return false;
    if (this.backoff > 0) {
      this.backoff--;
      return false;
    }
    return true;
  }
  private strikes = 0;
  private backoff = 0;
  /** Calls split and calls kept on the caller by the back-off (for the benchmark's report). */
  readonly stats = { split: 0, backedOff: 0 };

  /** Post a task and take chunks until all are done. */
  private parallel(chunks: number): void {
    const c = this.ctrl;
    c[P + 1] = chunks;
    this.task = (this.task + 1) & TASK_BITS;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, NEXT, this.task << 16);
    Atomics.store(c, SEQ, this.task);
    Atomics.notify(c, SEQ);
    const [ap, bp, tile] = this.scratch;
    const task = this.task;
    const t0 = performance.now();
    for (;;) {
      const v = Atomics.load(c, NEXT);
      if (v >>> 16 !== task) break;
      const j = v & 0xffff;
      if (j >= chunks) break;
      if (Atomics.compareExchange(c, NEXT, v, v + 1) !== v) continue;
      runChunk(c, j, this.gemmFn, ap, bp, tile, this.maps, () => undefined);
      Atomics.add(c, DONE, 1);
    }
    const t1 = performance.now();
    let spins = 0,
      d: number;
    while ((d = Atomics.load(c, DONE)) < chunks) {
      if (++spins > SPIN) {
        Atomics.wait(c, DONE, d, 1);
        spins = 0;
      }
    }
    const waited = performance.now() - t1;
    this.stats.split++;
    if (waited > 0.5 * (t1 - t0) + 0.02) {
      if (++this.strikes >= 3) {
        this.strikes = 0;
        this.backoff = 64;
      }
    } else this.strikes = 0;
  }

  /**
   * C = op(A)·op(B) over arena addresses (bytes): (i, p) of op(A) at a + i*rsa + p*csa, (p, j)
   * of op(B) at b + p*rsb + j*csb, C row-major with row stride ldc. k = 0 leaves C to the caller.
   */
  gemm(t: GemmTask): void {
    const { m, n, k } = t;
    if (m === 0 || n === 0 || k === 0) return;
    // Below ~8M multiply-adds (~0.2 ms on one core) waking a helper and repacking for it cost
    // more than they save on a machine whose other core is often busy (measured: 128³ ran
    // slower split than on one thread).
    if (m * n * k < 1 << 23 || !this.splitting()) {
      this.gemmFn(
        m,
        n,
        k,
        t.a,
        t.rsa,
        t.csa,
        t.b,
        t.rsb,
        t.csb,
        t.c,
        t.ldc,
        this.scratch[0],
        this.scratch[1],
        this.scratch[2],
        gemmKc(k),
        t.bias ?? 0,
        t.flags ?? 0,
      );
      return;
    }
    this.startWorkers();
    // Cut the longer side into chunks of whole register tiles: each chunk repacks the whole of
    // the other operand (A when cutting along n), so chunks are few — one per thread, up to 4
    // per thread for large products (load balance on a busy machine), ≥ ~8M multiply-adds each.
    const alongN = n >= m;
    const len = alongN ? n : m,
      unit = alongN ? this.shape.nr : this.shape.mr;
    const perThread = Math.max(1, Math.min(4, Math.floor((m * n * k) / (this.active * (1 << 23)))));
    const size = Math.max(unit, Math.ceil(len / (perThread * this.active) / unit) * unit);
    const c = this.ctrl;
    c[P] = 1;
    c[P + 2] = size;
    c[P + 3] = m;
    c[P + 4] = n;
    c[P + 5] = k;
    c[P + 6] = t.a;
    c[P + 7] = t.rsa;
    c[P + 8] = t.csa;
    c[P + 9] = t.b;
    c[P + 10] = t.rsb;
    c[P + 11] = t.csb;
    c[P + 12] = t.c;
    c[P + 13] = t.ldc;
    c[P + 14] = alongN ? 1 : 0;
    c[P + 15] = gemmKc(k);
    c[P + 16] = t.bias ?? 0;
    c[P + 17] = t.flags ?? 0;
    this.parallel(Math.ceil(len / size));
  }

  /** Compile (once per key) an element-wise module exporting run(...ptrs, inner, lo, hi). */
  mapKernel(key: string, bytes: () => Uint8Array<ArrayBuffer>): number {
    let id = this.mapIds.get(key);
    if (id === undefined) {
      const m = new WebAssembly.Module(bytes());
      id = this.maps.length;
      this.maps.push(new WebAssembly.Instance(m, { env: { memory: this.arena.memory } }).exports.run as MapFn);
      this.mapModules.push(m);
      this.mapIds.set(key, id);
      for (const w of this.workers) w.port.postMessage(m);
    }
    return id;
  }

  /**
   * Run map kernel `id` over units [lo, hi) (elements, multiples of 4, or rows of `inner`),
   * split across threads when there are more than `perChunk` units.
   */
  map(
    id: number,
    bound: BoundMap,
    lo: number,
    hi: number,
    inner: number,
    ptrs: number[],
    perChunk: number,
    align: number,
  ): void {
    const total = hi - lo;
    if (total <= perChunk || ptrs.length > MAX_PTRS || !this.splitting()) {
      bound(lo, hi);
      return;
    }
    this.startWorkers();
    const size = Math.ceil(Math.max(perChunk, total / (4 * this.active)) / align) * align;
    const c = this.ctrl;
    c[P] = 2;
    c[P + 2] = size;
    c[P + 3] = id;
    c[P + 4] = lo;
    c[P + 5] = hi;
    c[P + 6] = inner;
    c[P + 7] = ptrs.length;
    for (let q = 0; q < ptrs.length; q++) c[P + 8 + q] = ptrs[q]!;
    this.parallel(Math.ceil(total / size));
  }

  /** Map kernel `id` with its pointers and `inner` bound, for calls on this thread. */
  bindMap(id: number, ptrs: number[], inner: number): BoundMap {
    return this.maps[id]!.bind(null, ...ptrs, inner) as BoundMap;
  }

  /** Helpers that have started (for the benchmark's report). */
  get helpersReady(): number {
    return Atomics.load(this.ctrl, READY);
  }
}

let shared: Kernels | null | undefined;

/** The process's fast kernels, or null where they are off or unsupported. */
export function kernels(): Kernels | null {
  if (shared !== undefined) return shared;
  shared = null;
  if (process.env.GRAPH_RUN_FAST === '0') return null;
  try {
    const env = Number(process.env.GRAPH_RUN_THREADS);
    const threads = Number.isInteger(env) && env >= 1 ? env : Math.max(1, Math.min(availableParallelism(), 8));
    // GRAPH_RUN_FMA=0 keeps the plain-SIMD matmul where relaxed SIMD exists (to compare them).
    const shape = process.env.GRAPH_RUN_FMA === '0' ? { ...preferredGemmShape(), fma: false } : preferredGemmShape();
    shared = new Kernels(threads, shape);
  } catch {
    shared = null; // no WebAssembly SIMD or shared memory here: the reference kernels run
  }
  return shared;
}
