// Typed errors for everything a user can get wrong. Each carries a source position
// (file:line:col) and, where there is one, the node it concerns; the CLI prints
// `formatError` lines and never a stack trace for these.

/** A position in a YAML (or data) file; line and col count from 1. */
export interface SourceLoc {
  file: string;
  line: number;
  col: number;
  /** Where a subgraph containing this position was used from, outermost last. */
  via?: SourceLoc[];
}

/** The class name of each kind of graph error (`GraphError.kind`). */
export type ErrorKind =
  | 'YamlSyntaxError'
  | 'SchemaError'
  | 'NameError'
  | 'ArityError'
  | 'ShapeError'
  | 'DTypeError'
  | 'CycleError'
  | 'DataError'
  | 'SubgraphError'
  | 'AttrError'
  | 'NumericError'
  /** A node a tool cannot export (graph-run export --pytorch). */
  | 'ExportError';

/** One problem in a user's graph or data, with where it is and (maybe) how to fix it. */
export class GraphError extends Error {
  readonly kind: ErrorKind;
  constructor(
    kind: ErrorKind,
    message: string,
    readonly loc?: SourceLoc,
    readonly nodeName?: string,
    readonly hint?: string,
  ) {
    super(message);
    this.kind = kind;
    this.name = kind;
  }
  get line(): number | undefined {
    return this.loc?.line;
  }
  get col(): number | undefined {
    return this.loc?.col;
  }
  get file(): string | undefined {
    return this.loc?.file;
  }
}

export class YamlSyntaxError extends GraphError {
  constructor(m: string, loc?: SourceLoc, hint?: string) {
    super('YamlSyntaxError', m, loc, undefined, hint);
  }
}
export class SchemaError extends GraphError {
  constructor(m: string, loc?: SourceLoc, hint?: string) {
    super('SchemaError', m, loc, undefined, hint);
  }
}
export class NameError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('NameError', m, loc, node, hint);
  }
}
export class ArityError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('ArityError', m, loc, node, hint);
  }
}
export class ShapeError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('ShapeError', m, loc, node, hint);
  }
}
export class DTypeError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('DTypeError', m, loc, node, hint);
  }
}
export class CycleError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('CycleError', m, loc, node, hint);
  }
}
export class DataError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('DataError', m, loc, node, hint);
  }
}
export class SubgraphError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('SubgraphError', m, loc, node, hint);
  }
}
export class AttrError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('AttrError', m, loc, node, hint);
  }
}
/** A value became NaN or infinite during training (at the node that first produced one). */
export class NumericError extends GraphError {
  constructor(m: string, loc?: SourceLoc, node?: string, hint?: string) {
    super('NumericError', m, loc, node, hint);
  }
}

/** Several problems found in one pass: the loader reports all of them, not just the first. */
export class GraphErrors extends Error {
  constructor(readonly errors: GraphError[]) {
    super(errors.map(formatError).join('\n'));
    this.name = 'GraphErrors';
  }
}

/** A bad command line (unknown flag, missing file argument): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Thrown by an op's shape rule: the message only. The caller adds the node and position,
 * so rules stay free of bookkeeping.
 */
export class RuleError extends Error {
  constructor(
    message: string,
    readonly kind: 'ShapeError' | 'DTypeError' | 'AttrError' | 'ArityError' = 'ShapeError',
  ) {
    super(message);
  }
}

export function locPrefix(loc?: SourceLoc): string {
  return loc ? `${loc.file}:${loc.line}:${loc.col}` : '<graph>';
}

/** `file:line:col: Kind in node "n": message (hint)` plus one line per subgraph use site. */
export function formatError(e: GraphError): string {
  const where = e.nodeName ? ` in node "${e.nodeName}"` : '';
  let s = `${locPrefix(e.loc)}: ${e.kind}${where}: ${e.message}`;
  for (const v of e.loc?.via ?? []) s += `\n    used from ${locPrefix(v)}`;
  if (e.hint) s += `\n    hint: ${e.hint}`;
  return s;
}

/** Convert a RuleError from an op's rule into a positioned GraphError. */
export function fromRule(err: unknown, loc: SourceLoc | undefined, node: string): GraphError {
  if (err instanceof RuleError) {
    switch (err.kind) {
      case 'ShapeError':
        return new ShapeError(err.message, loc, node);
      case 'DTypeError':
        return new DTypeError(err.message, loc, node);
      case 'AttrError':
        return new AttrError(err.message, loc, node);
      case 'ArityError':
        return new ArityError(err.message, loc, node);
      default:
        err.kind satisfies never;
    }
  }
  if (err instanceof GraphError) return err;
  throw err;
}
