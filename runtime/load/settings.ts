// Values given on the command line in place of the graph file's own (`--set optimizer.with.lr=0.01`):
// applied to the parsed top-level file before the schema check, so a value is checked (and later
// read) exactly as if it were written in the file, and its errors point at the place it replaces.
// A setting may only change a key the file writes: a key that is not there is a positioned error
// naming where the path stops, not a silent addition the graph never reads.

import { parse as parseYaml } from 'yaml';
import { SchemaError, type GraphError } from '../errors.js';
import { excerpt } from './io.js';
import { RESERVED, type Path, type SourceFile } from './source.js';

/** One value for one key of the top-level graph file: `key` as typed (`optimizer.with.lr`). */
export interface Setting {
  key: string;
  value: unknown;
}

/** Most characters of one --set argument (a key and its values). */
export const MAX_SETTING_CHARS = 10_000;

/** `optimizer.with.lr` -> ['optimizer', 'with', 'lr']; `nodes.2.attrs.rate` indexes a list. */
export function settingPath(key: string): Path {
  return key.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** A key as the settings accept it: names and list positions joined by dots. */
export const SETTING_KEY = /^[A-Za-z_][\w-]*(\.(\d+|[A-Za-z_][\w-]*))*$/;

/**
 * `KEY=V1,V2,...` -> the key and its values, each read as YAML (`1e-3` a number, `relu` a
 * string, `[64, 64]` a list); commas inside brackets or quotes do not split. Throws an Error
 * with the message users see.
 */
export function parseSetting(arg: string): { key: string; values: unknown[] } {
  if (arg.length > MAX_SETTING_CHARS) throw new Error(`--set takes at most ${MAX_SETTING_CHARS} characters`);
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq).trim();
  if (eq < 0 || !SETTING_KEY.test(key))
    throw new Error(
      `--set takes KEY=VALUE with KEY a dotted path in the graph (optimizer.with.lr=0.01), got "${excerpt(arg)}"`,
    );
  const values: unknown[] = [];
  for (const part of splitTop(arg.slice(eq + 1))) {
    if (part.trim() === '') throw new Error(`--set ${key}: an empty value (in "${excerpt(arg)}")`);
    try {
      values.push(parseYaml(part, { maxAliasCount: 0 }));
    } catch (e) {
      throw new Error(
        `--set ${key}: "${excerpt(part)}" is not a YAML value (${excerpt((e as Error).message.split('\n')[0]!, 80)})`,
      );
    }
  }
  return { key, values };
}

/** `s` split at commas outside brackets, braces and quotes. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** Strings of a value that name Object.prototype's properties (refused as in a file). */
function reservedIn(v: unknown): string | undefined {
  if (typeof v === 'string') return RESERVED.has(v) ? v : undefined;
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      const r = RESERVED.has(k) ? k : reservedIn(x);
      if (r) return r;
    }
  }
  return undefined;
}

/**
 * Put each setting's value in `value` (the parsed file, changed in place); returns the errors:
 * a key the file does not write, a reserved name. `file` positions them.
 */
export function applySettings(file: SourceFile, value: unknown, settings: readonly Setting[]): GraphError[] {
  const errors: GraphError[] = [];
  for (const { key, value: v } of settings) {
    const path = settingPath(key);
    let at: unknown = value;
    let i = 0;
    for (; i < path.length - 1; i++) {
      const next = child(at, path[i]!);
      if (next === undefined) break;
      at = next;
    }
    const last = path[i]!;
    const here = path.slice(0, i);
    const name = here.length ? here.join('.') : 'the top level';
    if (i < path.length - 1 || child(at, last) === undefined) {
      const keys = at && typeof at === 'object' && !Array.isArray(at) ? Object.keys(at) : [];
      const what = Array.isArray(at)
        ? `${name} is a list of ${at.length} (positions 0 to ${at.length - 1})`
        : at && typeof at === 'object'
          ? `the graph has no "${last}" under ${name}`
          : `${name} is a single value, not a mapping`;
      errors.push(
        new SchemaError(
          `--set ${key}: ${what}`,
          file.loc(here, true),
          `--set changes a value the file writes${keys.length ? `; keys there: ${keys.slice(0, 12).join(', ')}` : ''}`,
        ),
      );
      continue;
    }
    const reserved = reservedIn(v);
    if (reserved) {
      errors.push(
        new SchemaError(
          `--set ${key}: "${reserved}" cannot be used as a name: every JavaScript object has a "${reserved}" of its own`,
          file.loc(path),
        ),
      );
      continue;
    }
    (at as Record<string | number, unknown>)[last] = v;
  }
  return errors;
}

/** The value under `seg` in a mapping or list, or undefined when there is none. */
function child(at: unknown, seg: string | number): unknown {
  if (Array.isArray(at)) return typeof seg === 'number' && seg < at.length ? at[seg] : undefined;
  if (at && typeof at === 'object' && Object.hasOwn(at, String(seg))) return (at as Record<string, unknown>)[seg];
  return undefined;
}
