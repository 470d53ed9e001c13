// CSV as RFC 4180 writes it, with the file:line:column of every field, so a missing or
// non-numeric value (and later shape or label errors) point into the data file.

import { DataError, type GraphError, type SourceLoc } from '../errors.js';
import { excerpt } from '../load/io.js';

/** Where a plain field ends: a comma, LF or CR. */
const stop = (c: number) => c === 44 || c === 10 || c === 13;

/** A parsed CSV: header names and, per data row, its fields with their positions. */
export interface Csv {
  header: { name: string; loc: SourceLoc }[];
  rows: { fields: string[]; locs: SourceLoc[]; line: number }[];
}

/**
 * RFC 4180 CSV: commas, optional double quotes ("" inside quotes is a quote), CRLF or LF.
 * Blank lines are skipped. Fields are trimmed. Errors: a row with the wrong number of fields.
 */
export function parseCsv(text: string, file: string, errors: GraphError[]): Csv | null {
  const records: { fields: string[]; locs: SourceLoc[]; line: number }[] = [];
  let line = 1,
    col = 1,
    i = 0;
  const n = text.length;
  while (i < n) {
    const fields: string[] = [],
      locs: SourceLoc[] = [];
    const startLine = line;
    let blank = true;
    for (;;) {
      // One field: skip leading spaces, then a quoted or plain value.
      const lead = i;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      col += i - lead;
      const loc = { file, line, col };
      let value = '';
      if (text[i] === '"') {
        blank = false;
        i++;
        col++;
        // Runs between quotes are sliced, not built a character at a time: a 60 MB field took
        // 22 s and 2.2 GB that way.
        const parts: string[] = [];
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) {
            errors.push(new DataError('a quoted field is not closed', loc));
            return null;
          }
          const chunk = text.slice(i, q);
          const nl = chunk.lastIndexOf('\n');
          if (nl >= 0) {
            for (let k = 0; k < chunk.length; k++) if (chunk.charCodeAt(k) === 10) line++;
            col = chunk.length - nl;
          } else col += chunk.length;
          if (text[q + 1] === '"') {
            parts.push(chunk, '"');
            i = q + 2;
            col += 2;
          } else {
            parts.push(chunk);
            i = q + 1;
            col++;
            break;
          }
        }
        value = parts.join('');
        const rest = i;
        while (i < n && !stop(text.charCodeAt(i))) i++;
        col += i - rest;
      } else {
        const start = i;
        while (i < n && !stop(text.charCodeAt(i))) i++;
        col += i - start;
        value = text.slice(start, i).trim();
        if (value !== '') blank = false;
      }
      fields.push(value);
      locs.push(loc);
      if (i < n && text[i] === ',') {
        blank = false;
        i++;
        col++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    col = 1;
    if (!blank) records.push({ fields, locs, line: startLine });
  }
  if (!records.length) {
    errors.push(
      new DataError('the CSV file is empty; it needs a header row naming the columns', { file, line: 1, col: 1 }),
    );
    return null;
  }
  const [head, ...rows] = records;
  const header = head!.fields.map((name, k) => ({ name, loc: head!.locs[k]! }));
  let ok = true;
  for (const r of rows) {
    if (r.fields.length !== header.length) {
      errors.push(
        new DataError(
          `row has ${r.fields.length} field${r.fields.length === 1 ? '' : 's'}, the header has ${header.length}`,
          { file, line: r.line, col: 1 },
        ),
      );
      ok = false;
    }
  }
  return ok ? { header, rows } : null;
}

/** A CSV or JSON field as a number, or an error at its position. */
export function numberAt(text: string, loc: SourceLoc, column: string, errors: GraphError[]): number | undefined {
  if (text === '') {
    errors.push(
      new DataError(
        `missing value in column "${excerpt(column)}"`,
        loc,
        undefined,
        'every row needs a number in every column the graph reads',
      ),
    );
    return undefined;
  }
  const v = Number(text);
  if (!Number.isFinite(v)) {
    errors.push(new DataError(`"${excerpt(text)}" in column "${excerpt(column)}" is not a number`, loc));
    return undefined;
  }
  return v;
}
