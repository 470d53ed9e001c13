// The training half of a PyTorch export (training.py): the loss, the optimizer and its schedule
// as the graph's YAML defines them. graph-run's library graphs (std:losses/*, std:optimizers/*,
// std:schedules/*) are the formulas of PyTorch's own classes and become them; any other loss
// is its graph, and any other optimizer or schedule its update graph, one Python line per node.

import type { GraphError } from '../errors.js';
import type { Loaded } from '../load/doc.js';
import { GraphFiles } from '../load/files.js';
import type { LoaderIO } from '../load/io.js';
import type { Model, OpNodeDecl, Ref } from '../load/model.js';
import { globMatch } from '../resolve/glob.js';
import { pyNum, pyValue, type PyNames } from './pytorch-code.js';

/** The library graph a path names (`losses/mse`), or undefined for a user's own graph. */
function libraryName(io: LoaderIO, from: string, spec: string, folder: string): string | undefined {
  const m = /^std:([a-z_]+)\/([a-z_0-9]+)\.yaml$/.exec(spec.trim());
  if (m && m[1] === folder) return m[2];
  // A relative path to the library itself resolves to the same file as its std: name.
  const name = /([a-z_0-9]+)\.yaml$/.exec(spec)?.[1];
  if (!name) return undefined;
  try {
    return io.resolve(from, spec) === io.resolve(from, `std:${folder}/${name}.yaml`) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The top-level graph document and the library graphs its loss, optimizer and schedule use. */
export interface TrainingDocs {
  top: Loaded;
  loss?: string;
  optimizer?: string;
  optimizerDoc?: Loaded;
  schedule?: string;
}

export function trainingDocs(model: Model, io: LoaderIO): TrainingDocs | null {
  const errors: GraphError[] = [];
  const files = new GraphFiles(io, errors);
  const top = files.load(model.file);
  if (!top) return null;
  const d = top.doc;
  const out: TrainingDocs = { top };
  if (d.loss?.graph) out.loss = libraryName(io, model.file, d.loss.graph, 'losses');
  if (d.optimizer) {
    out.optimizer = libraryName(io, model.file, d.optimizer.graph, 'optimizers');
    out.optimizerDoc = files.load(io.resolve(model.file, d.optimizer.graph)) ?? undefined;
    if (d.optimizer.schedule) out.schedule = libraryName(io, model.file, d.optimizer.schedule.graph, 'schedules');
  }
  return out;
}

/** Library losses as torch.nn.functional calls summed over the rows (train.py divides by the global batch). */
const lossCalls: Record<string, (p: string, t: string, w: Record<string, number>) => string> = {
  mse: (p, t) => `F.mse_loss(${p}, torch.broadcast_to(${t}, ${p}.shape), reduction="sum") / gr.per_row(${p})`,
  l1: (p, t) => `F.l1_loss(${p}, torch.broadcast_to(${t}, ${p}.shape), reduction="sum") / gr.per_row(${p})`,
  huber: (p, t, w) =>
    `F.huber_loss(${p}, torch.broadcast_to(${t}, ${p}.shape), reduction="sum", delta=${pyNum(w.delta ?? 1)}) / gr.per_row(${p})`,
  bce: (p, t) => `F.binary_cross_entropy(${p}, ${t}, reduction="sum") / gr.per_row(${p})`,
  bce_logits: (p, t) => `F.binary_cross_entropy_with_logits(${p}, ${t}, reduction="sum") / gr.per_row(${p})`,
  cross_entropy: (p, t) => `F.cross_entropy(${p}, ${t}, reduction="sum")`,
  cross_entropy_probs: (p, t) => `F.cross_entropy(${p}, ${t}, reduction="sum")`,
};

/** The loss section of training.py, and the refs the forward pass must return for it. */
export function lossCode(model: Model, docs: TrainingDocs): { code: string; needs: Ref[]; summary: string } {
  const d = docs.top.doc.loss!;
  const inputs = (d as { inputs?: Record<string, Ref> }).inputs ?? {};
  const w = ((d as { with?: Record<string, number> }).with ?? {}) as Record<string, number>;
  const call = docs.loss ? lossCalls[docs.loss] : undefined;
  // The values pred and target resolve to (a subgraph use's name stands for its output): the
  // library losses read pred first, then target, and nothing else from outside.
  const made = new Set(model.loss!.nodes.map((n) => n.name));
  const outside = [
    ...new Set(model.loss!.nodes.flatMap((n) => n.inputs.filter((r) => typeof r === 'string' && !made.has(r)))),
  ];
  if (call && inputs.pred !== undefined && inputs.target !== undefined && outside.length === 2) {
    const [pred, target] = outside as [string, string];
    const mean = (w.reduction ?? 1) !== 0;
    const p = `v[${JSON.stringify(pred)}]`,
      t = `v[${JSON.stringify(target)}]`;
    return {
      needs: [pred, target],
      summary: `${docs.loss} as ${call('p', 't', w).split('(')[0]}`,
      code: [
        `# The loss: ${d.graph} (reduction: ${mean ? 'mean' : 'sum'}) as PyTorch's own, summed over this`,
        "# process's rows; with LOSS_MEAN train.py divides by the rows of the global batch.",
        `LOSS_MEAN = ${mean ? 'True' : 'False'}`,
        '',
        '',
        'def loss_sum(net, v, rows):',
        // A mean is over the prediction's rows, which a reshape may make more than the data's
        // ([batch · T, V] logits): the sum over them, times the data rows per prediction row.
        mean ? `    return ${call(p, t, w)} * (rows / max(1, ${p}.shape[0]))` : `    return ${call(p, t, w)}`,
      ].join('\n'),
    };
  }
  return {
    needs: [],
    summary: `the loss graph (${model.loss!.nodes.length} nodes)`,
    code: [
      '# The loss: its graph (Net.loss_graph), the mean over the batch, times the rows; train.py',
      '# divides the sum by the rows of the global batch.',
      'LOSS_MEAN = True',
      '',
      '',
      'def loss_sum(net, v, rows):',
      '    return net.loss_graph(v) * rows',
    ].join('\n'),
  };
}

/** torch.optim classes for the library optimizers: (class, options from our attributes). */
const optimizers: Record<string, { cls: string; opts: (w: Record<string, number>) => string }> = {
  sgd: { cls: 'SGD', opts: (w) => `lr=${pyNum(w.lr!)}` },
  sgd_momentum: {
    cls: 'SGD',
    opts: (w) =>
      `lr=${pyNum(w.lr!)}, momentum=${pyNum(w.momentum ?? 0)}, dampening=${pyNum(w.dampening ?? 0)}, nesterov=${(w.nesterov ?? 0) !== 0 ? 'True' : 'False'}, weight_decay=${pyNum(w.weight_decay ?? 0)}`,
  },
  adam: {
    cls: 'Adam',
    opts: (w) =>
      `lr=${pyNum(w.lr!)}, betas=(${pyNum(w.beta1!)}, ${pyNum(w.beta2!)}), eps=${pyNum(w.eps!)}, weight_decay=${pyNum(w.weight_decay!)}`,
  },
  adamw: {
    cls: 'AdamW',
    opts: (w) =>
      `lr=${pyNum(w.lr!)}, betas=(${pyNum(w.beta1!)}, ${pyNum(w.beta2!)}), eps=${pyNum(w.eps!)}, weight_decay=${pyNum(w.weight_decay!)}`,
  },
  rmsprop: {
    cls: 'RMSprop',
    opts: (w) =>
      `lr=${pyNum(w.lr!)}, alpha=${pyNum(w.alpha!)}, eps=${pyNum(w.eps!)}, weight_decay=${pyNum(w.weight_decay!)}, momentum=${pyNum(w.momentum!)}, centered=${w.centered ? 'True' : 'False'}`,
  },
  adagrad: {
    cls: 'Adagrad',
    opts: (w) =>
      `lr=${pyNum(w.lr!)}, lr_decay=${pyNum(w.lr_decay!)}, weight_decay=${pyNum(w.weight_decay!)}, initial_accumulator_value=${pyNum(w.initial_accumulator_value!)}, eps=${pyNum(w.eps!)}`,
  },
};

/** torch.optim.lr_scheduler classes for the library schedules. */
const schedules: Record<string, (w: Record<string, number>) => string> = {
  cosine: (w) => `CosineAnnealingLR(optimizer, T_max=${pyNum(w.t_max!)}, eta_min=${pyNum(w.eta_min ?? 0)})`,
  step: (w) => `StepLR(optimizer, step_size=${pyNum(w.step_size!)}, gamma=${pyNum(w.gamma ?? 0.1)})`,
  exponential: (w) => `ExponentialLR(optimizer, gamma=${pyNum(w.gamma!)})`,
  linear_warmup: (w) =>
    `LinearLR(optimizer, start_factor=${pyNum(w.start_factor ?? 1 / 3)}, end_factor=${pyNum(w.end_factor ?? 1)}, total_iters=${pyNum(w.total_iters ?? 5)})`,
};

/** The optimizer section of training.py: make_optimizer, make_scheduler, clip_gradients. */
export function optimizerCode(
  model: Model,
  docs: TrainingDocs,
  names: PyNames,
  graphLines: (nodes: OpNodeDecl[], indent: string) => string[],
  expr: (r: Ref) => string,
): { code: string; summary: string } {
  const o = docs.top.doc.optimizer!;
  const every = o.schedule?.every ?? 'epoch';
  const lib = docs.optimizer ? optimizers[docs.optimizer] : undefined;
  const schedLib = o.schedule ? (docs.schedule ? schedules[docs.schedule] : undefined) : null;
  const trainable = model.params.filter((p) => p.trainable);
  if (lib && schedLib !== undefined) {
    // Each parameter's options: the library defaults, `with`, then its per-parameter overrides.
    const defaults: Record<string, number> = {};
    for (const [k, a] of Object.entries(docs.optimizerDoc?.doc.attrs ?? {}))
      if (typeof a.default === 'number') defaults[k] = a.default;
    const groups: { opts: string; params: string[] }[] = [];
    for (const p of trainable) {
      const w: Record<string, number> = { ...defaults, ...(o.with ?? {}) };
      for (const [pattern, over] of Object.entries(o.params ?? {}))
        if (globMatch(pattern, p.name)) for (const [k, v] of Object.entries(over)) if (typeof v === 'number') w[k] = v;
      const opts = lib.opts(w);
      const g = groups.find((x) => x.opts === opts) ?? groups[groups.push({ opts, params: [] }) - 1]!;
      g.params.push(`net.${names.get(p.name)}`);
    }
    const lines = [
      `# The optimizer: ${o.graph} as torch.optim.${lib.cls} (the single-tensor path, as graph-run updates`,
      '# one parameter at a time), one parameter group per distinct set of options.',
      'def make_optimizer(net):',
      `    return torch.optim.${lib.cls}([`,
      ...groups.map((g) => `        {"params": [${g.params.join(', ')}], ${g.opts.replace(/(\w+)=/g, '"$1": ')}},`),
      '    ], foreach=False)',
      '',
      '',
      `SCHEDULE_EVERY = ${JSON.stringify(every)}`,
      '',
      '',
      'def make_scheduler(optimizer):',
      schedLib
        ? `    return torch.optim.lr_scheduler.${schedLib(o.schedule!.with ?? {})}  # ${o.schedule!.graph}`
        : '    return None',
      '',
      '',
      'def clip_gradients(net):',
      o.clip_grad_norm !== undefined
        ? `    torch.nn.utils.clip_grad_norm_([p for p in net.parameters() if p.requires_grad], ${pyNum(o.clip_grad_norm)}, foreach=False)`
        : '    pass',
    ];
    return {
      code: lines.join('\n'),
      summary: `torch.optim.${lib.cls}${schedLib ? ` with ${schedLib({}).split('(')[0]}` : ''}${o.clip_grad_norm !== undefined ? ', clip_grad_norm_' : ''}`,
    };
  }
  return { code: graphOptimizer(model, names, graphLines, expr), summary: 'the optimizer graph (GraphOptimizer)' };
}

/**
 * An optimizer that is not the library's: its update graph per parameter (with the schedule's
 * and the clipping nodes), applied in place after backward, state kept under graph-run's names.
 */
function graphOptimizer(
  model: Model,
  names: PyNames,
  graphLines: (nodes: OpNodeDecl[], indent: string) => string[],
  expr: (r: Ref) => string,
): string {
  const state = model.updates.flatMap((u) => u.state);
  const lines = [
    "# The optimizer: its graph, one line per node (graph-run's update of each parameter).",
    'class GraphOptimizer(torch.optim.Optimizer):',
    '    def __init__(self, net):',
    '        super().__init__([p for p in net.parameters() if p.requires_grad], {})',
    '        self.net = net',
    '        self.clock = gr.StepContext()',
    '        like = next(net.parameters())',
    '        self.values = {',
    ...state.map(
      (s) =>
        `            ${JSON.stringify(s.name)}: torch.full(${pyValue(s.shape)}, ${pyNum(s.init)}, dtype=like.dtype, device=like.device),`,
    ),
    '        }',
    '',
    '    @torch.no_grad()',
    '    def step(self, closure=None):',
    '        net, S, ctx = self.net, self.values, self.clock',
    ...model.updates.map((u) => `        ${names.get(`grad/${u.param}`)} = net.${names.get(u.param)}.grad`),
    ...graphLines(model.gradNodes ?? [], '        '),
  ];
  for (const u of model.updates) {
    lines.push(`        # ${u.param}`);
    lines.push(...graphLines(u.nodes, '        '));
    lines.push(`        net.${names.get(u.param)}.copy_(${expr(u.newParam)})`);
    for (const [s, r] of u.newState) lines.push(`        S[${JSON.stringify(s)}] = ${expr(r)}`);
  }
  lines.push(
    '',
    '',
    'def make_optimizer(net):',
    '    return GraphOptimizer(net)',
    '',
    '',
    'SCHEDULE_EVERY = "graph"',
    '',
    '',
    'def make_scheduler(optimizer):',
    '    return None',
    '',
    '',
    'def clip_gradients(net):',
    '    pass  # the clipping nodes are part of GraphOptimizer.step',
  );
  return lines.join('\n');
}
