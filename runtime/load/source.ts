// YAML text -> plain value plus a way back from any path in it to file:line:col.
// Uses the yaml package's CST ranges; nothing after this module re-reads the text.

import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YNode } from 'yaml';
import { YamlSyntaxError, type SourceLoc } from '../errors.js';

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
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length) {
      return doc.errors.map((e) => {
        const p = lines.linePos(e.pos[0]);
        const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return new YamlSyntaxError(
          msg,
          { file: path, line: p.line, col: p.col },
          'check indentation, colons and brackets near this position',
        );
      });
    }
    return new SourceFile(path, text, doc, lines, doc.toJS({ maxAliasCount: 1000 }));
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
