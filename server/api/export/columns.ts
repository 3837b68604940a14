/**
 * The columns of a CSV export, derived from the TypeBox schema of one row (the same schema the JSON route
 * declares), so an export follows the REST contract without a second list to keep in step.
 *
 * Rules (docs/exports.md states them for users):
 * - Column order = the schema's property declaration order, depth first: stable across releases except
 *   where the schema itself changes.
 * - A nested object (e.g. a position's `long` leg) is flattened with dotted names (`long.exchange`); a
 *   nullable nested object too (its cells are empty when it is null).
 * - A point in time (a schema described as epoch ms, see `Ms` in shared/schemas.ts) is written as
 *   ISO-8601 UTC with milliseconds, and its column renamed `…Ms` → `…Utc`; 0 or null (unknown) is empty.
 * - An array or a free-form record (e.g. a position's `transitions`) is one cell holding its JSON.
 * - Everything else is the JSON value as text: numbers unrounded (JavaScript's shortest round-trip form),
 *   booleans `true`/`false`, absent or null empty.
 */
import type { TSchema } from 'typebox';
import { EPOCH_MS_SUFFIX } from '../../../shared/schemas.js';

export type CellKind = 'value' | 'time' | 'json';

export interface Column {
  /** Header text, e.g. `long.exchange`, `openedUtc`. */
  name: string;
  /** Property path into a row. */
  path: readonly string[];
  kind: CellKind;
}

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  description?: string;
}

const isNull = (s: SchemaNode): boolean => s.type === 'null';
const members = (s: SchemaNode): SchemaNode[] => s.anyOf ?? s.oneOf ?? [s];
const isTime = (s: SchemaNode): boolean => members(s).some((m) => m.type === 'number' && typeof m.description === 'string' && m.description.endsWith(EPOCH_MS_SUFFIX));

/** The object schema with declared properties this node is (or is nullable of), or null. */
function objectOf(s: SchemaNode): SchemaNode | null {
  const nonNull = members(s).filter((m) => !isNull(m));
  if (nonNull.length !== 1) return null;
  const m = nonNull[0];
  return m.type === 'object' && m.properties && Object.keys(m.properties).length > 0 ? m : null;
}

const isStructured = (s: SchemaNode): boolean => members(s).some((m) => m.type === 'array' || (m.type === 'object' && !objectOf(m)));

const timeName = (name: string): string => (name.endsWith('Ms') ? `${name.slice(0, -2)}Utc` : `${name}Utc`);

/** The columns of rows shaped by `rowSchema` (an object schema). */
export function columnsOf(rowSchema: TSchema): Column[] {
  const root = objectOf(rowSchema as SchemaNode);
  if (!root) throw new Error('columnsOf: the row schema must be an object with properties');
  const out: Column[] = [];
  const walk = (node: SchemaNode, path: string[]): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const p = [...path, key];
      const nested = objectOf(child);
      if (nested) walk(nested, p);
      else if (isTime(child)) out.push({ name: [...path, timeName(key)].join('.'), path: p, kind: 'time' });
      else if (isStructured(child)) out.push({ name: p.join('.'), path: p, kind: 'json' });
      else out.push({ name: p.join('.'), path: p, kind: 'value' });
    }
  };
  walk(root, []);
  return out;
}

function valueAt(row: unknown, path: readonly string[]): unknown {
  let v: unknown = row;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** One cell's text (before CSV quoting). */
export function cellText(row: unknown, col: Column): string {
  const v = valueAt(row, col.path);
  if (v === undefined || v === null) return '';
  switch (col.kind) {
    case 'time':
      return typeof v === 'number' && Number.isFinite(v) && v !== 0 ? new Date(v).toISOString() : '';
    case 'json':
      return JSON.stringify(v);
    case 'value':
      if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
      if (typeof v === 'string') return v;
      if (typeof v === 'boolean') return v ? 'true' : 'false';
      return JSON.stringify(v);
  }
}
