/**
 * RFC 4180 CSV: a header row, CRLF line ends, a field quoted when it holds a comma, a double quote, CR or
 * LF (quotes inside doubled). No byte-order mark, so strict readers see the first header unchanged.
 */
import type { TSchema } from 'typebox';
import { cellText, type Column, columnsOf } from './columns.js';

export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function encodeCsv(columns: readonly Column[], rows: Iterable<unknown>): string {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(cellText(row, c))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

const cache = new WeakMap<TSchema, Column[]>();

/** `encodeCsv` with the columns of `rowSchema` (derived once per schema). */
export function rowsToCsv(rowSchema: TSchema, rows: Iterable<unknown>): string {
  let cols = cache.get(rowSchema);
  if (!cols) cache.set(rowSchema, (cols = columnsOf(rowSchema)));
  return encodeCsv(cols, rows);
}
