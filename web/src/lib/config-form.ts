/**
 * The config panel's fields, derived from the shared TypeBox schema (so a new config field shows up by
 * itself), and the partial patch built from what the user changed. Validation is the server's: a value
 * that does not parse as a number is still sent, and the 400 names the field.
 */
import { ConfigSchema, type Config } from '../../../shared/config.js';
import { venueDisplayName } from '../../../shared/exchanges.js';

export type FieldKind = 'number' | 'integer' | 'boolean' | 'enum' | 'multi' | 'list' | 'text';

export interface FieldSpec {
  /** Dotted path, as the server names fields in errors, e.g. `fees.takerBps.<venue id>`. */
  path: string;
  label: string;
  unit: string;
  kind: FieldKind;
  options: string[];
  min: number | null;
  max: number | null;
  description: string;
  /** A list that also accepts one word for "everything" (market.instruments: `all`); typed as that word. */
  allValue?: string;
  /** A list whose items are sent as typed (venue options), not upper-cased like instrument keys. */
  keepCase?: boolean;
  /**
   * Shown value = stored value × scale: a funding fraction per 8 h (`…8h`) is edited in bps per 8 h (× 10 000),
   * so the form uses one unit for rates and thresholds. Absent = 1.
   */
  scale?: number;
  /** A list whose every item must match this (the schema's item pattern, e.g. market.exclude's `KEY` or `venue:KEY`). */
  itemPattern?: string;
}

export interface SectionSpec {
  key: keyof Config;
  title: string;
  fields: FieldSpec[];
}

/** What the user typed: text for numbers and lists, booleans, selections. */
export type DraftValue = string | boolean | string[];
export type Draft = Record<string, DraftValue>;

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  const?: unknown;
  items?: JsonSchema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  description?: string;
}

const SECTION_TITLES: Record<keyof Config, string> = {
  thresholds: 'Detection thresholds',
  detector: 'Detector',
  fees: 'Fees (tier per venue, or custom figures)',
  strategy: 'Strategy (paper trading)',
  exits: 'Exits',
  risk: 'Risk limits',
  market: 'Market',
  stream: 'Stream',
  venues: 'Venue options',
  depth: 'Order books (depth for candidates)',
};

const UNITS: [RegExp, string][] = [
  [/Bps$/, 'bps'],
  [/Ms$/, 'ms'],
  [/Usd$/, 'USD'],
  [/Pct$/, '%'],
  [/Hours$/, 'h'],
  [/8h$/, 'bps/8h'],
  [/Hz$/, 'Hz'],
  [/Bytes$/, 'bytes'],
];

function labelAndUnit(key: string, parentKey: string): { label: string; unit: string } {
  if (parentKey === 'takerBps') return { label: venueDisplayName(key), unit: 'bps' };
  if (parentKey === 'makerBps') return { label: `${venueDisplayName(key)} maker`, unit: 'bps' };
  if (parentKey === 'tier') return { label: `${venueDisplayName(key)} tier`, unit: '' };
  let base = key;
  let unit = '';
  for (const [re, u] of UNITS) {
    if (re.test(base)) {
      base = base.replace(re, '');
      unit = u;
      break;
    }
  }
  const words = base.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return { label: words[0].toUpperCase() + words.slice(1), unit };
}

function fieldFrom(path: string, key: string, parentKey: string, s: JsonSchema): FieldSpec[] {
  if (s.type === 'object' && s.properties) {
    return Object.entries(s.properties).flatMap(([k, child]) => fieldFrom(`${path}.${k}`, k, key, child));
  }
  const named = labelAndUnit(key, parentKey);
  // venues.<id>.<option>: the venue's name first (the form lists every venue's options in one section).
  const venue = /^venues\.([^.]+)\./.exec(path)?.[1];
  const label = venue ? `${venueDisplayName(venue)}: ${named.label.toLowerCase()}` : named.label;
  const unit = named.unit;
  const base = { path, label, unit, options: [] as string[], min: null as number | null, max: null as number | null, description: s.description ?? '', ...(venue ? { keepCase: true } : {}) };
  if (s.type === 'number' || s.type === 'integer') {
    const min = s.minimum ?? s.exclusiveMinimum ?? null;
    const max = s.maximum ?? s.exclusiveMaximum ?? null;
    // A funding fraction per 8 h (`minFundingDelta8h`) is edited in bps per 8 h, a share 0..1 (`…Share`) in percent.
    const display = /8h$/.test(key) ? { scale: BPS_PER_FRACTION, note: 'Edited in bps per 8 h (1 bp = 0.0001).' } : /Share$/.test(key) ? { scale: 100, note: 'Edited in percent.' } : null;
    if (display && s.type === 'number') {
      const { scale } = display;
      return [{ ...base, kind: 'number', unit: scale === 100 ? '%' : unit, scale, min: min === null ? null : scaled(min, scale), max: max === null ? null : scaled(max, scale), description: `${base.description.replace(/\s*\(fraction\)/, '')} ${display.note}` }];
    }
    return [{ ...base, kind: s.type, min, max }];
  }
  if (s.type === 'boolean') return [{ ...base, kind: 'boolean' }];
  if (s.anyOf && s.anyOf.every((a) => typeof a.const === 'string')) return [{ ...base, kind: 'enum', options: s.anyOf.map((a) => String(a.const)) }];
  if (s.type === 'array' && s.items?.anyOf?.every((a) => typeof a.const === 'string')) {
    return [{ ...base, kind: 'multi', options: s.items.anyOf.map((a) => String(a.const)) }];
  }
  if (s.type === 'array') return [{ ...base, kind: 'list', unit: 'comma-separated', ...(s.items?.pattern ? { itemPattern: s.items.pattern } : {}) }];
  if (s.type === 'string') return [{ ...base, kind: 'text' }];
  // "all" or a list (market.instruments): a list field where the word itself is accepted too.
  const word = s.anyOf?.find((a) => typeof a.const === 'string');
  const list = s.anyOf?.find((a) => a.type === 'array');
  if (word && list) {
    return [{ ...base, kind: 'list', unit: `${String(word.const)}, or comma-separated`, allValue: String(word.const), ...(list.items?.pattern ? { itemPattern: list.items.pattern } : {}) }];
  }
  return [];
}

const BPS_PER_FRACTION = 1e4;

/** value × scale without binary noise (0.00015 × 10⁴ is 1.4999999999999998): twelve significant digits are plenty. */
function scaled(value: number, scale: number): number {
  return Number((value * scale).toPrecision(12));
}

/** Sections in display order, from the schema. */
export function configSections(schema: JsonSchema = ConfigSchema as unknown as JsonSchema): SectionSpec[] {
  const order: (keyof Config)[] = ['thresholds', 'detector', 'fees', 'strategy', 'exits', 'risk', 'market', 'stream'];
  const props = schema.properties ?? {};
  const keys = [...order.filter((k) => k in props), ...(Object.keys(props) as (keyof Config)[]).filter((k) => !order.includes(k))];
  // A section with no field (venues, while no venue declares options) is left out, not shown empty.
  return keys.map((key) => ({ key, title: SECTION_TITLES[key] ?? key, fields: fieldFrom(key, key, '', props[key]) })).filter((s) => s.fields.length > 0);
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (typeof cur[part] !== 'object' || cur[part] === null) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** The draft that shows `config` unchanged. */
export function draftFromConfig(config: Config, sections: SectionSpec[]): Draft {
  const draft: Draft = {};
  for (const s of sections) {
    for (const f of s.fields) {
      const v = getPath(config, f.path);
      if (f.kind === 'boolean') draft[f.path] = v === true;
      else if (f.kind === 'multi') draft[f.path] = Array.isArray(v) ? v.map(String) : [];
      else if (f.kind === 'list') draft[f.path] = Array.isArray(v) ? v.join(', ') : f.allValue !== undefined && v === f.allValue ? f.allValue : '';
      else if (typeof v === 'number' && f.scale) draft[f.path] = String(scaled(v, f.scale));
      else draft[f.path] = v === undefined || v === null ? '' : String(v);
    }
  }
  return draft;
}

function parseValue(f: FieldSpec, d: DraftValue): unknown {
  if (f.kind === 'boolean') return d === true;
  if (f.kind === 'multi') return Array.isArray(d) ? d : [];
  if (f.kind === 'list') {
    if (f.allValue !== undefined && String(d).trim().toLowerCase() === f.allValue) return f.allValue;
    if (f.keepCase) return String(d).split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
    // Keys are upper case; a `venue:KEY` prefix (market.exclude) keeps the venue id's lower case.
    return String(d)
      .split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const i = s.indexOf(':');
        return i < 0 ? s.toUpperCase() : `${s.slice(0, i).toLowerCase()}:${s.slice(i + 1).toUpperCase()}`;
      });
  }
  if (f.kind === 'number' || f.kind === 'integer') {
    const text = String(d).trim().replace(/_/g, '');
    const n = text === '' ? NaN : Number(text);
    if (!Number.isFinite(n)) return String(d); // not a number: let the server name the field
    return f.scale ? scaled(n, 1 / f.scale) : n;
  }
  return d;
}

/** The items of a list field that do not match its pattern, as they will be sent (upper-cased keys, lower-case venue). */
export function invalidItems(f: FieldSpec, d: DraftValue): string[] {
  if (f.kind !== 'list' || !f.itemPattern) return [];
  const value = parseValue(f, d);
  if (!Array.isArray(value)) return [];
  const re = new RegExp(f.itemPattern);
  return value.map(String).filter((item) => !re.test(item));
}

/** What a list field's entries must look like, for its error message. */
const ITEM_HINTS: Record<string, string> = {
  'market.exclude': 'KEY or venue:KEY (e.g. DOGE-PERP, or <venue id>:PEPE-PERP)',
  'market.instruments': 'an instrument key (e.g. BTC-PERP)',
};

/**
 * Errors the form can name before sending, per field path: list entries that do not match the field's pattern
 * (market.exclude takes `KEY` or `venue:KEY`). Everything else is the server's to judge (its 400 names the field).
 */
export function draftErrors(draft: Draft, sections: SectionSpec[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sections) {
    for (const f of s.fields) {
      if (!(f.path in draft)) continue;
      const bad = invalidItems(f, draft[f.path]);
      if (bad.length > 0) out[f.path] = `not ${ITEM_HINTS[f.path] ?? 'a valid entry'}: ${bad.join(', ')}`;
    }
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** Only the fields whose parsed draft differs from `config`, as a nested partial patch; null when nothing changed. */
export function buildPatch(config: Config, draft: Draft, sections: SectionSpec[]): Record<string, unknown> | null {
  const patch: Record<string, unknown> = {};
  let changed = false;
  for (const s of sections) {
    for (const f of s.fields) {
      if (!(f.path in draft)) continue;
      const value = parseValue(f, draft[f.path]);
      if (same(value, getPath(config, f.path))) continue;
      setPath(patch, f.path, value);
      changed = true;
    }
  }
  return changed ? patch : null;
}

/** Paths whose draft differs from `config` (to mark edited fields). */
export function dirtyPaths(config: Config, draft: Draft, sections: SectionSpec[]): Set<string> {
  const out = new Set<string>();
  for (const s of sections) for (const f of s.fields) if (f.path in draft && !same(parseValue(f, draft[f.path]), getPath(config, f.path))) out.add(f.path);
  return out;
}
