// argv -> a command, a graph file and checked option values. commander splits the arguments
// (options anywhere, `--flag=value`, `-q`, missing values, unknown flags with a suggestion);
// table.ts says which options exist, which commands take them and how each value is checked.
// Every problem becomes a UsageError (exit 2) worded as graph-run's own messages.

import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../index.js';
import { type CommandName, commandNames, type OptionValues, optionParts, options } from './table.js';

export type Parsed =
  | { kind: 'help'; command?: CommandName }
  | { kind: 'version' }
  | { kind: 'command'; command: CommandName; file: string; opts: OptionValues };

/** A commander Command holding every option of the table (as strings and switches). */
function parser(): Command {
  const c = new Command('graph-run')
    .exitOverride()
    .helpOption(false)
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  for (const o of options) {
    const opt = new Option(o.flags, o.help);
    if (o.repeat) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    c.addOption(opt);
  }
  return c;
}

/** commander's own error message ("error: unknown option '--fast'\n(Did you mean ...?)") as a UsageError. */
function usage(e: unknown): never {
  if (e instanceof CommanderError)
    throw new UsageError(
      e.message
        .replace(/^error: /, '')
        .replace(/\n\((.*)\)$/s, (_, s: string) => ` (${s.charAt(0).toLowerCase()}${s.slice(1)})`),
    );
  throw e;
}

export function parse(argv: string[]): Parsed {
  const c = parser();
  let operands: string[];
  try {
    const r = c.parseOptions(argv);
    // commander's own report (with a "did you mean" suggestion); not in its type declarations.
    if (r.unknown.length) {
      (c as unknown as { unknownOption?: (flag: string) => never }).unknownOption?.(r.unknown[0]!);
      throw new UsageError(`unknown option '${r.unknown[0]}'`);
    }
    operands = r.operands;
  } catch (e) {
    usage(e);
  }
  const raw = c.opts();
  const first = operands[0];
  // A file may be called `plan.yaml`: only a bare word is a command.
  const named = first !== undefined && (commandNames as readonly string[]).includes(first) && !/\.ya?ml$/.test(first);
  const command = (named ? operands.shift() : 'run') as CommandName;
  if (raw.help) return { kind: 'help', ...(named ? { command } : {}) };
  if (raw.version) return { kind: 'version' };
  if (operands.length === 0) throw new UsageError('no graph file given');
  if (operands.length > 1) throw new UsageError(`unexpected argument "${operands[1]}"`);
  const opts: OptionValues = {};
  for (const o of options) {
    const key = c.options.find((x) => x.flags === o.flags)!.attributeName();
    const v = raw[key];
    if (v === undefined) continue;
    if ((o.commands && !o.commands.includes(command)) || (o.when && !o.when(raw, command)))
      throw new UsageError(o.misplaced ?? `${optionParts(o).long} does not belong to graph-run ${command}`);
    opts[key] = o.value
      ? Array.isArray(v)
        ? v.map((x: string) => o.value!(x))
        : typeof v === 'string'
          ? o.value(v)
          : v
      : v;
  }
  return { kind: 'command', command, file: operands[0]!, opts };
}
