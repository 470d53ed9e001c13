// The CPU executor's memory: one shared WebAssembly.Memory per process that holds the f32
// buffers of compiled plans, so the WebAssembly kernels and the worker threads read and
// write them in place (no copies in or out), while the reference kernels see ordinary
// Float32Array views. Buffers are carved out at plan-build time (never during a step) and
// returned when their view is garbage-collected.
//
// Caveat: a buffer's memory is reused once its view is collected, so a subarray() kept
// longer than the view it was taken from may later see other data. The runtime hands out
// copies (Session.parameters, run results), never such subarrays.

const PAGE = 65536;
/** Buffers start on 64-byte (cache-line) boundaries. */
const ALIGN = 64;
// 2 GiB: byte offsets stay positive i32s for the kernels; address space is reserved, not used.
const MAX_PAGES = 32768;

export class Arena {
  readonly memory: WebAssembly.Memory;
  /** Free ranges [offset, bytes], sorted by offset, coalesced. */
  private free: [number, number][] = [];
  private top: number;
  private readonly views = new WeakSet<ArrayBufferView>();
  private readonly registry = new FinalizationRegistry<[number, number]>(([off, bytes]) => this.release(off, bytes));

  constructor(initialPages = 16) {
    this.memory = new WebAssembly.Memory({ initial: initialPages, maximum: MAX_PAGES, shared: true });
    this.top = ALIGN; // offset 0 stays unused: a null pointer is never a buffer
  }

  get maxPages(): number {
    return MAX_PAGES;
  }

  /** Byte offset of `bytes` bytes of zeroed memory. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i]!;
      if (r[1] >= size) {
        const off = r[0];
        if (r[1] === size) this.free.splice(i, 1);
        else {
          r[0] += size;
          r[1] -= size;
        }
        new Uint8Array(this.memory.buffer, off, size).fill(0);
        return off;
      }
    }
    const off = this.top;
    const end = off + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      // Grow geometrically so a plan of many buffers does not grow page by page.
      const want = Math.min(MAX_PAGES - have / PAGE, Math.max(pages, have / PAGE / 4));
      if (want < pages) throw new RangeError(`graph-run: CPU buffers exceed ${(MAX_PAGES * PAGE) / 2 ** 30} GiB`);
      this.memory.grow(Math.ceil(want));
    }
    this.top = end;
    return off; // fresh memory from grow() is zeroed
  }

  release(off: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const f = this.free;
    let i = 0;
    while (i < f.length && f[i]![0] < off) i++;
    f.splice(i, 0, [off, size]);
    // Coalesce with the neighbours; a range ending at the top returns to the top.
    if (i + 1 < f.length && f[i]![0] + f[i]![1] === f[i + 1]![0]) {
      f[i]![1] += f[i + 1]![1];
      f.splice(i + 1, 1);
    }
    if (i > 0 && f[i - 1]![0] + f[i - 1]![1] === f[i]![0]) {
      f[i - 1]![1] += f[i]![1];
      f.splice(i, 1);
      i--;
    }
    const last = f[f.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      f.pop();
    }
  }

  /** A zeroed Float32Array living in the shared memory, freed when the view is collected. */
  f32(length: number): Float32Array {
    const bytes = length * 4;
    const off = this.alloc(bytes);
    const view = new Float32Array(this.memory.buffer, off, length);
    this.registry.register(view, [off, bytes]);
    this.views.add(view);
    return view;
  }

  /** Scratch owned by the caller for the life of the process (kernel pack buffers). */
  scratch(bytes: number): number {
    return this.alloc(bytes);
  }

  /** Whether `a` is a buffer this arena handed out (its byteOffset is then its address). */
  holds(a: ArrayBufferView): boolean {
    return this.views.has(a);
  }
}
