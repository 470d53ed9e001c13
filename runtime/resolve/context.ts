// What every part of the resolver shares: the files it loads, the errors it collects, the
// runtime inputs some node reads; and how a subgraph is used and what expanding one yields.

import type { GraphError, SourceLoc } from '../errors.js';
import type { GraphFiles } from '../load/files.js';
import type { LoaderIO } from '../load/io.js';
import type { InputDecl, OpNodeDecl, ParamDecl, Ref, RepeatDecl, StateDecl } from '../load/model.js';
import type { SourceFile, Path } from '../load/source.js';

export interface Ctx {
  io: LoaderIO;
  files: GraphFiles;
  /** Every problem found, in the order found (loadModel sorts them by position). */
  errors: GraphError[];
  /** The top-level graph's seed (dropout nodes take it). */
  seed: number;
  /** Inputs the runtime feeds that some node reads (InputDecl.provided). */
  runtime: Set<'epoch' | 'step'>;
  /** Repeated uses whose chained types the IR checks (Model.repeats). */
  repeats?: RepeatDecl[];
}

/** How a subgraph is being used: its bindings and attribute values, with their positions. */
export interface Use {
  prefix: string;
  bindings: Map<string, Ref>;
  bindingLoc: (name: string) => SourceLoc;
  with: Record<string, number>;
  withLoc: (name: string) => SourceLoc;
  loc: SourceLoc;
  via: SourceLoc[];
  /** For optimizer graphs: the parameter's shape, which `state` entries take by default. */
  paramShape?: number[];
  /** Attributes bound to a value computed in the graph (a scheduled `lr`) instead of a number. */
  attrRefs?: Map<string, Ref>;
}

/** One graph document expanded: its nodes and declarations with global names. */
export interface Expansion {
  nodes: OpNodeDecl[];
  params: ParamDecl[];
  state: StateDecl[];
  inputs: InputDecl[];
  outputs: Map<string, Ref>;
  /** Resolve a name in this graph's scope (used for the top level's loss, outputs, gradients). */
  resolve: (name: Ref, loc: SourceLoc, node?: string) => Ref | undefined;
  names: () => string[];
}

/** Positions in `file`; inside a subgraph they carry the chain of uses (`via`). */
export function locator(file: SourceFile, via: SourceLoc[]): (p: Path, key?: boolean) => SourceLoc {
  return (p, key = false) => {
    const l = file.loc(p, key);
    return via.length ? { ...l, via } : l;
  };
}

/** A graph's outputs as [name, target, path]: a list names itself, a map renames. */
export function outputEntries(outs: string[] | Record<string, string>): [string, string, Path][] {
  return Array.isArray(outs)
    ? outs.map((o, i) => [o, o, ['outputs', i]])
    : Object.entries(outs).map(([k, v]) => [k, v, ['outputs', k]]);
}
