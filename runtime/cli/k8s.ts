// `graph-run sweep ... --emit k8s`: the grid as a Kubernetes Indexed Job. Each completion index
// is one grid point: the pod runs `graph-run sweep <same file and --set lists> --index I --json`,
// with I the pod's JOB_COMPLETION_INDEX (declared from the downward API, so `$(...)` expands in
// the arguments on any cluster version with Indexed Jobs), and prints that point's row as one
// line of JSON in its log. The image holds graph-run and the graph's files in /work.

import { type Axis, childArgs, type SweepOptions } from './sweep.js';

export interface K8sOptions extends SweepOptions {
  image?: string;
  parallelism?: number;
}

/** Pods at once when --parallelism is not given. */
const DEFAULT_PARALLELISM = 16;

/** A DNS-1123 label for the Job (at most 63 characters, lower case, digits and dashes). */
function jobName(model: string): string {
  const base = model
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `graph-run-sweep-${base || 'graph'}`.slice(0, 63).replace(/-+$/, '');
}

/** The Job object (apiVersion batch/v1) for a grid of `points` points. */
export function sweepJob(
  file: string,
  model: string,
  axes: readonly Axis[],
  points: number,
  o: K8sOptions,
  version: string,
): Record<string, unknown> {
  const name = jobName(model);
  const labels = { 'app.kubernetes.io/name': 'graph-run', 'app.kubernetes.io/instance': name };
  const args = [...childArgs(file, axes, o), '--index', '$(JOB_COMPLETION_INDEX)'];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, labels },
    spec: {
      completionMode: 'Indexed',
      completions: points,
      parallelism: o.parallelism ?? Math.min(points, DEFAULT_PARALLELISM),
      // A failed point is retried at most twice in all, not the grid's whole budget.
      backoffLimit: 2,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'graph-run',
              image: o.image ?? `graph-run:${version}`,
              workingDir: '/work',
              command: ['graph-run'],
              args,
              env: [
                {
                  name: 'JOB_COMPLETION_INDEX',
                  valueFrom: {
                    fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
                  },
                },
              ],
              // graph-run trains a point on one thread: one core per pod.
              resources: { requests: { cpu: '1' }, limits: { cpu: '1' } },
            },
          ],
        },
      },
    },
  };
}

/** The manifest as YAML, with a comment saying how to run it and read the rows back. */
export function sweepManifest(job: Record<string, unknown>, points: number): string {
  const name = (job.metadata as { name: string }).name;
  return [
    `# ${points} grid points, one per completion index. kubectl apply -f this-file.yaml; then each pod's`,
    `# log is its point's row as one line of JSON: kubectl logs -l job-name=${name} --tail=1`,
    toYaml(job, ''),
  ].join('\n');
}

/** Block-style YAML of plain JSON data; strings are quoted unless plainly a word or path. */
function toYaml(v: unknown, indent: string): string {
  const scalar = (x: unknown) =>
    typeof x === 'string' && /^[A-Za-z_/][\w./-]*$/.test(x) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(x)
      ? x
      : JSON.stringify(x);
  const lines: string[] = [];
  const item = (prefix: string, x: unknown, inner: string) => {
    if (x !== null && typeof x === 'object' && Object.keys(x).length > 0) {
      const body = toYaml(x, inner);
      // A list item's mapping starts on the dash's line.
      if (prefix.endsWith('- ') && !Array.isArray(x)) lines.push(prefix + body.slice(inner.length));
      else lines.push(prefix.trimEnd(), body);
    } else lines.push(prefix + (x !== null && typeof x === 'object' ? (Array.isArray(x) ? '[]' : '{}') : scalar(x)));
  };
  if (Array.isArray(v)) for (const x of v) item(`${indent}- `, x, `${indent}  `);
  else for (const [k, x] of Object.entries(v as object)) item(`${indent}${scalar(k)}: `, x, `${indent}  `);
  return lines.join('\n');
}
