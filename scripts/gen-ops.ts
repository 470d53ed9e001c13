// Generates what is derived from the op registry (runtime/ops/registry.ts), so an op is written
// once, in its module:
// - schemas/graph.schema.json: the node `op` completions (user ops, not internal ones) and, per
//   op, the schema of its `attrs` (definitions/attrs.X, used where `op` is X), so editors
//   complete and check attributes. The rest of the file is hand-written and kept as it is.
// - docs/ops.md: the op tables, from each op's doc line, attributes, gradient rule and notes.
// Run `npm run gen` after changing an op; test/ops/generated.test.ts fails while a file is stale.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OnnxCtx, OpDef, OpGroup } from '../runtime/ops/op.js';
import { internalOpNames, registry, userOpNames } from '../runtime/ops/registry.js';

type Json = Record<string, unknown>;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = join(root, 'schemas/graph.schema.json');
export const DOC_FILE = join(root, 'docs/ops.md');

const ops = userOpNames.map((n) => registry[n] as OpDef);

/** An op's attributes as plain JSON Schema (TypeBox's symbol keys dropped), with a description and an example. */
function attrsSchema(def: OpDef): Json {
  const s = JSON.parse(JSON.stringify(def.attrs)) as Json;
  const props = (s.properties ?? {}) as Record<string, Json>;
  const example = Object.fromEntries(
    Object.entries(props).map(([k, p]) => [k, (p.examples as unknown[] | undefined)?.[0] ?? p.default]),
  );
  const names = Object.keys(props);
  return {
    ...s,
    description: names.length
      ? `Attributes of ${def.name}: ${names.join(', ')} (docs/ops.md).`
      : `${def.name} takes no attributes.`,
    examples: [example],
  };
}

/** The schema file with its generated parts replaced. */
export function generateSchema(text: string): string {
  const schema = JSON.parse(text) as Json;
  const defs = schema.definitions as Json;
  const node = (defs.node as Json).else as Json;
  const op = (node.properties as Json).op as Json;
  op.examples = [...userOpNames];
  node.allOf = ops.map((def) => ({
    if: { properties: { op: { const: def.name } }, required: ['op'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then
    then: { properties: { attrs: { $ref: `#/definitions/attrs.${def.name}` } } },
  }));
  for (const k of Object.keys(defs)) if (k.startsWith('attrs.')) delete defs[k];
  for (const def of ops) defs[`attrs.${def.name}`] = attrsSchema(def);
  return `${JSON.stringify(schema, null, 2)}\n`;
}

const GROUPS: { group: OpGroup; title: string; lead?: string }[] = [
  { group: 'unary', title: 'Elementwise, one input' },
  { group: 'binary', title: 'Elementwise, two or more inputs (broadcasting)' },
  { group: 'reduce', title: 'Reductions' },
  { group: 'normalise', title: 'Normalisation' },
  { group: 'matmul', title: 'Matrix products' },
  { group: 'conv', title: 'Convolution, pooling and padding' },
  { group: 'shape', title: 'Shapes and indexing' },
  { group: 'random', title: 'Randomness and the training mode' },
];

/** `axis` (-1), `dtype`: float, f32, ... */
function attrsCell(def: OpDef): string {
  const props = (JSON.parse(JSON.stringify(def.attrs)) as Json).properties as Record<string, Json> | undefined;
  const required = new Set(((def.attrs as unknown as Json).required as string[] | undefined) ?? []);
  const cells = Object.entries(props ?? {}).map(([k, p]) => {
    let c = `\`${k}\``;
    if (p.enum) c += `: ${(p.enum as unknown[]).join(', ')}`;
    if (p.default !== undefined) c += ` (${JSON.stringify(p.default)})`;
    else if (required.has(k)) c += ' (required)';
    return c;
  });
  return cells.length ? cells.join(', ') : '—';
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The ONNX ops an op exports as: its mapping run on a node with example attributes, recording what it emits. */
function onnxCell(def: OpDef): string {
  if (def.onnx === 'none') return 'none';
  const attrs = attrsSchema(def).examples as Json[];
  const n = typeof def.arity === 'number' ? def.arity : def.arity[0];
  const t = { shape: [2, 3, 4], dtype: 'f32' as const };
  const emitted: string[] = [];
  let k = 0;
  const ctx: OnnxCtx = {
    node: { name: 'n', op: def.name, inputs: [...Array(n).keys()].map((i) => `x${i}`), attrs: attrs[0]!, type: t },
    x: [...Array(n).keys()].map((i) => `x${i}`),
    types: Array(n).fill(t),
    out: 'n',
    emit: (op) => {
      if (!emitted.includes(op)) emitted.push(op);
      return `t${k++}`;
    },
    elemType: () => 1,
    i64: () => `c${k++}`,
    scalar: () => `c${k++}`,
    constant: (name) => name,
    batchDims: () => [],
    fail: (message) => {
      throw new Error(message);
    },
  };
  def.onnx(ctx);
  return emitted.map((o) => `\`${o}\``).join(', ');
}

export function generateOpsDoc(): string {
  const out: string[] = [
    '# Ops',
    '',
    '<!-- Generated by `npm run gen` (scripts/gen-ops.ts) from runtime/ops/: edit the op modules, not this file. -->',
    '',
    "Every op a graph's `nodes` may use. Each is defined once, in its module under runtime/ops/: its",
    'attribute schema (also the TypeScript type of its attributes), its shape and dtype rule (checked',
    'when the graph loads), its CPU kernel (the reference every other backend is tested against), its',
    'gradient rule or an explicit "no gradient", its WGSL kernel, its ONNX mapping and its trace formula',
    '([contributing.md](contributing.md) shows how an op is added). `graph-run --help` lists the names;',
    '`graph-run check net.yaml` verifies every gradient of a graph against finite differences.',
    '',
    'Conventions:',
    '',
    "- **dtypes.** Float ops take f32 or f64 (the graph's `float`, or `--dtype`); integer tensors",
    '  (i32) carry labels and indices. Binary ops need equal dtypes. A number written among a',
    "  node's inputs takes the dtype of the tensors it meets (a float one first); a node whose",
    '  inputs are all numbers is evaluated once, in double precision, and becomes a constant (so',
    "  `1 - beta2` is exact before it is rounded to f32, as in PyTorch's Python).",
    '- **Broadcasting.** Every binary op (and `where`) broadcasts as NumPy does. The reverse graph',
    "  sums a broadcast gradient back to the operand's shape; rules never do it themselves.",
    '- **Axes.** `axis` counts from 0; negative values count from the end. Reductions take one',
    '  axis or a list (all axes when absent) and `keepdims`.',
    '- **Agreement.** Every op is compared with PyTorch (forward value and the gradient of',
    '  `sum(y * w)`) on the cases in `test/reference/ops.py`: f64 within 1e-12 and f32 within 1e-5',
    "  of the tensor's largest magnitude (`npx vitest run test/ops`), and each gradient against",
    '  central finite differences in f64.',
    '- **ONNX.** The ONNX column names the ONNX ops an op exports as (with its example attributes;',
    '  [onnx.md](onnx.md)); `none`: export stops with an error naming the node.',
    '- **Attributes** are checked when the graph loads; the published schema',
    "  (schemas/graph.schema.json) carries each op's attributes, so editors complete and check them.",
  ];
  for (const g of GROUPS) {
    const list = ops.filter((d) => d.group === g.group);
    if (!list.length) continue;
    out.push('', `## ${g.title}`, '', '| op | attributes | gradient | ONNX | what |', '|---|---|---|---|---|');
    for (const d of list) {
      const grad = d.grad === 'none' ? 'none' : 'yes';
      out.push(`| \`${d.name}\` | ${cell(attrsCell(d))} | ${grad} | ${onnxCell(d)} | ${cell(d.doc)} |`);
    }
    for (const d of list) if (d.notes) out.push('', d.notes);
  }
  out.push(
    '',
    '## Internal ops',
    '',
    "The reverse graph uses helper ops so that an activation's gradient is one node. They have no",
    "gradient themselves and are not offered for hand-written graphs (not in `--help`, the schema's",
    'completions or the tables above), but they load, so a reverse graph printed by `graph-run grad`',
    `runs as it is: ${internalOpNames.map((n) => `\`${n}\``).join(', ')}.`,
    '',
    '## Source nodes',
    '',
    '`input`, `param`, `state` and `const` are declared in their own sections (`inputs`, `params`,',
    "an optimizer's `state`, numbers), not written as nodes.",
    '',
  );
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, generateSchema(readFileSync(SCHEMA_FILE, 'utf8')));
  writeFileSync(DOC_FILE, generateOpsDoc());
  console.log('wrote schemas/graph.schema.json and docs/ops.md');
}
