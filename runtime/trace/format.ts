// A trace as text, for `graph-run trace`: a header (step, batch, loss), the forward values in
// topological order, the reverse graph in run order (each node's gradient label, value, rule and
// formula) and the optimizer's updates. Values are compact (shape and up to four numbers)
// unless `full` is set, which prints every element, nested by shape.

import type { Trace, TraceValue } from './trace.js';

/** Options of `formatTrace`: every element of every value, or a summary. */
export interface FormatTraceOptions {
  /** Print every element of every value (default: shape and up to four numbers). */
  full?: boolean;
}

/** Six significant digits, no trailing zeros: 0.1 (not 0.100000), -0.0623412, 1.5e-7. */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

function nested(data: number[], shape: number[], off: number): string {
  if (shape.length === 0) return num(data[off]!);
  const [d, ...rest] = shape;
  const step = rest.reduce((a, b) => a * b, 1);
  const parts: string[] = [];
  for (let i = 0; i < d!; i++) parts.push(nested(data, rest, off + i * step));
  return `[${parts.join(', ')}]`;
}

const SHOWN = 4;

/** `[2x2] [0.1, 0.1, 0.1, 0.1]`; a scalar is its number; `full` nests every element by shape. */
export function formatValue(v: TraceValue, full = false): string {
  if (v.shape.length === 0) return num(v.data[0]!);
  const shape = `[${v.shape.join('x')}]`;
  if (full) return `${shape} ${nested(v.data, v.shape, 0)}`;
  const shown = v.data.slice(0, SHOWN).map(num);
  const more = v.data.length - SHOWN;
  return `${shape} [${shown.join(', ')}${more > 0 ? `, … +${more}` : ''}]`;
}

function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length)))
        .join('  ')
        .trimEnd(),
  );
}

/**
 * The trace as the CLI prints it.
 * @example console.log(formatTrace(trace(compile(loadGraph('graphs/gender.yaml')))));
 */
export function formatTrace(t: Trace, opts: FormatTraceOptions = {}): string {
  const full = opts.full === true;
  const val = (v: TraceValue) => formatValue(v, full);
  const { start, count } = t.rows;
  const rows = count === 1 ? `sample ${start}` : `samples ${start} to ${start + count - 1}`;
  const chosen = t.sample === null ? '' : `, chosen with sample ${t.sample}`;
  const out: string[] = [
    `${t.name} (${t.file}, ${t.dtype}): step ${t.step} of ${t.steps}, epoch ${t.epoch}, batch ${t.batchIndex}: ${rows} of ${t.samples}${chosen}`,
    `loss ${num(t.loss.value)} (node ${t.loss.node})`,
    '',
    'forward, in topological order:',
    ...table(
      t.forward.map((n) => [n.name, n.part === 'input' || n.part === 'param' ? n.op : `= ${n.formula}`, val(n.value)]),
    ),
    '',
    'reverse graph, in the order it runs (in the rule at node v, dy is d loss / d v):',
    // Node names (as in `graph-run grad` and `dot`) only with --full: the label says what each is.
    ...table(
      t.reverse.map((n) => [
        n.label,
        n.role === 'seed' ? 'seed' : `${n.rule}${n.from !== undefined ? ` at ${n.from}` : ''}: ${n.formula}`,
        ...(full ? [n.name] : []),
        val(n.value),
      ]),
    ),
    '',
    'updates, applied after the step:',
  ];
  for (const u of t.updates) {
    out.push(`  ${u.param} = ${u.formula}`);
    out.push(
      ...table(
        [
          ['before', val(u.before)],
          ['grad', `${val(u.gradient)}`],
          ['after', val(u.after)],
          // State by its name in the optimizer graph: optimizer/w1/velocity reads as velocity.
          ...u.state.flatMap((s) => {
            const name = s.name.slice(s.name.lastIndexOf('/') + 1);
            return [
              [`${name} before`, val(s.before)],
              [`${name} after`, val(s.after), `= ${s.formula}`],
            ];
          }),
        ],
        '      ',
      ),
    );
  }
  // The model's state (running statistics): the forward pass's update node, written back too.
  for (const s of t.state ?? []) {
    out.push(`  ${s.name} = ${s.node}`);
    out.push(
      ...table(
        [
          ['before', val(s.before)],
          ['after', val(s.after)],
        ],
        '      ',
      ),
    );
  }
  return out.join('\n');
}
