// --set and graph-run sweep through the real executable: a value given by --set trains exactly
// as the same value written in the file; a key the file does not write, or a value its schema
// refuses, is a positioned error; a sweep's table lists every grid point in order with the loss a
// single run of that point gives; a grid over 10,000 points needs --yes; --emit k8s writes an
// Indexed Job that validates against the Kubernetes schema (kubernetes-models) and whose pods,
// given their completion index, train exactly the points of the local table, in its order.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ensureBuilt, graphRun } from './graph-run.js';

const require = createRequire(import.meta.url);
const { Job } = require('kubernetes-models/batch/v1/Job') as {
  Job: new (o: unknown) => { validate(): void };
};

const dir = mkdtempSync(join(tmpdir(), 'graph-run-sweep-'));
const gender = 'graphs/gender.yaml';
const grid = ['--set', 'optimizer.with.lr=0.1,0.5', '--set', 'training.batch_size=1,2'];
/** The local grid's points, in the order the table must list them (first --set slowest). */
const points = [
  { 'optimizer.with.lr': 0.1, 'training.batch_size': 1 },
  { 'optimizer.with.lr': 0.1, 'training.batch_size': 2 },
  { 'optimizer.with.lr': 0.5, 'training.batch_size': 1 },
  { 'optimizer.with.lr': 0.5, 'training.batch_size': 2 },
];

interface Row {
  index: number;
  set: Record<string, unknown>;
  epoch: number;
  loss: number;
  wall_s: number;
  error?: string;
}

const finalLoss = (stdout: string) => {
  const losses = (JSON.parse(stdout) as { losses: { epoch: number; loss: number }[] }).losses;
  return losses.at(-1)!;
};

beforeAll(() => ensureBuilt(), 120_000);

describe('--set', () => {
  it('trains exactly as the value written in the file', async () => {
    const edited = join(dir, 'gender-lr.yaml');
    // The same graph with lr 0.5 and batch size 2 written in; its std: references still resolve.
    writeFileSync(
      edited,
      readFileSync(gender, 'utf8')
        .replace('with: {lr: 0.1}', 'with: {lr: 0.5}')
        .replace('batch_size: 1', 'batch_size: 2'),
    );
    const a = await graphRun([edited, '--epochs', '5', '--json']);
    const b = await graphRun([
      gender,
      '--epochs',
      '5',
      '--json',
      '--set',
      'optimizer.with.lr=0.5',
      '--set',
      'training.batch_size=2',
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).losses).toEqual(JSON.parse(a.stdout).losses);
    expect(finalLoss(b.stdout)).not.toEqual(finalLoss((await graphRun([gender, '--epochs', '5', '--json'])).stdout));
  });

  it('a key the file does not write is a positioned error naming where the path stops', async () => {
    const r = await graphRun(['validate', gender, '--set', 'optimizer.with.lrr=0.5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'graphs/gender.yaml:36:3: SchemaError: --set optimizer.with.lrr: the graph has no "lrr" under optimizer.with',
    );
    expect(r.stderr).toContain('keys there: lr');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const list = await graphRun(['validate', gender, '--set', 'nodes.9.name=z']);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(
      /^graphs\/gender\.yaml:\d+:\d+: SchemaError: --set nodes\.9\.name: nodes is a list of 7/,
    );
  });

  it("a value is checked by the schema where it replaces the file's", async () => {
    const r = await graphRun(['validate', gender, '--set', 'training.batch_size=abc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'graphs/gender.yaml:44:15: SchemaError: training.batch_size must be integer (the value of --set training.batch_size)',
    );
  });

  it('several values belong to sweep; a malformed setting is a usage error', async () => {
    const r = await graphRun([gender, '--set', 'training.epochs=1,2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('only graph-run sweep tries several');
    const bad = await graphRun([gender, '--set', 'training.epochs']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--set takes KEY=VALUE');
  });
});

/** The local sweep's rows (the first sweep test), compared with single runs and the Job's pods. */
let rows: Row[];

describe('graph-run sweep', () => {
  it('trains every point of the grid in parallel and writes one table (CSV and JSON)', async () => {
    const csv = join(dir, 'results.csv');
    const r = await graphRun(['sweep', gender, ...grid, '--epochs', '3', '--jobs', '2', '--out', csv], {}, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('index,optimizer.with.lr,training.batch_size,epoch,loss,wall_s');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4))).toEqual(
      points.map((p, i) => [String(i), String(p['optimizer.with.lr']), String(p['training.batch_size']), '2']),
    );
    // The printed table: a header and one line per point.
    expect(r.stdout.split('\n').slice(1)[0]).toMatch(
      /^index\s+optimizer\.with\.lr\s+training\.batch_size\s+epoch\s+loss\s+wall_s$/,
    );
    const json = join(dir, 'results.json');
    const j = await graphRun(['sweep', gender, ...grid, '--epochs', '3', '--out', json, '-q'], {}, 120_000);
    expect(j.code, j.stderr).toBe(0);
    const table = JSON.parse(readFileSync(json, 'utf8')) as { keys: string[]; points: Row[] };
    expect(table.keys).toEqual(['optimizer.with.lr', 'training.batch_size']);
    rows = table.points;
    expect(rows.map((x) => x.set)).toEqual(points);
    for (const x of rows) {
      expect(x.wall_s).toBeGreaterThan(0);
      expect(Number.isFinite(x.loss)).toBe(true);
    }
    // The CSV's losses are the JSON's, printed in full.
    expect(lines.slice(1).map((l) => Number(l.split(',')[4]))).toEqual(rows.map((x) => x.loss));
  }, 240_000);

  it("each point's loss is what a single run with its settings gives", async () => {
    for (const i of [1, 2]) {
      const p = points[i]!;
      const one = await graphRun([
        gender,
        '--epochs',
        '3',
        '--json',
        ...Object.entries(p).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
      ]);
      expect(one.code, one.stderr).toBe(0);
      expect(finalLoss(one.stdout).loss).toBe(rows[i]!.loss);
    }
  }, 120_000);

  it('a grid over 10,000 points asks for --yes', async () => {
    const big = ['--set', `optimizer.with.lr=${Array.from({ length: 101 }, (_, i) => (i + 1) / 1000).join(',')}`];
    big.push('--set', `training.epochs=${Array.from({ length: 100 }, (_, i) => i + 1).join(',')}`);
    const r = await graphRun(['sweep', gender, ...big, '--emit', 'k8s']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the grid has 10,100 points (over 10,000): add --yes to run them all');
    const y = await graphRun(['sweep', gender, ...big, '--emit', 'k8s', '--yes']);
    expect(y.code, y.stderr).toBe(0);
    expect((parseYaml(y.stdout) as { spec: { completions: number } }).spec.completions).toBe(10_100);
  });

  it('a bad value anywhere in a list is a positioned error before anything runs', async () => {
    const r = await graphRun(['sweep', gender, '--set', 'training.batch_size=1,2,0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('graphs/gender.yaml:44:15: SchemaError: training.batch_size must be >= 1');
  });
});

describe('graph-run sweep --emit k8s', () => {
  it('writes an Indexed Job that validates and whose indices are the local grid, in order', async () => {
    const file = join(dir, 'job.yaml');
    const r = await graphRun([
      'sweep',
      gender,
      ...grid,
      '--epochs',
      '3',
      '--emit',
      'k8s',
      '--image',
      'registry.example/graph-run:1',
      '--parallelism',
      '3',
      '--out',
      file,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const job = parseYaml(readFileSync(file, 'utf8')) as {
      spec: {
        completionMode: string;
        completions: number;
        parallelism: number;
        template: { spec: { containers: { image: string; command: string[]; args: string[] }[] } };
      };
    };
    expect(() => new Job(job).validate()).not.toThrow();
    expect(job.spec.completionMode).toBe('Indexed');
    expect(job.spec.completions).toBe(points.length);
    expect(job.spec.parallelism).toBe(3);
    const c = job.spec.template.spec.containers[0]!;
    expect(c.image).toBe('registry.example/graph-run:1');
    expect(c.command).toEqual(['graph-run']);
    expect(c.args).toContain('$(JOB_COMPLETION_INDEX)');
    // Each pod's command, run here with its index in place of $(JOB_COMPLETION_INDEX): the
    // point it trains, and its loss, are the local table's row of that index.
    for (let i = 0; i < points.length; i++) {
      const args = c.args.map((a) => a.replace('$(JOB_COMPLETION_INDEX)', String(i)));
      const pod = await graphRun(args);
      expect(pod.code, pod.stderr).toBe(0);
      const row = JSON.parse(pod.stdout.trim()) as Row;
      expect(row.index).toBe(i);
      expect(row.set).toEqual(points[i]);
      expect(row.loss).toBe(rows[i]!.loss);
    }
    // A manifest that breaks the schema is refused by the same validation.
    const broken = { ...job, spec: { ...job.spec, completionMode: 'Sometimes' } };
    expect(() => new Job(broken).validate()).toThrow();
  }, 240_000);
});
