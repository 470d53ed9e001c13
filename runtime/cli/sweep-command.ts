// `graph-run sweep`'s three forms: the whole grid here (child processes, one table), one point
// (--index I: what a Kubernetes pod runs), and --emit k8s (the Job manifest). The settings are
// checked before anything runs: the grid's size against --yes, and the first point's keys and
// values by loading the graph with them (main.ts), so a key the graph does not have is one
// positioned error rather than a failed row per point.

import type { Model, Setting } from '../index.js';
import { UsageError } from '../index.js';
import { writeFileAtomic } from './files.js';
import { type K8sOptions, sweepJob, sweepManifest } from './k8s.js';
import {
  type Axis,
  checkGrid,
  checkTableOut,
  gridPoint,
  runGrid,
  runPoint,
  type SweepRow,
  sweepAxes,
  sweepText,
  writeTable,
} from './sweep.js';

export interface SweepCliOptions extends K8sOptions {
  set?: Axis[];
  yes?: boolean;
  index?: number;
  emit?: 'k8s';
}

/** What main loads and runs: the grid, its size, and the point the graph is loaded with. */
export interface SweepPlan {
  axes: Axis[];
  points: number;
  point: Setting[];
  /**
   * Further settings to load before a whole grid runs, so that every value is checked once
   * (the k-th value of each list together): a bad value is one positioned error up front.
   */
  others: Setting[][];
}

/** The grid of a sweep's --set options, checked; the point to load (--index, else 0). */
export function sweepPlan(set: Axis[] | undefined, o: Record<string, unknown>): SweepPlan {
  const axes = sweepAxes(set);
  const points = checkGrid(axes, o.yes === true);
  const index = o.index as number | undefined;
  if (index !== undefined && index >= points)
    throw new UsageError(`--index ${index}: the grid has ${points} points (0 to ${points - 1})`);
  if (o.emit === undefined) checkTableOut(o.out as string | undefined);
  const longest = Math.max(...axes.map((a) => a.values.length));
  const others =
    index === undefined
      ? Array.from({ length: longest - 1 }, (_, j) =>
          axes.map((a) => ({ key: a.key, value: a.values[Math.min(j + 1, a.values.length - 1)] })),
        )
      : [];
  return { axes, points, point: gridPoint(axes, index ?? 0), others };
}

/** The settings of a command other than sweep: one value per key. */
export function singleSettings(set: Axis[] | undefined): Setting[] {
  const seen = new Set<string>();
  return (set ?? []).map((a) => {
    if (a.values.length !== 1)
      throw new UsageError(
        `--set ${a.key} lists ${a.values.length} values: only graph-run sweep tries several (a list value is written in brackets: [64, 64])`,
      );
    if (seen.has(a.key)) throw new UsageError(`--set ${a.key} is given twice`);
    seen.add(a.key);
    return { key: a.key, value: a.values[0] };
  });
}

/** Run the sweep; resolves to the exit code (1 when a point failed). */
export async function sweepCommand(
  file: string,
  model: Model,
  plan: SweepPlan,
  o: SweepCliOptions,
  started: number,
  out: (s: string) => void,
  err: (s: string) => void,
  version: string,
): Promise<number> {
  const { axes, points } = plan;
  if (!model.training) throw new UsageError(`${file} has no training section: graph-run sweep compares training runs`);
  if (o.emit === 'k8s') {
    const text = `${sweepManifest(sweepJob(file, model.name, axes, points, o, version), points)}\n`;
    if (o.out !== undefined) {
      writeFileAtomic(o.out, text, 'manifest');
      if (!o.quiet) out(`wrote ${o.out}: a Kubernetes Indexed Job of ${points} completions`);
    } else out(text.trimEnd());
    return 0;
  }
  let rows: SweepRow[];
  if (o.index !== undefined) {
    rows = [await runPoint(model, o.index, plan.point, o, started)];
    if (o.json) {
      out(JSON.stringify(rows[0]));
      return 0;
    }
  } else {
    const quiet = o.quiet || o.json;
    if (!quiet) out(`${file}: ${points} grid point${points === 1 ? '' : 's'}`);
    rows = await runGrid(file, axes, o, quiet ? () => {} : err);
  }
  if (o.out !== undefined) writeTable(o.out, file, axes, rows);
  if (o.json) out(JSON.stringify({ graph: file, keys: axes.map((a) => a.key), points: rows }));
  else out(sweepText(axes, rows));
  const failed = rows.filter((r) => r.error).length;
  if (failed) err(`graph-run: ${failed} of ${rows.length} grid points failed (the error column says why)`);
  return failed ? 1 : 0;
}
