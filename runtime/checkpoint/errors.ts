// Errors of graph-run's tools (checkpoints, exports, pictures, plots): a problem with a file
// the user named rather than with a graph's YAML, so there is no line and column. The CLI
// prints `graph-run: <message>` and exits 1. Pure (no Node built-ins): the browser build uses it.

/** A checkpoint, export or output file that cannot be read, written or used; exit code 1. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** A checkpoint that does not fit the graph or is damaged; `tensor` names the culprit when there is one. */
export class CheckpointError extends ToolError {
  constructor(
    message: string,
    readonly tensor?: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'CheckpointError';
  }
}
