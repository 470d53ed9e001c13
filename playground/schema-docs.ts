// What the playground's build puts in place of codemirror-json-schema's Markdown renderer
// (markdown-it with shiki: several MB of grammars and a WebAssembly regex engine for code
// blocks). The schema's descriptions are plain sentences with `code` spans: escaped text is enough.

const escapeHtml = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The description as HTML: escaped, with `code` spans as <code>. */
export function renderMarkdown(markdown: string, inline = true): string {
  const html = escapeHtml(String(markdown)).replace(/`([^`]+)`/g, '<code>$1</code>');
  return inline ? html : `<p>${html}</p>`;
}
