// One graph file's scope while it is expanded: every name it declares (attributes, inputs,
// parameters, state, nodes, subgraph uses), once, and name resolution within it. A use is
// expanded the first time one of its outputs is named, so a use that reads its own output is
// a cycle found here, with its position.

import { CycleError, NameError, type SourceLoc } from '../errors.js';
import type { Loaded } from '../load/doc.js';
import { suggest } from '../load/hint.js';
import type { Dim, Ref } from '../load/model.js';
import type { Path } from '../load/source.js';
import { locator, type Ctx, type Expansion, type Use } from './context.js';

export type Entry =
  | { kind: 'attr'; value: number }
  | { kind: 'input' | 'param' | 'state' | 'node'; ref: Ref }
  | { kind: 'use'; index: number; expanded?: Map<string, Ref>; busy?: boolean };

export class Scope {
  readonly entries = new Map<string, Entry>();
  /** Prefix of the global names this file's contents get ("" at the top level). */
  readonly prefix: string;
  /** The chain of uses that led here, outermost last (error positions carry it). */
  readonly via: SourceLoc[];
  readonly L: (p: Path, key?: boolean) => SourceLoc;

  /**
   * `expandUse(index)` expands the subgraph use at `nodes[index]` and returns its outputs
   * (expand.ts supplies it; this module does not know how subgraphs are inlined).
   */
  constructor(
    readonly ctx: Ctx,
    readonly g: Loaded,
    readonly use: Use | null,
    /** The files being expanded, outermost first (a file using itself is an error). */
    readonly stack: string[],
    readonly ex: Expansion,
    /** Attribute values bound by `with:` or defaults (attrs.ts). */
    readonly env: Map<string, number>,
    private readonly expandUse: (index: number) => Map<string, Ref>,
  ) {
    this.prefix = use?.prefix ?? '';
    this.via = use ? [use.loc, ...use.via.slice(1)] : [];
    this.L = locator(g.file, this.via);
  }

  /** Declare a name; a second declaration is an error (and returns false). */
  declare(name: string, e: Entry, loc: SourceLoc): boolean {
    if (this.entries.has(name)) {
      this.ctx.errors.push(
        new NameError(
          `duplicate name "${name}"`,
          loc,
          name,
          'each input, parameter, attribute and node needs its own name',
        ),
      );
      return false;
    }
    this.entries.set(name, e);
    return true;
  }

  /** A dimension: a number, an attribute's value, or (where allowed) the symbol `batch`. */
  dimOf(d: Dim, loc: SourceLoc, allowBatch: boolean): Dim | undefined {
    if (typeof d === 'number') return d;
    if (this.env.has(d)) return this.env.get(d)!;
    if (d === 'batch' && allowBatch) return d;
    this.ctx.errors.push(
      new NameError(
        `unknown dimension "${d}"`,
        loc,
        undefined,
        allowBatch
          ? 'a dimension is a number, `batch`, or an attribute of this graph'
          : 'parameter shapes are numbers or attributes of this graph',
      ),
    );
    return undefined;
  }

  /** The value a name stands for here: a global node name or a number; undefined after an error. */
  resolve = (name: Ref, loc: SourceLoc, node?: string): Ref | undefined => {
    if (typeof name === 'number') return name;
    const dot = name.indexOf('.');
    const head = dot < 0 ? name : name.slice(0, dot);
    const e = this.entries.get(head);
    if (!e || (dot >= 0 && e.kind !== 'use')) {
      this.ctx.errors.push(new NameError(`unknown name "${name}"`, loc, node, suggest(head, this.entries.keys())));
      return undefined;
    }
    switch (e.kind) {
      case 'attr':
        return e.value;
      case 'input':
      case 'param':
      case 'state':
      case 'node':
        return e.ref;
      case 'use':
        return this.useOutput(e, head, dot < 0 ? undefined : name.slice(dot + 1), loc);
      default:
        return e satisfies never;
    }
  };

  /** An output of a subgraph use (`use` alone when it has one output, else `use.output`). */
  private useOutput(
    e: Extract<Entry, { kind: 'use' }>,
    head: string,
    out: string | undefined,
    loc: SourceLoc,
  ): Ref | undefined {
    if (e.busy) {
      this.ctx.errors.push(new CycleError(`subgraph use "${head}" depends on its own output`, loc, head));
      return undefined;
    }
    if (!e.expanded) {
      e.busy = true;
      e.expanded = this.expandUse(e.index);
      e.busy = false;
    }
    const outs = e.expanded;
    if (outs.size === 0) return undefined; // the use itself had errors, already reported
    if (out === undefined) {
      if (outs.size === 1) return [...outs.values()][0];
      this.ctx.errors.push(
        new NameError(
          `"${head}" has ${outs.size} outputs (${[...outs.keys()].join(', ')}); name one as ${head}.<output>`,
          loc,
        ),
      );
      return undefined;
    }
    if (!outs.has(out)) {
      this.ctx.errors.push(
        new NameError(`"${head}" has no output "${out}"`, loc, undefined, suggest(out, outs.keys(), 'outputs')),
      );
      return undefined;
    }
    return outs.get(out);
  }
}
