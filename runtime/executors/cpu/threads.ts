// The CPU executor's kernel runtime: one process-wide set of WebAssembly kernels over the
// shared arena (arena.ts), run on the calling thread plus helper worker threads (one per
// extra core). A parallel call is cut into chunks that every thread takes from one atomic
// counter, so a helper that wakes late (a busy machine) only takes fewer chunks; results do
// not depend on who ran which chunk. Process-wide like a BLAS thread pool: kernels and
// workers are created once, lazily, on the first large matrix product.
//
// Settings (environment): GRAPH_RUN_THREADS=n caps the threads (1: no workers);
// GRAPH_RUN_FAST=0 turns the fast kernels off (the plain TypeScript kernels run instead).

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Arena } from './arena.js';
import { Module } from './wasm/asm.js';
import { defaultBlocking, defaultGemmShape, emitGemm, emitGemmDriver, gemmScratch } from './wasm/gemm.js';

// Control block (Int32 slots of a SharedArrayBuffer).
const SEQ = 0; // task number, bumped to wake the helpers
const NEXT = 1; // (task << 16) | next chunk index
const DONE = 2; // chunks finished
const READY = 3; // helpers started
const P = 8; // task parameters from here on
const SLOTS = 32;
const TASK_BITS = 0x7fff;
/** Polls of a flag before sleeping on it: ~10-50 µs, so back-to-back kernels skip the futex. */
const SPIN = 20000;

/** One gemm task: C[m×n] = op(A)·op(B), cut along n (axis 1) or m (axis 0) into chunks. */
interface GemmTask {
  m: number; n: number; k: number;
  a: number; rsa: number; csa: number;
  b: number; rsb: number; csb: number;
  c: number; ldc: number;
}

type GemmFn = (m: number, n: number, k: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number,
  c: number, ldc: number, ap: number, bp: number, tile: number) => void;

// The helper's code, run with eval (so it needs no file next to the compiled one, and works
// the same from source under tsx/vitest). It mirrors runChunks below.
const workerSource = `
const { workerData } = require('node:worker_threads');
const { memory, module, ctrl, scratch } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const c = new Int32Array(ctrl);
const [ap, bp, tile] = scratch;
Atomics.add(c, ${READY}, 1);
let seen = Atomics.load(c, ${SEQ});
for (;;) {
  let s, spins = 0;
  while ((s = Atomics.load(c, ${SEQ})) === seen) {
    if (++spins > ${SPIN}) { Atomics.wait(c, ${SEQ}, seen); spins = 0; }
  }
  seen = s;
  if (s < 0) break;
  const t = s & ${TASK_BITS};
  for (;;) {
    const v = Atomics.load(c, ${NEXT});
    if ((v >>> 16) !== t) break;
    const j = v & 0xffff;
    if (j >= c[${P} + 11]) break;
    if (Atomics.compareExchange(c, ${NEXT}, v, v + 1) !== v) continue;
    const m = c[${P}], n = c[${P} + 1], along = c[${P} + 12], size = c[${P} + 13];
    const lo = j * size, hi = Math.min(lo + size, along ? n : m);
    if (along) ex.gemm(m, hi - lo, c[${P} + 2], c[${P} + 3], c[${P} + 4], c[${P} + 5], c[${P} + 6] + lo * c[${P} + 8], c[${P} + 7], c[${P} + 8], c[${P} + 9] + lo * 4, c[${P} + 10], ap, bp, tile);
    else ex.gemm(hi - lo, n, c[${P} + 2], c[${P} + 3] + lo * c[${P} + 4], c[${P} + 4], c[${P} + 5], c[${P} + 6], c[${P} + 7], c[${P} + 8], c[${P} + 9] + lo * c[${P} + 10], c[${P} + 10], ap, bp, tile);
    Atomics.add(c, ${DONE}, 1);
    Atomics.notify(c, ${DONE});
  }
}
`;

export class Kernels {
  readonly arena = new Arena();
  readonly shape = defaultGemmShape;
  private readonly gemmFn: GemmFn;
  private readonly module: WebAssembly.Module;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly scratch: [number, number, number];
  private workers: Worker[] = [];
  private task = 0;

  constructor(readonly threads: number) {
    const mod = new Module();
    emitGemm(mod, defaultGemmShape);
    emitGemmDriver(mod, defaultBlocking);
    this.module = new WebAssembly.Module(mod.bytes({ initial: 1, maximum: this.arena.maxPages }));
    const ex = new WebAssembly.Instance(this.module, { env: { memory: this.arena.memory } }).exports;
    this.gemmFn = ex.gemm as GemmFn;
    this.scratch = this.newScratch();
  }

  private newScratch(): [number, number, number] {
    const s = gemmScratch(defaultGemmShape, defaultBlocking);
    return [this.arena.scratch(s.ap * 4), this.arena.scratch(s.bp * 4), this.arena.scratch(s.tile * 4)];
  }

  /** Start the helpers (asynchronously: until they are up, the calling thread does all chunks). */
  private startWorkers(): void {
    if (this.workers.length || this.threads < 2) return;
    for (let i = 1; i < this.threads; i++) {
      const w = new Worker(workerSource, {
        eval: true,
        workerData: { memory: this.arena.memory, module: this.module, ctrl: this.ctrl.buffer, scratch: this.newScratch() },
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /**
   * C = op(A)·op(B) over arena addresses (bytes): (i, p) of op(A) at a + i*rsa + p*csa, (p, j)
   * of op(B) at b + p*rsb + j*csb, C row-major with row stride ldc. k = 0 leaves C to the caller.
   */
  gemm(t: GemmTask): void {
    const { m, n, k } = t;
    if (m === 0 || n === 0 || k === 0) return;
    const work = m * n * k;
    // Below ~1M multiply-adds (~25 µs) waking a helper costs more than it saves.
    if (this.threads < 2 || work < 1 << 20) {
      this.gemmFn(m, n, k, t.a, t.rsa, t.csa, t.b, t.rsb, t.csb, t.c, t.ldc, this.scratch[0], this.scratch[1], this.scratch[2]);
      return;
    }
    this.startWorkers();
    // Cut the longer side into chunks of whole register tiles, about 4 per thread.
    const alongN = n >= m;
    const len = alongN ? n : m, unit = alongN ? this.shape.nr : this.shape.mr;
    const size = Math.max(unit, Math.ceil(len / (4 * this.threads) / unit) * unit);
    const chunks = Math.ceil(len / size);
    const c = this.ctrl;
    c[P] = m; c[P + 1] = n; c[P + 2] = k; c[P + 3] = t.a; c[P + 4] = t.rsa; c[P + 5] = t.csa;
    c[P + 6] = t.b; c[P + 7] = t.rsb; c[P + 8] = t.csb; c[P + 9] = t.c; c[P + 10] = t.ldc;
    c[P + 11] = chunks; c[P + 12] = alongN ? 1 : 0; c[P + 13] = size;
    this.task = (this.task + 1) & TASK_BITS;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, NEXT, this.task << 16);
    Atomics.store(c, SEQ, this.task);
    Atomics.notify(c, SEQ);
    this.runChunks(this.task);
    let spins = 0, d;
    while ((d = Atomics.load(c, DONE)) < chunks) {
      if (++spins > SPIN) {
        Atomics.wait(c, DONE, d, 1);
        spins = 0;
      }
    }
  }

  private runChunks(task: number): void {
    const c = this.ctrl;
    const [ap, bp, tile] = this.scratch;
    for (;;) {
      const v = Atomics.load(c, NEXT);
      if (v >>> 16 !== task) break;
      const j = v & 0xffff;
      if (j >= c[P + 11]!) break;
      if (Atomics.compareExchange(c, NEXT, v, v + 1) !== v) continue;
      const m = c[P]!, n = c[P + 1]!, k = c[P + 2]!, along = c[P + 12]!, size = c[P + 13]!;
      const lo = j * size, hi = Math.min(lo + size, along ? n : m);
      if (along) this.gemmFn(m, hi - lo, k, c[P + 3]!, c[P + 4]!, c[P + 5]!, c[P + 6]! + lo * c[P + 8]!, c[P + 7]!, c[P + 8]!, c[P + 9]! + lo * 4, c[P + 10]!, ap, bp, tile);
      else this.gemmFn(hi - lo, n, k, c[P + 3]! + lo * c[P + 4]!, c[P + 4]!, c[P + 5]!, c[P + 6]!, c[P + 7]!, c[P + 8]!, c[P + 9]! + lo * c[P + 10]!, c[P + 10]!, ap, bp, tile);
      Atomics.add(c, DONE, 1);
    }
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
    shared = new Kernels(threads);
  } catch {
    shared = null; // no WebAssembly SIMD or shared memory here: the reference kernels run
  }
  return shared;
}
