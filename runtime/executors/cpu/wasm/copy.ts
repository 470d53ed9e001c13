// WebAssembly SIMD copies of runs: the data movement of transpose and broadcast_to when the
// output is made of runs of `len` (a multiple of 4) elements, each run one contiguous piece of
// the input (a transpose that keeps the last axes, as attention's heads) or one input element
// repeated (a broadcast along the last axes, as a layer norm's mean gradient). Plain copies:
// the same bits as the reference kernels.
// - copyRuns(x, y, srcs, runs, len): y[r·len + k] = x[srcs[r] + k]
// - fillRuns(x, y, srcs, runs, len): y[r·len + k] = x[srcs[r]]
// x and y are byte addresses of f32 arrays, srcs of an i32 array of element offsets.

import { i32, Module, v128 } from './asm.js';

function emitRuns(mod: Module, name: string, fill: boolean): void {
  const f = mod.fn(name, [i32, i32, i32, i32, i32]);
  const [X, Y, SRCS, RUNS, LEN] = [0, 1, 2, 3, 4];
  const r = f.local(i32),
    k = f.local(i32),
    src = f.local(i32),
    dst = f.local(i32),
    bytes = f.local(i32),
    v = f.local(v128);
  f.get(LEN).i32c(2).shl().set(bytes);
  f.block().get(RUNS).eqz().brIf(0).get(LEN).eqz().brIf(0).loop();
  // src = x + 4·srcs[r], dst = y + bytes·r
  f.get(X).get(SRCS).get(r).i32c(2).shl().add().i32load().i32c(2).shl().add().set(src);
  f.get(Y).get(r).get(bytes).mul().add().set(dst);
  if (fill) f.get(src).vsplatload().set(v);
  f.i32c(0).set(k);
  f.loop();
  f.get(dst).get(k).add();
  if (fill) f.get(v);
  else f.get(src).get(k).add().vload();
  f.vstore();
  f.get(k).i32c(16).add().tee(k).get(bytes).ltS().brIf(0);
  f.end();
  f.get(r).i32c(1).add().tee(r).get(RUNS).ltS().brIf(0);
  f.end().end();
}

export interface CopyKernels {
  copyRuns(x: number, y: number, srcs: number, runs: number, len: number): void;
  fillRuns(x: number, y: number, srcs: number, runs: number, len: number): void;
}

/** The run copies over `memory` (the arena's), compiled once per memory. */
const compiled = new WeakMap<WebAssembly.Memory, CopyKernels>();
export function copyKernels(memory: WebAssembly.Memory, maxPages: number): CopyKernels {
  let k = compiled.get(memory);
  if (!k) {
    const mod = new Module();
    emitRuns(mod, 'copyRuns', false);
    emitRuns(mod, 'fillRuns', true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mod.bytes({ initial: 1, maximum: maxPages })), {
      env: { memory },
    });
    k = inst.exports as unknown as CopyKernels;
    compiled.set(memory, k);
  }
  return k;
}
