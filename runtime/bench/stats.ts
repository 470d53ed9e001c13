// Timing helpers for the benchmarks: a seeded PRNG for reproducible data, and a runner that
// warms a workload up and then reports the median of several timed runs (and their spread,
// since the 2-core machine the figures come from is shared and noisy).

/** mulberry32: a small, fast, seeded PRNG giving floats in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Timing {
  /** Median milliseconds per call of the workload. */
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Time `fn`: `warmup` untimed calls (JIT, plan caches), then `runs` samples; each sample times
 * `inner` consecutive calls and divides, so sub-millisecond work is measured over a longer span.
 */
export function time(fn: () => void, opts: { warmup?: number; runs?: number; inner?: number } = {}): Timing {
  const { warmup = 3, runs = 9, inner = 1 } = opts;
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let i = 0; i < inner; i++) fn();
    samples.push((performance.now() - t0) / inner);
  }
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), runs };
}
