// `npm run bench:mnist`: the whole MNIST MLP run (graphs/mnist_mlp.yaml: load the IDX files,
// compile, 5 epochs of Adam at batch 64, evaluate the 2,000 test digits) as a user runs it,
// `graph-run` in a child process, against the same model as a PyTorch script on one thread
// (bench/py/mnist_mlp.py), interleaved, several runs each. `--graph graphs/mnist_cnn.yaml`
// runs the CNN example against bench/py/mnist_cnn.py (2 threads) instead. Wall time covers each whole process
// (Node's or Python's start, imports, data, training, evaluation); peak RSS comes from the
// kernel's accounting of the child (/usr/bin/time when present).
//   npm run bench:mnist [-- --runs N] [--json] [--python PATH] [--graph FILE]
// Needs the data: `npm run data:mnist`. Without Python and torch the PyTorch rows are absent.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { median } from './stats.js';

function arg(name: string, def: string): string {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 && process.argv[k + 1] !== undefined ? process.argv[k + 1]! : def;
}
const runs = Number(arg('runs', '3'));
const graph = arg('graph', 'graphs/mnist_mlp.yaml');
const python = arg('python', process.env.GRAPH_RUN_PYTHON ?? 'python3');
const json = process.argv.includes('--json');
/** The PyTorch script of the same model: bench/py/<graph's name>.py. */
const script = `bench/py/${basename(graph, '.yaml')}.py`;
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

interface Run {
  wall_s: number;
  rss_mb?: number;
  accuracy?: number;
}

function timed(cmd: string, args: string[], parse: (out: string) => number | undefined): Run | null {
  const full = timeBin ? [timeBin, ['-f', 'RSS_KB %M', cmd, ...args]] : [cmd, args];
  const t0 = performance.now();
  const r = spawnSync(full[0] as string, full[1] as string[], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall_s = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    process.stderr.write(`${cmd} ${args.join(' ')} failed (${r.status}):\n${(r.stderr ?? '').slice(-2000)}\n`);
    return null;
  }
  const rss = /RSS_KB (\d+)/.exec(r.stderr ?? '');
  return { wall_s, rss_mb: rss ? Number(rss[1]) / 1024 : undefined, accuracy: parse(r.stdout) };
}

const graphRun = (): Run | null =>
  timed(process.execPath, ['bin/graph-run.js', graph, '--json'], (out) => {
    const doc = JSON.parse(out);
    const last = doc.losses?.[doc.losses.length - 1];
    return last?.val_accuracy;
  });

const torchAvailable =
  spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0 && existsSync(script);
const pytorch = (): Run | null => timed(python, [script, 'graphs/data/mnist'], (out) => JSON.parse(out).test_accuracy);

if (!existsSync('graphs/data/mnist/train-images-idx3-ubyte')) {
  console.error('no MNIST data: run `npm run data:mnist` first');
  process.exit(1);
}
const g: Run[] = [],
  p: Run[] = [];
for (let i = 0; i < runs; i++) {
  const a = graphRun();
  if (a) g.push(a);
  if (torchAvailable) {
    const b = pytorch();
    if (b) p.push(b);
  }
}
const summary = (rs: Run[]) =>
  rs.length === 0
    ? null
    : {
        wall_s: median(rs.map((r) => r.wall_s)),
        rss_mb: rs[0]!.rss_mb === undefined ? undefined : median(rs.map((r) => r.rss_mb!)),
        accuracy: rs[rs.length - 1]!.accuracy,
        runs: rs.map((r) => +r.wall_s.toFixed(3)),
      };
const out = {
  graph,
  'graph-run': summary(g),
  pytorch: summary(p),
  ratio: g.length && p.length ? median(p.map((r) => r.wall_s)) / median(g.map((r) => r.wall_s)) : undefined,
};
if (json) console.log(JSON.stringify(out, null, 2));
else {
  const row = (name: string, s: ReturnType<typeof summary>) =>
    s
      ? `${name.padEnd(10)} ${s.wall_s.toFixed(2).padStart(7)} s  ${s.rss_mb === undefined ? '' : `${s.rss_mb.toFixed(0).padStart(6)} MB`}  accuracy ${s.accuracy?.toFixed(4)}  runs ${s.runs.join(', ')}`
      : `${name.padEnd(10)} (not run)`;
  console.log(`${graph} against ${script}, whole process, median of ${runs}`);
  console.log(row('graph-run', out['graph-run']));
  console.log(row('pytorch', out.pytorch));
  if (out.ratio !== undefined) console.log(`graph-run is ${out.ratio.toFixed(2)}x PyTorch's speed (>1: faster)`);
}
