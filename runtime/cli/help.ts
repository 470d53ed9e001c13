// Text generated from the command and option tables (table.ts): `graph-run --help`,
// `graph-run <command> --help`, the reference section of docs/cli.md and the README's
// command-line block. test/cli/docs.test.ts fails when the files differ from what is generated
// here; `npm run docs:cli` (scripts/cli-docs.ts) rewrites them.

import { userOpNames } from '../index.js';
import {
  type CommandName,
  type CommandSpec,
  commands,
  type OptionSpec,
  optionParts,
  optionsOf,
  options,
} from './table.js';

/** `--dtype f32|f64`, `-q, --quiet`: an option as users type it. */
export function optionLabel(o: OptionSpec): string {
  const p = optionParts(o);
  return `${p.short ? `${p.short}, ` : ''}${p.long}${p.arg ? ` ${p.arg}` : ''}`;
}

/** `text` as lines of at most `width` characters, the first after `first`, the rest indented by `indent`. */
function wrap(text: string, width: number, indent: number, first = indent): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(' ')) {
    const room = width - (lines.length ? indent : first);
    if (line && line.length + 1 + w.length > room) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : ' '.repeat(indent) + l));
}

/** Two columns: `left` padded to `col`, then `right` wrapped (on its own line when `left` is long). */
function columns(left: string, right: string, col: number, width = 100): string[] {
  if (left.length + 1 > col)
    return [left, ...wrap(right, width, col, col).map((l, i) => (i ? l : ' '.repeat(col) + l))];
  const r = wrap(right, width, col, col);
  return [left.padEnd(col) + r[0], ...r.slice(1)];
}

const synopsis = (c: CommandSpec) => `graph-run ${c.usage}`;
const exitCodes = 'Exit codes: 0 success, 1 an error in the graph or its data, 2 a usage error.';

/** `graph-run --help`. */
export function helpText(): string {
  return [
    'graph-run: train and run neural networks written as YAML computation graphs',
    '',
    'Usage:',
    ...commands.flatMap((c) => columns(`  ${synopsis(c)}`, c.help, 39)),
    '  graph-run --help | --version',
    ...columns('  graph-run <command> --help', 'the options of one command', 39),
    '',
    'Options:',
    ...options.flatMap((o) => columns(`  ${optionLabel(o)}`, o.help, 21)),
    '',
    exitCodes,
    'Docs: README.md and docs/ (format.md, cli.md).',
    '',
    `Ops: ${userOpNames.join(', ')}`,
  ].join('\n');
}

/** `graph-run <command> --help`: what it does and the options it takes. */
export function commandHelp(name: CommandName): string {
  const c = commands.find((x) => x.name === name)!;
  return [
    `Usage: ${synopsis(c)} [options]`,
    '',
    ...wrap(c.help, 100, 0),
    '',
    'Options:',
    ...optionsOf(name).flatMap((o) => columns(`  ${optionLabel(o)}`, o.help, 21)),
    '',
    exitCodes,
  ].join('\n');
}

const md = (s: string) => s.replace(/\|/g, '\\|');

/** docs/cli.md's reference: every command and every option, with the commands that take it. */
export function markdownReference(): string {
  return [
    '| command | what |',
    '|---|---|',
    ...commands.map((c) => `| \`${md(synopsis(c))}\` | ${md(c.help)} |`),
    '',
    '| option | commands | what |',
    '|---|---|---|',
    ...options.map(
      (o) => `| \`${md(optionLabel(o))}\` | ${o.commands ? o.commands.join(', ') : 'all'} | ${md(o.help)} |`,
    ),
  ].join('\n');
}

/** The README's command-line block: each command with the options of its own (the common ones last). */
export function readmeBlock(): string {
  const common = new Set(['--help', '--version', '--stats', '--json', '--quiet', '--dtype', '--epochs', '--load']);
  const line = (head: string, opts: OptionSpec[]) =>
    wrap([head, ...opts.map((o) => `[${optionLabel(o)}]`)].join(' '), 100, 10).join('\n');
  return [
    ...commands.map((c) =>
      line(
        `graph-run ${c.usage}`,
        optionsOf(c.name).filter((o) => !common.has(optionParts(o).long) && !c.usage.includes(optionParts(o).long)),
      ),
    ),
    line(
      'graph-run <command> <graph.yaml>',
      options.filter((o) => !o.commands && !['--help', '--version'].includes(optionParts(o).long)),
    ),
    'graph-run --help | <command> --help | --version',
  ].join('\n');
}

/** Replace the text between `<!-- begin NAME -->` and `<!-- end NAME -->` markers in `doc`. */
export function replaceBlock(doc: string, name: string, body: string): string {
  const begin = `<!-- begin ${name} (generated from runtime/cli/table.ts by npm run docs:cli) -->`;
  const end = `<!-- end ${name} -->`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`the markers of the generated block "${name}" are missing`);
  return `${doc.slice(0, i + begin.length)}\n${body}\n${doc.slice(j)}`;
}

/** The files whose generated blocks come from the tables, with their contents as they should be. */
export function cliDocs(read: (file: string) => string): Record<string, string> {
  return {
    'docs/cli.md': replaceBlock(read('docs/cli.md'), 'reference', markdownReference()),
    'README.md': replaceBlock(read('README.md'), 'command line', `\`\`\`\n${readmeBlock()}\n\`\`\``),
  };
}
