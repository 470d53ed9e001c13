// The playground's code editor: CodeMirror 6 with YAML highlighting, completion and hover docs
// from graph-run's published schema (schemas/graph.schema.json, through codemirror-json-schema's
// YAML mode), and graph-run's own errors marked where they are. The marks come from loading and
// checking the text with the library itself (not from a schema validator), so they are exactly the
// CLI's errors: positioned at file:line:col, with the "did you mean" hint in the message.

import { autocompletion, type CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { type Diagnostic, forEachDiagnostic, linter, lintGutter } from '@codemirror/lint';
import { EditorState, type Extension, StateEffect, type Text } from '@codemirror/state';
import { EditorView, hoverTooltip, keymap } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import * as jsonSchema from 'codemirror-json-schema';
import { yamlCompletion, yamlSchemaHover } from 'codemirror-json-schema/yaml';
import { yaml, yamlLanguage } from '@codemirror/lang-yaml';
import { indentWithTab } from '@codemirror/commands';
import { formatError, type GraphError } from '../runtime/index.js';
import schema from '../schemas/graph.schema.json' with { type: 'json' };
import { completeAt, type SchemaNode } from './schema-complete.js';

// The package's declaration files re-export without file extensions, which NodeNext resolution
// (this project's) cannot follow; the function is there at run time (esbuild resolves it).
const { stateExtensions } = jsonSchema as unknown as { stateExtensions: (schema: object) => Extension[] };

/** What a check of the text gives: the errors, positioned in this file or another. */
export interface CheckResult {
  errors: GraphError[];
  /** A failure that is not a graph error (a bug), shown at the first line. */
  other?: string;
}

export interface EditorOptions {
  parent: HTMLElement;
  /** The graph's path, as errors name it: errors in other files are shown at line 1. */
  path: () => string;
  /** Load and check the text; called as you type, once typing pauses. */
  check: (text: string) => CheckResult;
  /** Told each time the text has been checked (after the marks are placed). */
  checked?: (r: CheckResult) => void;
  /** Milliseconds of quiet before the text is checked. */
  delay?: number;
}

/**
 * codemirror-json-schema's YAML completion, and where it offers nothing (an empty indented line,
 * a value whose schema is a $ref), the playground's own from the same schema.
 */
function schemaCompletion(): (ctx: CompletionContext) => Promise<CompletionResult | null> {
  const library = yamlCompletion();
  return async (ctx) => {
    const r = await library(ctx);
    if (r && 'options' in r && r.options.length) return r;
    const word = ctx.matchBefore(/[\w.-]*/);
    // Unasked, only once something is typed: an empty line is asked for with Ctrl-Space.
    if (!ctx.explicit && (!word || word.from === word.to)) return null;
    const own = completeAt(schema as SchemaNode, ctx.state.doc.toString(), ctx.pos);
    if (!own?.options.length) return null;
    return { from: own.from, options: own.options, validFor: /^[\w.-]*$/ };
  };
}

/** The range an error marks: from its column to the end of the word there (at least one character). */
export function errorRange(doc: Text, line: number, col: number): { from: number; to: number } {
  const l = doc.line(Math.min(Math.max(1, line), doc.lines));
  const from = Math.min(l.to, l.from + Math.max(0, col - 1));
  const m = /^[\w./:-]+/.exec(doc.sliceString(from, l.to));
  const to = m ? from + m[0].length : Math.min(l.to, from + 1);
  // An empty line or the end of one: mark the line's last character so the mark can be seen.
  return to > from ? { from, to } : { from: Math.max(l.from, from - 1), to: Math.max(from, l.from + 1) };
}

/** graph-run's errors as CodeMirror diagnostics: message, then the hint, as the CLI prints them. */
export function diagnostics(doc: Text, r: CheckResult, path: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (r.other) out.push({ from: 0, to: Math.min(doc.length, doc.line(1).to), severity: 'error', message: r.other });
  for (const e of r.errors) {
    const here = e.file === path && e.line !== undefined;
    const { from, to } = here ? errorRange(doc, e.line!, e.col ?? 1) : { from: 0, to: doc.line(1).to };
    // The CLI's text: "path:line:col: Kind ...: message" and indented hint lines. In this file the
    // position is where the mark is, so say "line N:C"; another file keeps its name.
    const text = formatError(e)
      .split('\n')
      .map((l) => l.trim())
      .join('\n');
    const message = here ? text.replace(`${path}:`, 'line ') : text;
    out.push({ from, to: Math.max(to, from), severity: 'error', source: e.kind, message });
  }
  return out;
}

/** Check the text again although it did not change (a file it reads has arrived). */
const recheckEffect = StateEffect.define<null>();

/** The editor and what the page needs of it. */
export interface Editor {
  view: EditorView;
  text(): string;
  /** Replace the whole text (a new example, a dropped file); it is checked as if typed. */
  setText(text: string): void;
  /** Check the unchanged text again (the files it reads changed). */
  recheck(): void;
  /** The marked errors: line (1-based) and the marked text, in document order. */
  marks(): { line: number; text: string; message: string }[];
}

export function createEditor(opts: EditorOptions): Editor {
  const view = new EditorView({
    parent: opts.parent,
    state: EditorState.create({
      doc: '',
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        EditorState.tabSize.of(2),
        yaml(),
        // Completion and hover from the schema; the schema's own validator is not used: the
        // library's check below reports the same mistakes, positioned and with hints.
        yamlLanguage.data.of({ autocomplete: schemaCompletion() }),
        autocompletion({ activateOnTyping: true }),
        hoverTooltip(yamlSchemaHover()),
        stateExtensions(schema),
        lintGutter(),
        linter(
          (v) => {
            const r = opts.check(v.state.doc.toString());
            const d = diagnostics(v.state.doc, r, opts.path());
            // After CodeMirror has taken the diagnostics: the page's state then matches the marks.
            setTimeout(() => opts.checked?.(r), 0);
            return d;
          },
          {
            delay: opts.delay ?? 300,
            needsRefresh: (u) => u.transactions.some((t) => t.effects.some((e) => e.is(recheckEffect))),
          },
        ),
        EditorView.theme({
          '&': { height: '100%', fontSize: '13px' },
          '.cm-scroller': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace', lineHeight: '1.45' },
          '.cm-tooltip-lint': { whiteSpace: 'pre-wrap', maxWidth: '60ch' },
          '.cm-tooltip-hover': { maxWidth: '60ch', padding: '4px 8px' },
        }),
        EditorView.contentAttributes.of({ 'aria-label': 'graph YAML', spellcheck: 'false' }),
      ],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: 0 } });
      view.scrollDOM.scrollTop = 0;
    },
    recheck: () => view.dispatch({ effects: recheckEffect.of(null) }),
    marks() {
      const out: { line: number; text: string; message: string }[] = [];
      forEachDiagnostic(view.state, (d, from, to) =>
        out.push({
          line: view.state.doc.lineAt(from).number,
          text: view.state.doc.sliceString(from, to),
          message: d.message,
        }),
      );
      return out;
    },
  };
}
