// YAML text -> plain value plus a way back from any path in it to file:line:col.
// Uses the yaml package's CST ranges; nothing after this module re-reads the text.

import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node as YNode,
  visit,
} from 'yaml';
import { YamlSyntaxError, type SourceLoc } from '../errors.js';
import { excerpt, MAX_YAML_BYTES } from './io.js';

/**
 * Most values a document may hold once its aliases are expanded: 999 aliases to a large row
 * would otherwise build (and then check) hundreds of millions of values from 300 KB of text.
 */
export const MAX_ALIAS_EXPANSION = 1_000_000;
/** Names JavaScript objects already have (Object.prototype's properties). */
export const RESERVED = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Most aliases in one document (yaml resolves each by walking the whole document). */
export const MAX_ALIASES = 1000;

export type Path = (string | number)[];

export class SourceFile {
  private constructor(
    readonly path: string,
    readonly text: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly value: unknown,
  ) {}

  /** Parse YAML; syntax errors become YamlSyntaxErrors with positions (all of them). */
  static parse(path: string, text: string): SourceFile | YamlSyntaxError[] {
    // Text given directly (parseGraph, a browser) has the same limit as a file (node-io.ts).
    if (text.length > MAX_YAML_BYTES)
      return [
        new YamlSyntaxError(
          `the text holds ${text.length} characters, over the limit of ${MAX_YAML_BYTES} for YAML`,
          { file: path, line: 1, col: 1 },
          'put large data in a CSV file (training.data.file)',
        ),
      ];
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const at = (offset: number) => {
      const p = lines.linePos(offset);
      return { file: path, line: p.line, col: p.col };
    };
    if (doc.errors.length) {
      return doc.errors.map((e) => {
        const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return new YamlSyntaxError(
          excerpt(msg, 200),
          at(e.pos[0]),
          'check indentation, colons and brackets near this position',
        );
      });
    }
    const aliasErrors = checkAliases(doc, at);
    if (aliasErrors.length) return aliasErrors;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: -1 });
    } catch (e) {
      // checkAliases found what yaml throws for; anything else still gets a position.
      return [new YamlSyntaxError(excerpt(String((e as Error).message), 200), at(0))];
    }
    return new SourceFile(path, text, doc, lines, value);
  }

  /**
   * Every key or string value that is a property of JavaScript's Object.prototype
   * (`__proto__`, `constructor`, `toString`, ...), with its position. A graph names parameters,
   * nodes, inputs, predictions and attributes with such strings, and a name that is also an
   * object's own property would be lost or misread somewhere; the loader refuses them.
   */
  reservedNames(): { name: string; loc: SourceLoc }[] {
    const found: { name: string; loc: SourceLoc }[] = [];
    visit(this.doc, {
      Scalar: (_key, node) => {
        if (typeof node.value === 'string' && RESERVED.has(node.value))
          found.push({ name: node.value, loc: this.at(node.range?.[0] ?? 0) });
      },
    });
    return found;
  }

  private at(offset: number): SourceLoc {
    const p = this.lines.linePos(offset);
    return { file: this.path, line: p.line, col: p.col };
  }

  /** Position of the value at `path`; of the key instead when `key` is set; else of the deepest existing ancestor. */
  loc(path: Path, key = false): SourceLoc {
    let node: unknown = this.doc.contents;
    let keyNode: YNode | undefined;
    let last: YNode | undefined = node as YNode;
    for (const seg of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
        if (!pair) break;
        keyNode = pair.key as YNode;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        node = item;
      } else break;
      if (node && (node as YNode).range) last = node as YNode;
      else if (keyNode?.range) last = keyNode;
    }
    const target = key && keyNode?.range ? keyNode : last;
    return this.at(target?.range?.[0] ?? 0);
  }
}

/**
 * Aliases checked before the document is expanded: each must name an anchor defined before it,
 * and all of them together may add at most MAX_ALIAS_EXPANSION values (counted with each
 * anchored node's expanded size, memoised, so the count itself is linear in the text).
 */
function checkAliases(doc: Document.Parsed, at: (offset: number) => SourceLoc): YamlSyntaxError[] {
  const errors: YamlSyntaxError[] = [];
  const size = new Map<unknown, number>();
  const open = new Set<unknown>();
  // Anchors in document order: an alias names the last one defined before it. (yaml's own
  // Alias.resolve walks the whole document for each alias.)
  const anchors = new Map<string, unknown>();
  let aliases = 0;
  let expanded = 0;
  let over = false;
  const count = (node: unknown): number => {
    if (node === null || typeof node !== 'object') return 1;
    const known = size.get(node);
    if (known !== undefined) return known;
    if (open.has(node)) return 1; // an alias inside its own anchor: yaml makes it a cycle, not a copy
    open.add(node);
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) anchors.set(anchor, node);
    let n = 1;
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const r = (node as YNode).range;
      if (++aliases === MAX_ALIASES + 1)
        errors.push(
          new YamlSyntaxError(
            `more than ${MAX_ALIASES} aliases`,
            at(r?.[0] ?? 0),
            'write the data out, or put it in a data file',
          ),
        );
      if (target === undefined) {
        errors.push(
          new YamlSyntaxError(
            `unresolved alias *${excerpt(node.source)}`,
            at(r?.[0] ?? 0),
            'an alias names an anchor (&name) defined above it',
          ),
        );
      } else {
        n = count(target);
        expanded += n;
        if (expanded > MAX_ALIAS_EXPANSION && !over) {
          over = true;
          errors.push(
            new YamlSyntaxError(
              `aliases expand to more than ${MAX_ALIAS_EXPANSION} values`,
              at(r?.[0] ?? 0),
              'write the data out, or put it in a data file',
            ),
          );
        }
      }
    } else if (isMap(node)) {
      for (const it of node.items) {
        // `{[1]: x}`, `? {a: 1}` or `!!binary AAAA: x`: yaml would stringify the key (with a
        // process warning naming it).
        const key = it.key as YNode | null | undefined;
        const scalarKey = key != null && isScalar(key) && (key.value === null || typeof key.value !== 'object');
        if (key != null && !scalarKey)
          errors.push(
            new YamlSyntaxError(
              'a key must be a name or a number, not a list, a mapping, an alias or binary data',
              at(key.range?.[0] ?? 0),
            ),
          );
        n += count(it.key) + count(it.value);
      }
    } else if (isSeq(node)) {
      for (const it of node.items) n += count(it);
    }
    open.delete(node);
    size.set(node, n);
    return n;
  };
  count(doc.contents);
  return errors;
}
