// One graph-run node -> one line of PyTorch. Values are Python variables named after the nodes
// (pyNames), parameters `self.<name>`, numbers literals; a node whose inputs are all numbers
// stays a Python number (graph-run folds it in double precision too). Ops whose semantics a
// torch call does not give exactly (ties of maximum, a number as where's condition, slicing,
// dropout's seeded masks) call the package's support module, `gr`. An op with no PyTorch
// equivalent here is a PytorchExportError at the node.

import { GraphError, type SourceLoc } from '../errors.js';
import type { OpNodeDecl, Ref } from '../load/model.js';

/** A node the PyTorch exporter cannot write, positioned at the node. */
export class PytorchExportError extends GraphError {
  constructor(message: string, loc: SourceLoc | undefined, node?: string, hint?: string) {
    super('ExportError', message, loc, node, hint);
  }
}

const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield self torch F nn gr math batch step ctx inputs v values'.split(
    ' ',
  ),
);

/** Graph names -> Python identifiers: `/` becomes `__`, other characters `_`; clashes get a suffix. */
export class PyNames {
  readonly map = new Map<string, string>();
  private readonly used = new Set<string>();
  get(name: string): string {
    let id = this.map.get(name);
    if (id !== undefined) return id;
    const base = name.replace(/\//g, '__').replace(/[^A-Za-z0-9_]/g, '_');
    id = /^[0-9]/.test(base) || KEYWORDS.has(base) || base === '' ? `${base}_` : base;
    for (let k = 2; this.used.has(id); k++) id = `${base}_${k}`;
    this.used.add(id);
    this.map.set(name, id);
    return id;
  }
}

/** A number as a Python literal. */
export function pyNum(x: number): string {
  if (Number.isNaN(x)) return "float('nan')";
  if (!Number.isFinite(x)) return x > 0 ? "float('inf')" : "-float('inf')";
  return String(x);
}

/** A JSON-like attribute value as Python. */
export function pyValue(v: unknown): string {
  if (typeof v === 'number') return pyNum(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `(${v.map(pyValue).join(', ')}${v.length === 1 ? ',' : ''})`;
  if (v === null || v === undefined) return 'None';
  return JSON.stringify(v);
}

const unaryTorch: Record<string, string> = {
  abs: 'torch.abs',
  exp: 'torch.exp',
  log: 'torch.log',
  sqrt: 'torch.sqrt',
  rsqrt: 'torch.rsqrt',
  sin: 'torch.sin',
  cos: 'torch.cos',
  tanh: 'torch.tanh',
  sigmoid: 'torch.sigmoid',
  relu: 'torch.relu',
  erf: 'torch.erf',
  floor: 'torch.floor',
  sign: 'torch.sign',
  gelu: 'F.gelu',
  silu: 'F.silu',
  softplus: 'F.softplus',
};
/** Unary ops on numbers only (numpy's names), for nodes graph-run folds into constants. */
const unaryScalar: Record<string, string> = {
  abs: 'abs',
  exp: 'exp',
  log: 'log',
  sqrt: 'sqrt',
  sin: 'sin',
  cos: 'cos',
  tanh: 'tanh',
  floor: 'floor',
  sign: 'sign',
};
const binaryOps: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/', pow: '**' };
const compareOps = new Set(['equal', 'not_equal', 'greater', 'greater_equal', 'less', 'less_equal']);
const reduceTorch: Record<string, string> = {
  sum: 'torch.sum',
  mean: 'torch.mean',
  max: 'torch.amax',
  min: 'torch.amin',
  logsumexp: 'torch.logsumexp',
};

/** What a line needs to know about the graph around the node. */
export interface LineContext {
  /** The Python expression of a reference (variable, `self.param`, literal). */
  expr(r: Ref): string;
  /** Whether the reference is a plain Python number (a literal, or a node folded from literals). */
  isNumber(r: Ref): boolean;
  /** A dimension (a number, or an expression of `batch`) as Python. */
  dim(d: number | string, at: OpNodeDecl): string;
  /** The graph's seed (dropout nodes without their own). */
  seed: number;
}

const axisArg = (a: unknown): string => (Array.isArray(a) ? pyValue(a) : pyValue(a));

/**
 * The right-hand side of `name = ...` for `n`, or a PytorchExportError. Inputs the op does not
 * read in PyTorch (dropout's step counter: the forward's `ctx` carries it) are skipped.
 */
export function nodeExpr(n: OpNodeDecl, c: LineContext): string {
  const a = n.attrs;
  const x = (i: number) => c.expr(n.inputs[i]!);
  const allNumbers = n.inputs.every((r) => c.isNumber(r));
  const refuse = (why: string, hint?: string): never => {
    throw new PytorchExportError(`op "${n.op}" has no PyTorch equivalent: ${why}`, n.loc, n.name, hint);
  };
  if (n.op in binaryOps) {
    return `${x(0)} ${binaryOps[n.op]} ${x(1)}`;
  }
  if (n.op in unaryTorch || n.op === 'neg' || n.op === 'square') {
    if (n.op === 'neg') return `-${x(0)}`;
    if (n.op === 'square') return `${x(0)} * ${x(0)}`;
    if (allNumbers) {
      if (n.op === 'sigmoid') return `1 / (1 + gr.scalar('exp', -${x(0)}))`;
      if (n.op === 'relu') return `max(${x(0)}, 0.0)`;
      if (n.op === 'rsqrt') return `1 / gr.scalar('sqrt', ${x(0)})`;
      const s = unaryScalar[n.op];
      if (!s) refuse('it is applied to a number only; write the number instead');
      return `gr.scalar('${s}', ${x(0)})`;
    }
    return `${unaryTorch[n.op]}(${x(0)})`;
  }
  if (compareOps.has(n.op)) return `gr.compare('${n.op}', ${x(0)}, ${x(1)})`;
  if (allNumbers && n.op !== 'cast') {
    if (n.op === 'maximum' || n.op === 'minimum') return `${n.op === 'maximum' ? 'max' : 'min'}(${x(0)}, ${x(1)})`;
    if (n.op === 'where') return `gr.where(${x(0)}, ${x(1)}, ${x(2)})`;
    refuse('its inputs are all numbers');
  }
  switch (n.op) {
    case 'maximum':
    case 'minimum':
      return `gr.${n.op}(${x(0)}, ${x(1)})`;
    case 'where':
      return `gr.where(${x(0)}, ${x(1)}, ${x(2)})`;
    case 'leaky_relu':
      return `F.leaky_relu(${x(0)}, ${pyNum((a.negative_slope as number | undefined) ?? 0.01)})`;
    case 'clip':
      return `torch.clamp(${x(0)}, ${pyValue(a.min)}, ${pyValue(a.max)})`;
    case 'stop_gradient':
      return `${x(0)}.detach()`;
    case 'cast': {
      const d = a.dtype as string;
      if (allNumbers) return d === 'i32' ? `int(${x(0)})` : `float(${x(0)})`;
      const to = d === 'i32' ? 'torch.int64' : d === 'f32' ? 'torch.float32' : d === 'f64' ? 'torch.float64' : 'DTYPE';
      return `${x(0)}.to(${to})`;
    }
    case 'sum':
    case 'mean':
    case 'max':
    case 'min':
    case 'logsumexp': {
      const keep = a.keepdims === true;
      if (a.axis === undefined)
        return keep
          ? `${reduceTorch[n.op]}(${x(0)}, dim=tuple(range(${x(0)}.dim())), keepdim=True)`
          : n.op === 'logsumexp'
            ? `torch.logsumexp(${x(0)}.reshape(-1), 0)`
            : `${reduceTorch[n.op]}(${x(0)})`;
      return `${reduceTorch[n.op]}(${x(0)}, dim=${axisArg(a.axis)}${keep ? ', keepdim=True' : ''})`;
    }
    case 'argmax':
    case 'argmin':
      return `torch.${n.op}(${x(0)}, dim=${pyNum((a.axis as number | undefined) ?? -1)}${a.keepdims === true ? ', keepdim=True' : ''})`;
    case 'softmax':
    case 'log_softmax':
      return `torch.${n.op}(${x(0)}, dim=${pyNum((a.axis as number | undefined) ?? -1)})`;
    case 'matmul': {
      const t = [
        a.transpose_a === true ? ', transpose_a=True' : '',
        a.transpose_b === true ? ', transpose_b=True' : '',
      ];
      return `gr.matmul(${x(0)}, ${x(1)}${t.join('')})`;
    }
    case 'reshape':
      return `${x(0)}.reshape(${(a.shape as (number | string)[]).map((d) => c.dim(d, n)).join(', ')})`;
    case 'broadcast_to':
      return `torch.broadcast_to(${x(0)}, (${(a.shape as (number | string)[]).map((d) => c.dim(d, n)).join(', ')},))`;
    case 'transpose':
      return a.perm === undefined
        ? `${x(0)}.permute(*reversed(range(${x(0)}.dim())))`
        : `${x(0)}.permute(${(a.perm as number[]).join(', ')})`;
    case 'concat':
      return `torch.cat([${n.inputs.map((r) => c.expr(r)).join(', ')}], dim=${pyNum((a.axis as number | undefined) ?? 0)})`;
    case 'gather':
      return `torch.gather(${x(0)}, ${pyNum((a.axis as number | undefined) ?? -1)}, ${x(1)})`;
    case 'embedding':
      return `F.embedding(${x(1)}, ${x(0)})`;
    case 'one_hot':
      return `F.one_hot(${x(0)}, ${pyNum(a.classes as number)}).to(DTYPE)`;
    case 'slice': {
      const axes = (a.axes as number[] | undefined) ?? (a.starts as number[]).map((_, i) => i);
      return `gr.take(${x(0)}, ${pyValue(axes)}, ${pyValue(a.starts)}, ${pyValue(a.ends)}, ${pyValue(a.steps ?? null)})`;
    }
    case 'conv1d':
    case 'conv2d': {
      const bias = n.inputs.length > 2 ? `, ${x(2)}` : ', None';
      const kw = ['stride', 'padding', 'dilation', 'groups']
        .filter((k) => a[k] !== undefined)
        .map((k) => `, ${k}=${pyValue(a[k])}`)
        .join('');
      return `gr.conv(${n.op === 'conv2d' ? 2 : 1}, ${x(0)}, ${x(1)}${bias}${kw})`;
    }
    case 'max_pool2d':
    case 'avg_pool2d': {
      const kw = ['stride', 'padding', 'ceil_mode', 'count_include_pad']
        .filter((k) => a[k] !== undefined)
        .map((k) => `, ${k}=${pyValue(a[k])}`)
        .join('');
      return `F.${n.op}(${x(0)}, ${pyValue(a.kernel)}${kw})`;
    }
    case 'tri':
      return `gr.tri(${n.inputs.length ? x(0) : 'None'}, ${pyValue(a.n ?? null)}, ${pyNum((a.axis as number | undefined) ?? -1)}, ${pyNum((a.k as number | undefined) ?? 0)}, DTYPE)`;
    case 'masked_softmax':
      return `gr.masked_softmax(${x(0)}, ${x(1)}, ${pyNum((a.axis as number | undefined) ?? -1)})`;
    case 'dropout':
      return `gr.dropout(${x(0)}, ${pyNum(a.p as number)}, ${pyNum((a.seed as number | undefined) ?? c.seed)}, ${JSON.stringify((a.stream as string | undefined) ?? n.name)}, ctx)`;
    case 'is_training':
      return 'gr.is_training(ctx)';
    case 'sample':
      return refuse(
        "its draws come from graph-run's seeded stream per row and counter, which torch.multinomial does not reproduce",
        'sample in graph-run (`graph-run generate`, predictions) and export the model without the sampling node',
      );
    default:
      return refuse(
        'the PyTorch exporter does not map it',
        `ops it maps: ${[...Object.keys(binaryOps), ...Object.keys(unaryTorch), ...compareOps].slice(0, 8).join(', ')}, ... (docs/export-pytorch.md lists them)`,
      );
  }
}

/** The ops nodeExpr writes, for docs and messages. */
export const pytorchOps: string[] = [
  ...Object.keys(binaryOps),
  ...Object.keys(unaryTorch),
  'neg',
  'square',
  ...compareOps,
  'maximum',
  'minimum',
  'where',
  'leaky_relu',
  'clip',
  'stop_gradient',
  'cast',
  ...Object.keys(reduceTorch),
  'argmax',
  'argmin',
  'softmax',
  'log_softmax',
  'matmul',
  'reshape',
  'broadcast_to',
  'transpose',
  'concat',
  'gather',
  'embedding',
  'one_hot',
  'slice',
  'conv1d',
  'conv2d',
  'max_pool2d',
  'avg_pool2d',
  'dropout',
  'is_training',
  'tri',
  'masked_softmax',
].sort();
