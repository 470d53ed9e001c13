// Build statistics: how many times each compile-time artefact was built in this process
// (graphs, reverse graphs, data sets, plans). The compile-once design promises each graph
// is built once per program and each plan once per batch size; these counters make that
// observable (`graph-run --stats`, `buildStats()`), not only a property of the code.
//
// Keys name what was built: `graph <kind>` (kind: forward, train, eval, gradient; typed once
// with `batch` symbolic), `reverse <kind>` (train, gradient), `data`, `plan <kind> batch <n>`
// (a plan binds the batch size; `plan traced batch <n>`: trace's keep-every-value replay).

const counts = new Map<string, number>();

/** Record that one artefact named `what` was built. */
export function countBuild(what: string): void {
  counts.set(what, (counts.get(what) ?? 0) + 1);
}

/** The counts since the process started (or the last reset), keys sorted. */
export function buildStats(): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Start counting afresh (tests, and tools that report one job's builds). */
export function resetBuildStats(): void {
  counts.clear();
}
