// IR -> YAML in graph-run's own format. `graph-run grad` prints the reverse graph this way:
// forward nodes, loss and gradient nodes with concrete shapes, the gradients as outputs and
// the values they were taken at as `feed`, so the printed graph validates and runs as is.

import { Document, isMap, isSeq } from 'yaml';
import { initFileValues } from '../data/index.js';
import type { IRGraph } from '../ir/graph.js';
import type { IRNode } from '../ir/types.js';
import type { Init } from '../load/model.js';

export interface EmitOptions {
  name: string;
  description: string;
  /** Result name -> node. */
  outputs: Map<string, string>;
  /** Input values (flat) for `feed:`, by input name. */
  feed?: Map<string, number[]>;
  /** Current parameter values, written as explicit initial values. */
  params?: Map<string, ArrayLike<number>>;
  /** Current values of the model's state nodes, written as frozen parameters. */
  state?: Map<string, ArrayLike<number>>;
  header?: string;
}

function nest(flat: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [d, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  const out: unknown[] = [];
  for (let i = 0; i < d!; i++)
    out.push(nest(Array.prototype.slice.call(flat, i * step, (i + 1) * step) as number[], rest));
  return out;
}

function constValue(n: IRNode): number | undefined {
  return n.op === 'const' && typeof n.attrs.value === 'number' && n.type.shape.length === 0
    ? (n.attrs.value as number)
    : undefined;
}

/** The nodes needed for `outputs`, as a YAML document in graph-run's format. */
export function emitYaml(g: IRGraph, opts: EmitOptions): string {
  const needed = g.ancestors(opts.outputs.values());
  const doc: Record<string, unknown> = { 'graph-run': 1, name: opts.name, description: opts.description };
  const inputs: Record<string, unknown> = {};
  const params: Record<string, unknown> = {};
  const nodes: unknown[] = [];
  const ref = (name: string): string | number => constValue(g.node(name)) ?? name;
  for (const name of needed) {
    const n = g.node(name);
    switch (n.op) {
      case 'input':
        inputs[name] = n.type.dtype === 'i32' ? { shape: n.type.shape, dtype: 'i32' } : { shape: n.type.shape };
        break;
      case 'param': {
        const v = opts.params?.get(name);
        const declared = n.attrs.init as Init;
        // Values in a file are read now: the printed graph carries them (it has no file beside it).
        const fromFile = declared.kind === 'file' && initFileValues({ name, shape: n.type.shape, init: declared });
        const init = v
          ? { values: nest(v, n.type.shape) }
          : fromFile
            ? { values: nest(fromFile, n.type.shape) }
            : (declared as { kind: string; value?: number; values?: number[] });
        params[name] = {
          shape: n.type.shape,
          init:
            'kind' in init
              ? init.kind === 'constant'
                ? init.value
                : { values: nest(init.values!, n.type.shape) }
              : init,
        };
        break;
      }
      case 'const':
        if (constValue(n) === undefined) {
          // A shaped constant (the seed of a non-scalar output): a broadcast of its value.
          nodes.push({
            name: safeName(name),
            op: 'broadcast_to',
            inputs: [n.attrs.value as number],
            attrs: { shape: n.type.shape },
          });
        }
        break;
      case 'state': {
        // The model's state (running statistics) as it is now, read as a frozen parameter: the
        // printed graph has no training step to update it.
        const v = opts.state?.get(name);
        if (!v) throw new Error('optimizer state cannot be emitted as a standalone graph');
        params[name] = { shape: n.type.shape, init: { values: nest(v, n.type.shape) }, trainable: false };
        break;
      }
      default: {
        const node: Record<string, unknown> = {
          name,
          op: n.op,
          inputs: n.inputs.map((i) => (constValue(g.node(i)) !== undefined ? ref(i) : safeName(i))),
        };
        if (Object.keys(n.attrs).length) node.attrs = n.attrs;
        nodes.push(node);
      }
    }
  }
  if (Object.keys(inputs).length) doc.inputs = inputs;
  if (Object.keys(params).length) doc.params = params;
  doc.nodes = nodes;
  doc.outputs = Object.fromEntries([...opts.outputs].map(([k, v]) => [safeKey(k), ref(v)]));
  if (opts.feed && [...opts.feed.keys()].some((k) => k in inputs)) {
    doc.feed = Object.fromEntries(
      [...opts.feed].filter(([k]) => k in inputs).map(([k, v]) => [k, nest(v, g.node(k).type.shape)]),
    );
  }
  // One node (one input, one parameter) per line, as hand-written graphs read.
  const ydoc = new Document(doc);
  const nodeSeq = ydoc.get('nodes');
  if (isSeq(nodeSeq)) for (const item of nodeSeq.items) (item as { flow?: boolean }).flow = true;
  for (const section of ['inputs', 'params', 'feed']) {
    const m = ydoc.get(section);
    if (isMap(m))
      for (const pair of m.items)
        if (pair.value && typeof pair.value === 'object') (pair.value as { flow?: boolean }).flow = true;
  }
  const text = ydoc.toString({ lineWidth: 0, flowCollectionPadding: false });
  return (
    (opts.header
      ? opts.header
          .split('\n')
          .map((l) => `# ${l}`)
          .join('\n') + '\n'
      : '') + text
  );
}

/** Constant names (#0.5@3) are not valid YAML graph names; give them one. */
function safeName(name: string): string {
  return name.startsWith('#') ? 'const_' + name.slice(1).replace(/[^A-Za-z0-9_]/g, '_') : name;
}

function safeKey(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, '_');
}
