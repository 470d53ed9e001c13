// A small WebAssembly binary writer: enough of the format (types, an imported shared memory,
// functions with locals, exports) and of the instruction set (i32, f32, SIMD v128) to emit the
// CPU executor's kernels from TypeScript. Generating bytes here, rather than compiling .wat at
// build time, lets a kernel be specialised (tile sizes, unrolling) by ordinary loops in TS.
// Function bodies and their instructions are in ./instructions.ts; this file lays out the module.

import { append, Fn, uleb, type ValType } from './instructions.js';

export { f32, Fn, i32, uleb, v128, type ValType } from './instructions.js';

function str(s: string, out: number[]): void {
  const b = new TextEncoder().encode(s);
  uleb(b.length, out);
  append(out, b);
}

/** A module importing one shared memory `env.memory` and exporting its functions. */
export class Module {
  private readonly fns: Fn[] = [];

  fn(name: string, params: ValType[], results: ValType[] = []): Fn {
    const f = new Fn(name, params, results);
    this.fns.push(f);
    return f;
  }

  /** Function index, for `call`. */
  index(f: Fn): number {
    return this.fns.indexOf(f);
  }

  indexOf(name: string): number {
    const i = this.fns.findIndex((f) => f.name === name);
    if (i < 0) throw new Error(`no function ${name} in this module`);
    return i;
  }

  bytes(memory: { initial: number; maximum: number }): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, content: number[]) => {
      out.push(id);
      uleb(content.length, out);
      append(out, content);
    };
    const types: number[] = [];
    uleb(this.fns.length, types);
    for (const f of this.fns) {
      types.push(0x60);
      uleb(f.params.length, types);
      types.push(...f.params);
      uleb(f.results.length, types);
      types.push(...f.results);
    }
    section(1, types);
    const imports: number[] = [];
    uleb(1, imports);
    str('env', imports);
    str('memory', imports);
    imports.push(0x02, 0x03); // memory, limits with maximum, shared
    uleb(memory.initial, imports);
    uleb(memory.maximum, imports);
    section(2, imports);
    const funcs: number[] = [];
    uleb(this.fns.length, funcs);
    this.fns.forEach((_, i) => uleb(i, funcs));
    section(3, funcs);
    const exps: number[] = [];
    uleb(this.fns.length, exps);
    this.fns.forEach((f, i) => {
      str(f.name, exps);
      exps.push(0x00);
      uleb(i, exps);
    });
    section(7, exps);
    const code: number[] = [];
    uleb(this.fns.length, code);
    for (const f of this.fns) append(code, f.body());
    section(10, code);
    return new Uint8Array(out);
  }
}
