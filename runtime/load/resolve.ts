// Resolution: a schema-valid graph document -> Model. Inlines subgraphs (losses, optimizers,
// layers) with their names prefixed, binds attributes, checks names (unknown, duplicate),
// op names and op attributes, and orders nodes topologically (cycles are errors).
// Every problem becomes a positioned GraphError; all of them are collected.

import Ajv, { type ValidateFunction } from 'ajv';
import Graph from 'graphology';
import { stronglyConnectedComponents } from 'graphology-components';
import {
  AttrError,
  CycleError,
  DataError,
  NameError,
  SubgraphError,
  type GraphError,
  type SourceLoc,
} from '../errors.js';
import { getOp, graphOpNames, userOpNames } from '../ops/registry.js';
import { suggest } from './hint.js';
import type {
  Dim,
  InputDecl,
  InputDType,
  Located,
  Model,
  OpNodeDecl,
  ParamDecl,
  ParamUpdate,
  Ref,
  StateDecl,
  TrainingDecl,
} from './model.js';
import { checkSchema } from './schema.js';
import { readDataFile, readInitFile, type DataFileSpec } from '../train/files.js';
import { randomInit, type RandomInitSpec } from '../train/init.js';
import { SourceFile, type Path } from './source.js';

/** How the loader reads files: Node's fs by default, anything else in a browser. */
export interface LoaderIO {
  read(path: string): string;
  resolve(from: string, spec: string): string;
}

interface NodeDoc {
  name?: string;
  op?: string;
  graph?: string;
  inputs?: unknown;
  attrs?: Record<string, unknown>;
  with?: Record<string, number>;
  device?: 'cpu' | 'webgpu';
}

interface GraphDoc {
  name?: string;
  device?: 'cpu' | 'webgpu' | 'auto';
  attrs?: Record<
    string,
    { default?: number; minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number }
  >;
  inputs?: Record<string, { shape?: Dim[]; dtype?: InputDType }>;
  seed?: number;
  params?: Record<
    string,
    {
      shape: Dim[];
      init: number | ({ constant?: number; values?: unknown[]; file?: string } & RandomInitSpec);
      trainable?: boolean;
    }
  >;
  state?: Record<string, { shape?: Dim[]; init?: number | string }>;
  nodes?: NodeDoc[];
  outputs?: string[] | Record<string, string>;
  loss?: NodeDoc;
  optimizer?: OptimizerDoc;
  training?: {
    data: Record<string, unknown[]> | DataFileSpec;
    epochs: number;
    batch_size?: number;
    log_every?: number;
    validation?: { split?: number; file?: string; columns?: DataFileSpec['columns']; data?: Record<string, unknown[]> };
    shuffle?: boolean;
    accuracy?: { pred: string; target: string; threshold?: number };
  };
  predict?: Record<string, Record<string, unknown>>;
  feed?: Record<string, unknown>;
  gradients?: { of: string; wrt: string[] };
}

interface OptimizerDoc {
  graph: string;
  with?: Record<string, number>;
  /** Per-parameter options: name pattern (`*` any characters) -> `with` overrides, or trainable: false. */
  params?: Record<string, Record<string, number | boolean>>;
  schedule?: { graph: string; with?: Record<string, number>; every?: 'epoch' | 'step' };
  clip_grad_norm?: number;
}

interface Loaded {
  file: SourceFile;
  doc: GraphDoc;
}

/** How a subgraph is being used: its bindings and attribute values, with their positions. */
interface Use {
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

interface Expansion {
  nodes: OpNodeDecl[];
  params: ParamDecl[];
  state: StateDecl[];
  inputs: InputDecl[];
  outputs: Map<string, Ref>;
  /** Resolve a name in this graph's scope (used for the top level's loss, outputs, gradients). */
  resolve: (name: Ref, loc: SourceLoc, node?: string) => Ref | undefined;
  names: () => string[];
}

const attrValidators = new Map<string, ValidateFunction>();
// One ajv instance for every op: creating an instance costs as much as compiling a schema.
let attrAjv: InstanceType<typeof Ajv.default> | undefined;
function attrValidator(op: string, schema: object): ValidateFunction {
  let v = attrValidators.get(op);
  if (!v) {
    attrAjv ??= new Ajv.default({ allErrors: true, strict: false });
    v = attrAjv.compile(schema);
    attrValidators.set(op, v);
  }
  return v;
}

/** The nested-list value's shape and flat contents, or an error message. */
export function flatten(v: unknown): { shape: number[]; values: number[] } | string {
  if (typeof v === 'number') return { shape: [], values: [v] };
  if (!Array.isArray(v)) return `expected a number or a list, got ${v === null ? 'null' : typeof v}`;
  if (v.length === 0) return { shape: [0], values: [] };
  const parts = v.map(flatten);
  const bad = parts.find((p) => typeof p === 'string');
  if (bad !== undefined) return bad as string;
  const first = parts[0] as { shape: number[]; values: number[] };
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] as { shape: number[] };
    if (p.shape.join(',') !== first.shape.join(','))
      return `ragged list: item ${i} has shape [${p.shape.join(', ')}], item 0 has [${first.shape.join(', ')}]`;
  }
  return { shape: [v.length, ...first.shape], values: parts.flatMap((p) => (p as { values: number[] }).values) };
}

export class Loader {
  readonly errors: GraphError[] = [];
  private cache = new Map<string, Loaded | null>();
  /** The top-level graph's seed (dropout nodes take it). */
  private seed = 0;
  /** Inputs the runtime feeds that some node reads (docs: InputDecl.provided). */
  private readonly runtime = new Set<'epoch' | 'step'>();

  constructor(private readonly io: LoaderIO) {}

  /** Parse and schema-check one file (cached); null when it has errors (already recorded). */
  loadFile(path: string, text?: string, usedFrom?: SourceLoc): Loaded | null {
    if (this.cache.has(path)) return this.cache.get(path)!;
    let src = text;
    if (src === undefined) {
      try {
        src = this.io.read(path);
      } catch {
        this.errors.push(
          new SubgraphError(
            `cannot read graph file "${path}"`,
            usedFrom,
            undefined,
            "check the path: it is relative to the file that uses it; std: names graph-run's own graphs/lib",
          ),
        );
        this.cache.set(path, null);
        return null;
      }
    }
    const parsed = SourceFile.parse(path, src);
    if (Array.isArray(parsed)) {
      this.errors.push(...parsed.map((e) => withVia(e, usedFrom)));
      this.cache.set(path, null);
      return null;
    }
    const errs = checkSchema(parsed);
    if (parsed.value === null || typeof parsed.value !== 'object') {
      this.errors.push(...errs.map((e) => withVia(e, usedFrom)));
      this.cache.set(path, null);
      return null;
    }
    if (errs.length) {
      this.errors.push(...errs.map((e) => withVia(e, usedFrom)));
      this.cache.set(path, null);
      return null;
    }
    const loaded = { file: parsed, doc: parsed.value as GraphDoc };
    this.cache.set(path, loaded);
    return loaded;
  }

  /** Load a top-level graph file (or text) into a Model; errors accumulate in `this.errors`. */
  loadModel(path: string, text?: string): Model | null {
    const top = this.loadFile(path, text);
    if (!top) return null;
    const { file, doc } = top;
    const L = (p: Path, key = false) => file.loc(p, key);
    this.seed = doc.seed ?? 0;
    const ex = this.expand(top, null, [path]);
    // The loss: one more node in the top-level scope, kept apart so predictions need no targets.
    let loss: Model['loss'];
    const lossName = doc.loss?.name ?? 'loss';
    if (doc.loss && doc.loss.graph === undefined && ex.names().includes(lossName)) {
      // The loss node lives in the graph's scope: its name must be free (else it shadows, or reads, itself).
      this.errors.push(
        new NameError(
          `duplicate name "${lossName}": the loss is a node named "${lossName}" too`,
          L(doc.loss.name ? ['loss', 'name'] : ['loss'], !doc.loss.name),
          lossName,
          'give the loss another name with `name:` under loss:',
        ),
      );
    } else if (doc.loss) {
      const before = ex.nodes.length;
      const ref = this.node(top, doc.loss, ['loss'], lossName, '', [], ex, [path]);
      const lossNodes = ex.nodes.splice(before);
      if (ref !== undefined) loss = { ref, nodes: lossNodes, loc: L(['loss']) };
    }
    const outputs: Model['outputs'] = [];
    const outs = doc.outputs ?? [];
    const entries: [string, string, Path][] = Array.isArray(outs)
      ? outs.map((o, i) => [o, o, ['outputs', i]])
      : Object.entries(outs).map(([k, v]) => [k, v, ['outputs', k]]);
    for (const [name, target, p] of entries) {
      const ref = ex.resolve(target, L(p));
      if (ref !== undefined) outputs.push({ name, ref, loc: L(p) });
    }
    const { updates, gradNodes } = doc.optimizer
      ? this.optimizer(top, ex, loss !== undefined)
      : { updates: [], gradNodes: [] };
    const training = doc.training ? this.training(file, doc.training, ex) : undefined;
    const locate = (p: Path, v: unknown): Located<unknown> => ({ value: v, loc: L(p), itemLoc: (i) => L([...p, i]) });
    const predict = Object.entries(doc.predict ?? {}).map(([name, feed]) => ({
      name,
      feed: new Map(Object.entries(feed).map(([k, v]) => [k, locate(['predict', name, k], v)])),
      loc: L(['predict', name], true),
    }));
    const feed = doc.feed ? new Map(Object.entries(doc.feed).map(([k, v]) => [k, locate(['feed', k], v)])) : undefined;
    let gradients: Model['gradients'];
    if (doc.gradients) {
      const of = ex.resolve(doc.gradients.of, L(['gradients', 'of']));
      const wrt: NonNullable<Model['gradients']>['wrt'] = [];
      doc.gradients.wrt.forEach((w, i) => {
        const loc = L(['gradients', 'wrt', i]);
        const r = ex.resolve(w, loc);
        if (r === undefined) return;
        const isLeaf =
          typeof r === 'string' && (ex.inputs.some((x) => x.name === r) || ex.params.some((x) => x.name === r));
        if (!isLeaf) {
          this.errors.push(
            new NameError(`gradients are taken with respect to inputs or parameters; "${w}" is neither`, loc),
          );
          return;
        }
        wrt.push({ ref: r as string, name: w, loc });
      });
      if (of !== undefined) gradients = { of, wrt, loc: L(['gradients'], true) };
    }
    const nodes = this.topoSort(ex.nodes);
    const lossSorted = loss ? { ...loss, nodes: this.topoSort(loss.nodes) } : undefined;
    const model: Model = {
      file: path,
      name: doc.name ?? path.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
      inputs: ex.inputs,
      params: ex.params,
      nodes,
      outputs,
      updates,
      predict,
    };
    if (lossSorted) model.loss = lossSorted;
    if (gradNodes.length) model.gradNodes = gradNodes;
    if (this.runtime.size)
      model.runtime = [...this.runtime].map((kind) => ({
        name: `__${kind}`,
        shape: [],
        dtype: 'float',
        loc: L([]),
        provided: kind,
      }));
    if (doc.seed !== undefined) model.seed = doc.seed;
    if (training) model.training = training;
    if (feed) model.feed = feed;
    if (gradients) model.gradients = gradients;
    if (doc.device) model.device = { choice: doc.device, loc: file.loc(['device']) };
    return model;
  }

  /**
   * The optimizer section: the optimizer graph expanded once per trainable parameter, with its
   * per-parameter options and, under a schedule, the schedule graph computing its `lr`; and the
   * nodes that clip all gradients by their global norm (torch.nn.utils.clip_grad_norm_).
   */
  private optimizer(top: Loaded, ex: Expansion, hasLoss: boolean): { updates: ParamUpdate[]; gradNodes: OpNodeDecl[] } {
    const { file, doc } = top;
    const path = file.path;
    const o = doc.optimizer!;
    const L = (p: Path, key = false) => file.loc(p, key);
    const updates: ParamUpdate[] = [];
    const gradNodes: OpNodeDecl[] = [];
    if (!hasLoss)
      this.errors.push(
        new SubgraphError(
          'an optimizer needs a loss to minimise',
          L(['optimizer'], true),
          undefined,
          'add a `loss:` section',
        ),
      );
    const optPath = this.io.resolve(path, o.graph);
    const opt = this.loadFile(optPath, undefined, L(['optimizer', 'graph']));
    if (opt) this.checkOptimizerContract(opt, L(['optimizer', 'graph']));

    // Per-parameter options; later patterns override earlier ones.
    const overrides = new Map<string, { values: Record<string, number>; at: Map<string, SourceLoc> }>();
    for (const [pattern, opts] of Object.entries(o.params ?? {})) {
      const re = new RegExp(
        '^' +
          pattern
            .split('*')
            .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*') +
          '$',
      );
      const hits = ex.params.filter((p) => re.test(p.name));
      if (!hits.length) {
        this.errors.push(
          new NameError(
            `no parameter matches "${pattern}"`,
            L(['optimizer', 'params', pattern], true),
            undefined,
            suggest(
              pattern,
              ex.params.map((p) => p.name),
              'parameters',
            ),
          ),
        );
      }
      for (const p of hits) {
        const cur = overrides.get(p.name) ?? { values: {}, at: new Map<string, SourceLoc>() };
        for (const [k, v] of Object.entries(opts)) {
          if (k === 'trainable') {
            if (v === false) p.trainable = false;
            continue;
          }
          cur.values[k] = v as number;
          cur.at.set(k, L(['optimizer', 'params', pattern, k], true));
        }
        overrides.set(p.name, cur);
      }
    }

    let sched: Loaded | null = null;
    const schedPath = o.schedule ? this.io.resolve(path, o.schedule.graph) : '';
    if (o.schedule) {
      sched = this.loadFile(schedPath, undefined, L(['optimizer', 'schedule', 'graph']));
      if (sched) {
        const at = L(['optimizer', 'schedule', 'graph']);
        const outs = sched.doc.outputs ?? [];
        const hint =
          'a schedule graph takes input `t` (epochs or steps done) and attribute `lr` (the base rate), and outputs `lr`';
        if (!('t' in (sched.doc.inputs ?? {})))
          this.errors.push(new SubgraphError(`schedule graph ${schedPath} has no input "t"`, at, undefined, hint));
        if (!('lr' in (sched.doc.attrs ?? {})))
          this.errors.push(new SubgraphError(`schedule graph ${schedPath} has no attribute "lr"`, at, undefined, hint));
        if (!(Array.isArray(outs) ? outs : Object.keys(outs)).includes('lr'))
          this.errors.push(new SubgraphError(`schedule graph ${schedPath} has no output "lr"`, at, undefined, hint));
      }
    }
    if (!opt || this.errors.length) return { updates, gradNodes };
    const trainable = ex.params.filter((q) => q.trainable);

    // Clipping: total = ||(||g_1||, ..., ||g_n||)||, every g scaled by min(max_norm / (total + 1e-6), 1).
    const gradOf = new Map<string, Ref>(trainable.map((p) => [p.name, `grad/${p.name}`]));
    if (o.clip_grad_norm !== undefined && trainable.length) {
      const at = L(['optimizer', 'clip_grad_norm']);
      const node = (name: string, op: string, inputs: Ref[]): string => {
        gradNodes.push({ name: `clip/${name}`, op, inputs, attrs: {}, loc: at });
        return `clip/${name}`;
      };
      const norms = trainable.map((p) =>
        node(`${p.name}/norm`, 'sqrt', [
          node(`${p.name}/sumsq`, 'sum', [node(`${p.name}/sq`, 'square', [`grad/${p.name}`])]),
        ]),
      );
      let total: Ref = node('norm0/sq', 'square', [norms[0]!]);
      norms
        .slice(1)
        .forEach((n, i) => (total = node(`norms/add${i + 1}`, 'add', [total, node(`norm${i + 1}/sq`, 'square', [n])])));
      total = node('total_norm', 'sqrt', [total]);
      // 1e-6 keeps the division finite for all-zero gradients (PyTorch's constant).
      const coef = node('coef', 'div', [o.clip_grad_norm, node('total_norm_eps', 'add', [total, 1e-6])]);
      const clamped = node('coef_clamped', 'minimum', [coef, 1]);
      for (const p of trainable) gradOf.set(p.name, node(`${p.name}/grad`, 'mul', [`grad/${p.name}`, clamped]));
    }

    for (const p of trainable) {
      const over = overrides.get(p.name);
      const withValues = { ...(o.with ?? {}), ...(over?.values ?? {}) };
      const withLoc = (n: string) => over?.at.get(n) ?? L(['optimizer', 'with', n], true);
      const prefix = `optimizer/${p.name}/`;
      const before: OpNodeDecl[] = [];
      const attrRefs = new Map<string, Ref>();
      const baseLr = withValues.lr ?? opt.doc.attrs?.lr?.default;
      if (sched && o.schedule && baseLr !== undefined) {
        let t: Ref;
        if ((o.schedule.every ?? 'epoch') === 'step') {
          // t counts the steps done before this one; __step is 1-based.
          this.runtime.add('step');
          t = `${prefix}schedule_t`;
          before.push({
            name: t,
            op: 'sub',
            inputs: ['__step', 1],
            attrs: {},
            loc: L(['optimizer', 'schedule', 'every']),
          });
        } else {
          this.runtime.add('epoch');
          t = '__epoch';
        }
        const su: Use = {
          prefix: `${prefix}schedule/`,
          bindings: new Map<string, Ref>([['t', t]]),
          bindingLoc: () => L(['optimizer', 'schedule', 'graph']),
          with: { ...(o.schedule.with ?? {}), lr: baseLr },
          withLoc: (n) => (n === 'lr' ? withLoc('lr') : L(['optimizer', 'schedule', 'with', n], true)),
          loc: L(['optimizer', 'schedule', 'graph']),
          via: [L(['optimizer', 'schedule', 'graph'])],
        };
        const se = this.expand(sched, su, [path, schedPath]);
        before.push(...se.nodes);
        const lr = se.outputs.get('lr');
        if (lr !== undefined) attrRefs.set('lr', lr);
      }
      const use: Use = {
        prefix,
        bindings: new Map<string, Ref>([
          ['param', p.name],
          ['grad', gradOf.get(p.name)!],
        ]),
        bindingLoc: () => L(['optimizer', 'graph']),
        with: withValues,
        withLoc,
        loc: L(['optimizer', 'graph']),
        via: [L(['optimizer', 'graph'])],
        paramShape: p.shape,
        attrRefs,
      };
      const oe = this.expand(opt, use, [path, optPath]);
      const newParam = oe.outputs.get('param');
      if (newParam === undefined) continue;
      const newState = new Map<string, Ref>();
      for (const s of Object.keys(opt.doc.state ?? {})) {
        const r = oe.outputs.get(s);
        if (r !== undefined) newState.set(use.prefix + s, r);
      }
      updates.push({
        param: p.name,
        gradRef: `grad/${p.name}`,
        nodes: this.topoSort([...before, ...oe.nodes]),
        state: oe.state,
        newParam,
        newState,
      });
    }
    return { updates, gradNodes };
  }

  private checkOptimizerContract(opt: Loaded, loc: SourceLoc): void {
    const ins = Object.keys(opt.doc.inputs ?? {});
    const outs = opt.doc.outputs ?? [];
    const outNames = Array.isArray(outs) ? outs : Object.keys(outs);
    for (const need of ['param', 'grad']) {
      if (!ins.includes(need))
        this.errors.push(
          new SubgraphError(
            `optimizer graph ${opt.file.path} has no input "${need}"`,
            loc,
            undefined,
            'an optimizer graph takes inputs `param` and `grad` and outputs `param`',
          ),
        );
    }
    if (!outNames.includes('param'))
      this.errors.push(
        new SubgraphError(
          `optimizer graph ${opt.file.path} has no output "param"`,
          loc,
          undefined,
          'an optimizer graph outputs the new value as `param`',
        ),
      );
  }

  private training(file: SourceFile, t: NonNullable<GraphDoc['training']>, ex: Expansion): TrainingDecl {
    const inline = (rows: Record<string, unknown[]>, p: Path) => {
      const data = new Map<string, Located<unknown[]>>();
      for (const [k, v] of Object.entries(rows)) {
        data.set(k, { value: v, loc: file.loc([...p, k], true), itemLoc: (i) => file.loc([...p, k, i]) });
      }
      return data;
    };
    let unread = false;
    const fromFile = (spec: DataFileSpec, p: Path) => {
      const d = readDataFile(this.io, file.path, spec, ex.inputs, (q, key) => file.loc([...p, ...q], key), this.errors);
      if (!d) unread = true;
      return d ?? new Map<string, Located<unknown[]>>();
    };
    const isFile = (d: unknown): d is DataFileSpec => typeof (d as { file?: unknown }).file === 'string';
    const data = isFile(t.data) ? fromFile(t.data, ['training', 'data']) : inline(t.data, ['training', 'data']);
    const loc = file.loc(['training'], true);
    const extra: Partial<TrainingDecl> = {};
    if (t.shuffle) extra.shuffle = true;
    const v = t.validation;
    if (v) {
      const vloc = file.loc(['training', 'validation'], true);
      if (v.split !== undefined) extra.validation = { split: v.split, loc: vloc };
      else if (v.file !== undefined) {
        // Columns default to the training file's.
        const columns = v.columns ?? (isFile(t.data) ? t.data.columns : undefined);
        extra.validation = {
          data: fromFile({ file: v.file, ...(columns ? { columns } : {}) }, ['training', 'validation']),
          loc: vloc,
        };
      } else if (v.data) extra.validation = { data: inline(v.data, ['training', 'validation', 'data']), loc: vloc };
    }
    if (unread) extra.unread = true;
    if (t.accuracy) {
      const aloc = file.loc(['training', 'accuracy'], true);
      const pred = ex.resolve(t.accuracy.pred, file.loc(['training', 'accuracy', 'pred']));
      const target = t.accuracy.target;
      if (!ex.inputs.some((i) => i.name === target)) {
        this.errors.push(
          new NameError(
            `accuracy target "${target}" is not an input`,
            file.loc(['training', 'accuracy', 'target']),
            undefined,
            suggest(
              target,
              ex.inputs.map((i) => i.name),
              'inputs',
            ),
          ),
        );
      } else if (pred !== undefined)
        extra.accuracy = { pred, target, threshold: t.accuracy.threshold ?? 0.5, loc: aloc };
    }
    const batchSizeLoc = t.batch_size === undefined ? loc : file.loc(['training', 'batch_size']);
    return {
      data,
      epochs: t.epochs,
      batchSize: t.batch_size ?? 1,
      logEvery: t.log_every ?? 1,
      loc,
      batchSizeLoc,
      ...extra,
    };
  }

  /**
   * Expand one graph document. `use` is null for the top level (inputs are declared) and
   * describes the binding otherwise. `stack` holds the files being expanded (recursion check).
   */
  private expand(g: Loaded, use: Use | null, stack: string[]): Expansion {
    const { file, doc } = g;
    const via = use ? [use.loc, ...use.via.slice(1)] : [];
    const L = (p: Path, key = false): SourceLoc => {
      const l = file.loc(p, key);
      return via.length ? { ...l, via } : l;
    };
    const prefix = use?.prefix ?? '';
    const ex: Expansion = {
      nodes: [],
      params: [],
      state: [],
      inputs: [],
      outputs: new Map(),
      resolve: () => undefined,
      names: () => [],
    };

    // Attributes: numbers bound by `with:` (or defaults).
    const env = new Map<string, number>();
    const attrDecls = doc.attrs ?? {};
    for (const [name, spec] of Object.entries(attrDecls)) {
      const v = use?.with[name] ?? spec.default;
      if (v === undefined) {
        this.errors.push(
          new AttrError(
            `${file.path} needs a value for attribute "${name}"`,
            use?.loc ?? L(['attrs', name], true),
            undefined,
            `add it under with:, e.g. with: {${name}: ...}`,
          ),
        );
        continue;
      }
      const at = use && use.with[name] !== undefined ? use.withLoc(name) : L(['attrs', name], true);
      const bad =
        (spec.minimum !== undefined && v < spec.minimum && `at least ${spec.minimum}`) ||
        (spec.exclusiveMinimum !== undefined &&
          v <= spec.exclusiveMinimum &&
          `greater than ${spec.exclusiveMinimum}`) ||
        (spec.maximum !== undefined && v > spec.maximum && `at most ${spec.maximum}`) ||
        (spec.exclusiveMaximum !== undefined && v >= spec.exclusiveMaximum && `less than ${spec.exclusiveMaximum}`);
      if (bad) this.errors.push(new AttrError(`attribute "${name}" is ${v}; it must be ${bad}`, at));
      env.set(name, v);
    }
    for (const name of Object.keys(use?.with ?? {})) {
      if (!(name in attrDecls))
        this.errors.push(
          new AttrError(
            `${file.path} has no attribute "${name}"`,
            use!.withLoc(name),
            undefined,
            suggest(name, Object.keys(attrDecls), 'attributes'),
          ),
        );
    }

    // The scope: every name this file declares, once.
    type Entry =
      | { kind: 'attr'; value: number }
      | { kind: 'input' | 'param' | 'state' | 'node'; ref: Ref }
      | { kind: 'use'; index: number; expanded?: Map<string, Ref>; busy?: boolean };
    const scope = new Map<string, Entry>();
    const declare = (name: string, e: Entry, loc: SourceLoc): boolean => {
      if (scope.has(name)) {
        this.errors.push(
          new NameError(
            `duplicate name "${name}"`,
            loc,
            name,
            'each input, parameter, attribute and node needs its own name',
          ),
        );
        return false;
      }
      scope.set(name, e);
      return true;
    };
    for (const name of Object.keys(attrDecls)) {
      if (!env.has(name)) continue;
      const r = use?.attrRefs?.get(name);
      declare(
        name,
        r !== undefined ? { kind: 'input', ref: r } : { kind: 'attr', value: env.get(name)! },
        L(['attrs', name], true),
      );
    }

    const dimOf = (d: Dim, loc: SourceLoc, allowBatch: boolean): Dim | undefined => {
      if (typeof d === 'number') return d;
      if (env.has(d)) return env.get(d)!;
      if (d === 'batch' && allowBatch) return d;
      this.errors.push(
        new NameError(
          `unknown dimension "${d}"`,
          loc,
          undefined,
          allowBatch
            ? 'a dimension is a number, `batch`, or an attribute of this graph'
            : 'parameter shapes are numbers or attributes of this graph',
        ),
      );
      return undefined;
    };

    for (const [name, spec] of Object.entries(doc.inputs ?? {})) {
      const loc = L(['inputs', name], true);
      if (use) {
        const b = use.bindings.get(name);
        if (b === undefined) {
          this.errors.push(
            new SubgraphError(
              `input "${name}" of ${file.path} is not bound`,
              use.loc,
              undefined,
              `add ${name}: <a name in the using graph> under inputs:`,
            ),
          );
          continue;
        }
        declare(name, { kind: 'input', ref: b }, loc);
      } else {
        const shape = (spec.shape ?? []).map((d, i) => dimOf(d, L(['inputs', name, 'shape', i]), true));
        if (shape.some((d) => d === undefined)) continue;
        ex.inputs.push({ name, shape: shape as Dim[], dtype: spec.dtype ?? 'float', loc });
        declare(name, { kind: 'input', ref: name }, loc);
      }
    }
    if (use) {
      for (const name of use.bindings.keys()) {
        if (!(name in (doc.inputs ?? {})))
          this.errors.push(
            new NameError(
              `${file.path} has no input "${name}"`,
              use.bindingLoc(name),
              undefined,
              suggest(name, Object.keys(doc.inputs ?? {}), 'inputs'),
            ),
          );
      }
    }

    for (const [name, spec] of Object.entries(doc.params ?? {})) {
      const loc = L(['params', name], true);
      const gname = prefix + name;
      // Declared even when its shape or values are wrong, so its uses do not add "unknown name"
      // errors; a parameter whose name is taken is not added at all (one error, no IR clash).
      const declared = declare(name, { kind: 'param', ref: gname }, loc);
      const shape = spec.shape.map((d, i) => dimOf(d, L(['params', name, 'shape', i]), false));
      if (shape.some((d) => d === undefined)) continue;
      const concrete = shape as number[];
      const init = spec.init;
      let decl: ParamDecl | undefined;
      if (typeof init === 'number' || init.constant !== undefined) {
        decl = {
          name: gname,
          shape: concrete,
          init: { kind: 'constant', value: typeof init === 'number' ? init : init.constant! },
          trainable: spec.trainable ?? true,
          loc,
        };
      } else if (init.file !== undefined) {
        const values = readInitFile(
          this.io,
          file.path,
          init.file,
          concrete,
          L(['params', name, 'init', 'file']),
          this.errors,
        );
        if (values)
          decl = {
            name: gname,
            shape: concrete,
            init: { kind: 'values', values },
            trainable: spec.trainable ?? true,
            loc,
          };
      } else if (init.values === undefined) {
        const r = randomInit(init, concrete);
        if (typeof r === 'string')
          this.errors.push(new AttrError(`initialiser of "${name}": ${r}`, L(['params', name, 'init']), gname));
        else decl = { name: gname, shape: concrete, init: r, trainable: spec.trainable ?? true, loc };
      } else {
        const f = flatten(init.values);
        const at = L(['params', name, 'init', 'values']);
        if (typeof f === 'string') this.errors.push(new DataError(`initial values of "${name}": ${f}`, at, gname));
        else if (f.shape.join(',') !== concrete.join(',')) {
          this.errors.push(
            new DataError(
              `initial values of "${name}" have shape [${f.shape.join(', ')}], the parameter has [${concrete.join(', ')}]`,
              at,
              gname,
            ),
          );
        } else
          decl = {
            name: gname,
            shape: concrete,
            init: { kind: 'values', values: f.values },
            trainable: spec.trainable ?? true,
            loc,
          };
      }
      if (decl && declared) ex.params.push(decl);
    }

    for (const [name, spec] of Object.entries(doc.state ?? {})) {
      const loc = L(['state', name], true);
      if (!use?.paramShape) {
        this.errors.push(new SubgraphError('`state` is for optimizer graphs only', loc));
        continue;
      }
      const shape = spec.shape
        ? (spec.shape.map((d, i) => dimOf(d, L(['state', name, 'shape', i]), false)) as number[])
        : use.paramShape;
      if (shape.some((d) => d === undefined)) continue;
      let init = 0;
      if (typeof spec.init === 'string') {
        const v = env.get(spec.init);
        if (v === undefined) {
          this.errors.push(
            new NameError(
              `initial value "${spec.init}" of state "${name}" is not an attribute`,
              L(['state', name, 'init']),
              undefined,
              suggest(spec.init, env.keys(), 'attributes'),
            ),
          );
          continue;
        }
        init = v;
      } else if (spec.init !== undefined) init = spec.init;
      ex.state.push({ name: prefix + name, shape, init, loc });
      declare(name, { kind: 'state', ref: prefix + name }, loc);
    }

    const nodes = doc.nodes ?? [];
    // A node whose name is taken is reported once and then left out: expanding it too would
    // put two nodes of one name into the IR (graphology refuses that with a bare exception).
    const duplicates = new Set<number>();
    nodes.forEach((n, i) => {
      if (!n.name) return;
      if (
        !declare(
          n.name,
          n.graph !== undefined ? { kind: 'use', index: i } : { kind: 'node', ref: prefix + n.name },
          L(['nodes', i, 'name']),
        )
      )
        duplicates.add(i);
    });

    const resolve = (name: Ref, loc: SourceLoc, node?: string): Ref | undefined => {
      if (typeof name === 'number') return name;
      const dot = name.indexOf('.');
      const head = dot < 0 ? name : name.slice(0, dot);
      const e = scope.get(head);
      if (!e || (dot >= 0 && e.kind !== 'use')) {
        this.errors.push(new NameError(`unknown name "${name}"`, loc, node, suggest(head, scope.keys())));
        return undefined;
      }
      switch (e.kind) {
        case 'attr':
          return e.value;
        case 'input':
        case 'param':
        case 'state':
        case 'node':
          return e.ref;
        case 'use': {
          if (e.busy) {
            this.errors.push(new CycleError(`subgraph use "${head}" depends on its own output`, loc, head));
            return undefined;
          }
          if (!e.expanded) {
            e.busy = true;
            e.expanded = this.useNode(g, nodes[e.index]!, ['nodes', e.index], prefix, via, ex, resolve, stack);
            e.busy = false;
          }
          const outs = e.expanded;
          if (outs.size === 0) return undefined; // the use itself had errors, already reported
          if (dot < 0) {
            if (outs.size === 1) return [...outs.values()][0];
            this.errors.push(
              new NameError(
                `"${head}" has ${outs.size} outputs (${[...outs.keys()].join(', ')}); name one as ${head}.<output>`,
                loc,
              ),
            );
            return undefined;
          }
          const out = name.slice(dot + 1);
          if (!outs.has(out)) {
            this.errors.push(
              new NameError(`"${head}" has no output "${out}"`, loc, undefined, suggest(out, outs.keys(), 'outputs')),
            );
            return undefined;
          }
          return outs.get(out);
        }
        default:
          return e satisfies never;
      }
    };
    ex.resolve = resolve;
    ex.names = () => [...scope.keys()];

    nodes.forEach((n, i) => {
      if (duplicates.has(i)) return;
      if (n.graph !== undefined) {
        if (n.name) resolve(n.name, L(['nodes', i])); // expands it (once)
      } else {
        this.node(g, n, ['nodes', i], n.name ?? `node${i}`, prefix, via, ex, stack, resolve);
      }
    });

    const outs = doc.outputs ?? [];
    const entries: [string, string, Path][] = Array.isArray(outs)
      ? outs.map((o, i) => [o, o, ['outputs', i]])
      : Object.entries(outs).map(([k, v]) => [k, v, ['outputs', k]]);
    if (use) {
      for (const [name, target, p] of entries) {
        const r = resolve(target, L(p));
        if (r !== undefined) ex.outputs.set(name, r);
      }
    }
    return ex;
  }

  /**
   * One node of a graph's `nodes` (or the top level's `loss`): an op application, or a
   * subgraph use. Returns the reference to its (single) result.
   */
  private node(
    g: Loaded,
    n: NodeDoc,
    path: Path,
    name: string,
    prefix: string,
    via: SourceLoc[],
    ex: Expansion,
    stack: string[],
    resolve: Expansion['resolve'] = ex.resolve,
  ): Ref | undefined {
    const L = (p: Path, key = false): SourceLoc => {
      const l = g.file.loc(p, key);
      return via.length ? { ...l, via } : l;
    };
    if (n.graph !== undefined) {
      const outs = this.useNode(g, n, path, prefix, via, ex, resolve, stack, name);
      if (outs.size === 1) return [...outs.values()][0];
      if (outs.size > 1)
        this.errors.push(new NameError(`the subgraph has ${outs.size} outputs; a loss needs exactly one`, L(path)));
      return undefined;
    }
    const loc = L(path);
    const gname = prefix + name;
    const def = getOp(n.op!);
    // Internal ops (the reverse graph's helpers) load, so a printed reverse graph runs; hints offer user ops only.
    if (!def || graphOpNames.indexOf(n.op as never) < 0) {
      this.errors.push(
        new NameError(`unknown op "${n.op}"`, L([...path, 'op']), gname, suggest(n.op!, userOpNames, 'ops')),
      );
      return undefined;
    }
    const raw = Array.isArray(n.inputs) ? (n.inputs as Ref[]) : [];
    const inputs: Ref[] = [];
    let ok = true;
    raw.forEach((r, i) => {
      const v = resolve(r, L([...path, 'inputs', i]), gname);
      if (v === undefined) ok = false;
      else inputs.push(v);
    });
    const attrs = { ...(n.attrs ?? {}) };
    const validate = attrValidator(def.name, def.attrs);
    if (!validate(attrs)) {
      for (const e of validate.errors ?? []) {
        if (e.keyword === 'oneOf') continue;
        const extra = (e.params as { additionalProperty?: string }).additionalProperty;
        const sub = e.instancePath.split('/').filter(Boolean);
        const at = extra ? L([...path, 'attrs', extra], true) : L([...path, 'attrs', ...sub]);
        const what = extra
          ? `unknown attribute "${extra}" for op ${def.name}`
          : `attribute ${sub.join('.') || 'attrs'} ${e.message}`;
        const allowed = Object.keys((def.attrs as { properties?: object }).properties ?? {});
        this.errors.push(
          new AttrError(
            what,
            at,
            gname,
            extra
              ? allowed.length
                ? `${def.name} takes: ${allowed.join(', ')}`
                : `${def.name} takes no attributes`
              : undefined,
          ),
        );
      }
      ok = false;
    }
    // Shapes in attributes may name this graph's attributes (e.g. a layer's width); `batch` stays symbolic.
    if (Array.isArray(attrs.shape)) {
      attrs.shape = (attrs.shape as Dim[]).map((d, i) => {
        if (typeof d !== 'string' || d === 'batch') return d;
        const at = L([...path, 'attrs', 'shape', i]);
        const v = resolve(d, at);
        if (typeof v === 'number') return v;
        if (v !== undefined)
          this.errors.push(
            new NameError(
              `"${d}" is not a dimension`,
              at,
              gname,
              'a dimension is a number, `batch`, -1, or an attribute of this graph',
            ),
          );
        ok = false;
        return d;
      });
    }
    if (!ok) return undefined;
    if (def.name === 'dropout' && inputs.length === 1) {
      // Dropout reads the runtime's step counter (0 outside training steps: the identity) and
      // draws its mask from a stream named after the node under the graph's seed.
      inputs.push('__step');
      this.runtime.add('step');
      attrs.seed ??= this.seed;
      attrs.stream ??= gname;
    }
    ex.nodes.push({ name: gname, op: def.name, inputs, attrs, loc, ...(n.device ? { device: n.device } : {}) });
    return gname;
  }

  /** Expand a subgraph use; returns its outputs (name -> reference). */
  private useNode(
    g: Loaded,
    n: NodeDoc,
    path: Path,
    prefix: string,
    via: SourceLoc[],
    ex: Expansion,
    resolve: Expansion['resolve'],
    stack: string[],
    name = n.name ?? 'loss',
  ): Map<string, Ref> {
    const L = (p: Path, key = false): SourceLoc => {
      const l = g.file.loc(p, key);
      return via.length ? { ...l, via } : l;
    };
    const loc = L([...path, 'graph']);
    const target = this.io.resolve(g.file.path, n.graph!);
    if (stack.includes(target)) {
      this.errors.push(
        new SubgraphError(
          `${target} uses itself (${[...stack, target].join(' -> ')})`,
          loc,
          prefix + name,
          'a graph cannot include itself, directly or through other graphs',
        ),
      );
      return new Map();
    }
    const sub = this.loadFile(target, undefined, loc);
    if (!sub) return new Map();
    const bindings = new Map<string, Ref>();
    const rawIn = (n.inputs && typeof n.inputs === 'object' && !Array.isArray(n.inputs) ? n.inputs : {}) as Record<
      string,
      Ref
    >;
    for (const [k, v] of Object.entries(rawIn)) {
      const r = resolve(v, L([...path, 'inputs', k]), prefix + name);
      if (r !== undefined) bindings.set(k, r);
    }
    const unresolved = Object.keys(rawIn).length - bindings.size;
    const use: Use = {
      prefix: prefix + name + '/',
      bindings,
      bindingLoc: (b) => L([...path, 'inputs', b], true),
      with: n.with ?? {},
      withLoc: (w) => L([...path, 'with', w], true),
      loc: L(path),
      via: [L(path), ...via],
    };
    if (unresolved) return new Map();
    const sx = this.expand(sub, use, [...stack, target]);
    ex.nodes.push(...sx.nodes);
    ex.params.push(...sx.params);
    return sx.outputs;
  }

  /**
   * Kahn's algorithm with ties broken by declaration order: a deterministic topological
   * order. Nodes on a cycle are reported with their positions.
   */
  private topoSort(nodes: OpNodeDecl[]): OpNodeDecl[] {
    const g = new Graph.DirectedGraph();
    const index = new Map(nodes.map((n, i) => [n.name, i]));
    for (const n of nodes) g.addNode(n.name);
    for (const n of nodes) {
      for (const i of n.inputs)
        if (typeof i === 'string' && index.has(i) && !g.hasEdge(i, n.name)) g.addEdge(i, n.name);
    }
    const indeg = new Map(nodes.map((n) => [n.name, g.inDegree(n.name)]));
    const ready = nodes.filter((n) => indeg.get(n.name) === 0).map((n) => index.get(n.name)!);
    const out: OpNodeDecl[] = [];
    while (ready.length) {
      ready.sort((a, b) => a - b);
      const i = ready.shift()!;
      const n = nodes[i]!;
      out.push(n);
      for (const c of g.outNeighbors(n.name)) {
        const d = indeg.get(c)! - 1;
        indeg.set(c, d);
        if (d === 0) ready.push(index.get(c)!);
      }
    }
    if (out.length < nodes.length) {
      const byName = new Map(nodes.map((n) => [n.name, n]));
      for (const comp of stronglyConnectedComponents(g)) {
        const selfLoop = comp.length === 1 && g.hasEdge(comp[0]!, comp[0]!);
        if (comp.length < 2 && !selfLoop) continue;
        const members = comp.map((c) => byName.get(c)!).sort((a, b) => index.get(a.name)! - index.get(b.name)!);
        const list = members.map((m) => `"${m.name}" (line ${m.loc.line})`).join(' -> ');
        this.errors.push(
          new CycleError(
            `cycle through ${list}`,
            members[0]!.loc,
            members[0]!.name,
            'a node cannot depend on its own output; break the loop',
          ),
        );
      }
    }
    return out;
  }
}

function withVia<E extends GraphError>(e: E, usedFrom?: SourceLoc): E {
  if (usedFrom && e.loc) (e.loc as SourceLoc).via = [usedFrom, ...(usedFrom.via ?? [])];
  return e;
}
