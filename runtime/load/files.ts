// The load stage: a graph file's text -> a parsed, schema-checked document with positions.
// Files are read through a LoaderIO and cached (a layer used twice is read once); every
// problem becomes a positioned error, and a file used from another carries that use's place.

import { NameError, SubgraphError, type GraphError, type SourceLoc } from '../errors.js';
import type { GraphDoc, Loaded } from './doc.js';
import { type LoaderIO, readHint, refusal } from './io.js';
import { checkLimits } from './limits.js';
import { checkSchema } from './schema.js';
import { applySettings, type Setting, settingPath } from './settings.js';
import { SourceFile } from './source.js';

export class GraphFiles {
  private readonly cache = new Map<string, Loaded | null>();

  /** Errors are appended to `errors`, shared with the stage that asks for the files. */
  constructor(
    readonly io: LoaderIO,
    private readonly errors: GraphError[],
  ) {}

  /**
   * Parse and schema-check one file (cached); null when it has errors (already recorded).
   * `settings` replace values the file writes (the top-level file's --set), before the check.
   */
  load(path: string, text?: string, usedFrom?: SourceLoc, settings?: readonly Setting[]): Loaded | null {
    if (this.cache.has(path)) return this.cache.get(path)!;
    const loaded = this.read(path, text, usedFrom, settings);
    this.cache.set(path, loaded);
    return loaded;
  }

  private read(
    path: string,
    text: string | undefined,
    usedFrom: SourceLoc | undefined,
    settings: readonly Setting[] = [],
  ): Loaded | null {
    let src = text;
    if (src === undefined) {
      try {
        src = this.io.read(path);
      } catch (e) {
        this.errors.push(
          new SubgraphError(
            `cannot read graph file "${path}"${refusal(e)}`,
            usedFrom,
            undefined,
            readHint(
              e,
              "check the path: it is relative to the file that uses it; std: names graph-run's own graphs/lib",
            ),
          ),
        );
        return null;
      }
    }
    const parsed = SourceFile.parse(path, src);
    if (Array.isArray(parsed)) {
      this.errors.push(...parsed.map((e) => withVia(e, usedFrom)));
      return null;
    }
    const reserved = parsed
      .reservedNames()
      .map(
        ({ name, loc }) =>
          new NameError(
            `"${name}" cannot be used as a name: every JavaScript object has a "${name}" of its own`,
            loc,
            undefined,
            'rename it (graph-run refuses the names of Object.prototype: __proto__, constructor, toString, valueOf, hasOwnProperty, ...)',
          ),
      );
    if (reserved.length) {
      this.errors.push(...reserved.map((e) => withVia(e, usedFrom)));
      return null;
    }
    const limits = checkLimits(parsed);
    if (limits.length) {
      this.errors.push(...limits.map((e) => withVia(e, usedFrom)));
      return null;
    }
    const set = applySettings(parsed, parsed.value, settings);
    if (set.length) {
      this.errors.push(...set);
      return null;
    }
    const errs = checkSchema(parsed);
    // A value given by --set is checked where it replaces the file's: the message says so.
    for (const e of errs)
      for (const s of settings) {
        const at = parsed.loc(settingPath(s.key));
        if (e.line === at.line && e.col === at.col) e.message += ` (the value of --set ${s.key})`;
      }
    if (errs.length || parsed.value === null || typeof parsed.value !== 'object') {
      this.errors.push(...errs.map((e) => withVia(e, usedFrom)));
      return null;
    }
    return { file: parsed, doc: parsed.value as GraphDoc };
  }
}

/** An error in a file used from another: the use's position (and its own uses) follow it. */
function withVia<E extends GraphError>(e: E, usedFrom?: SourceLoc): E {
  if (usedFrom && e.loc) (e.loc as SourceLoc).via = [usedFrom, ...(usedFrom.via ?? [])];
  return e;
}
