/**
 * Conformance (issue 11 §1): a venue's facts live in its module. Fails when a venue's id, display name
 * or symbol format appears in source outside `server/venues/<venue>/` and the two registry files.
 * Fixtures, docs, README and tests are not scanned. Comments and strings count.
 *
 * What is searched for is derived from the registry, per venue:
 * - the id and display name, as a word (camel-case humps count: `OkxParser`, `okxIdleMs`);
 * - the native symbol spelling from the module's own `symbols.nativeSymbol` (USDT and USDC): the whole
 *   shape with any base (`…-USDT-SWAP`, `…USDTM`, `…USDT`), the distinctive suffix alone when there is
 *   one (`-USDT-SWAP`, `-SWAP`, `USDTM`), and a venue's own asset code (`XBT` for BTC);
 * - the channel/stream names the adapter's plan puts around a symbol (`@bookTicker`, `tickers.`),
 *   for adapters that can plan without network.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXCHANGES, venueFacts, type Exchange } from '../../shared/exchanges.js';
import { VENUES } from '../../server/venues/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['server', 'shared', 'web/src', 'bench', 'scripts'];
const EXTENSIONS = /\.(ts|js|mjs|cjs|svelte|css|html)$/;
/** Where any venue may be named: the registry files. */
const REGISTRY = ['shared/venues.ts', 'server/venues/index.ts'];

/**
 * Known exceptions: file, venue, and why. Keep this short; an entry needs a reason a reviewer accepts.
 */
const ALLOWLIST: Array<{ file: string; venue: Exchange; reason: string; lines?: RegExp }> = [
  ...(['bybit', 'binance', 'bitget'] as const).map((venue) => ({
    file: 'server/venues/kucoin/sim.ts',
    venue,
    reason: "KuCoin's documented index-price payload lists its source exchanges by name (`sourceExchanges`): wire data of that venue, not another venue's fact",
  })),
  ...(['bybit', 'binance'] as const).map((venue) => ({
    file: 'server/venues/hyperliquid/references.ts',
    venue,
    reason: "Hyperliquid's predictedFundings answer names the venues it reports on (`BinPerp`, `BybitPerp`): wire data of that venue, mapped to registry ids in this one file",
  })),
];

interface Pattern {
  venue: Exchange;
  what: string;
  re: RegExp;
}

/** A pattern and every venue it belongs to (two venues may share a symbol shape, e.g. `<BASE>USDT`). */
interface Owned extends Pattern {
  owners: Exchange[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A word, case-insensitive, where camel-case humps are word starts: `okx`, `OKX`, `OkxParser`,
 * `createOkxAdapter`, `okxIdleMs`; not inside another word (`bookx`, `aggregate` for `gate`).
 */
function wordRe(w: string): RegExp {
  const body = [...w.slice(1)].map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : escape(ch))).join('');
  const lo = escape(w[0].toLowerCase());
  const up = escape(w[0].toUpperCase());
  return new RegExp(`(?:(?<![A-Za-z])[${lo}${up}]|(?<=[a-z])${up})${body}(?![a-z])`, 'g');
}

function symbolPatterns(venue: Exchange): Pattern[] {
  const { symbols } = VENUES[venue];
  const out: Pattern[] = [];
  for (const quote of ['USDT', 'USDC']) {
    for (const base of ['BTC', 'ETH']) {
      const native = symbols.nativeSymbol(base, quote);
      const at = native.indexOf(base);
      if (at < 0) {
        // The venue spells this base its own way (`XBT`): the code itself is the venue's.
        const listed = symbols.parseNative(native)?.base;
        if (listed && listed !== base) out.push({ venue, what: `asset code ${listed}`, re: new RegExp(`(?<![A-Za-z])${escape(listed)}(?![a-z])`, 'g') });
        continue;
      }
      const prefix = native.slice(0, at);
      const suffix = native.slice(at + base.length);
      // A venue naming perps by the bare coin (`BTC`) has no distinctive symbol shape: nothing to search for.
      if (prefix === '' && suffix === '') continue;
      out.push({ venue, what: `symbol ${prefix}<BASE>${suffix}`, re: new RegExp(`(?<![A-Za-z0-9])${escape(prefix)}[A-Z0-9]{2,}${escape(suffix)}(?![A-Za-z0-9])`, 'g') });
      // The suffix alone when it says more than the settle currency (`USDTM`, `-USDT-SWAP`, `-SWAP`).
      if (suffix !== quote && suffix.includes(quote)) out.push({ venue, what: `suffix ${suffix}`, re: new RegExp(`${escape(suffix)}(?![A-Za-z0-9])`, 'g') });
      for (const piece of suffix.split(quote)) {
        if (piece.length >= 4 && /[^A-Za-z0-9]/.test(piece)) out.push({ venue, what: `suffix ${piece}`, re: new RegExp(`${escape(piece)}(?![A-Za-z0-9])`, 'g') });
      }
    }
  }
  return out;
}

/** Channel/stream markers around a symbol in the adapter's subscribe messages (`{s}@bookTicker`, `tickers.{S}`). */
async function channelPatterns(venue: Exchange): Promise<Pattern[]> {
  const { adapter, symbols } = VENUES[venue];
  const sym = symbols.nativeSymbol('BTC', 'USDT');
  let messages: string[];
  try {
    const plans = await adapter.plan({ ws: 'ws://127.0.0.1:9', rest: 'http://127.0.0.1:9' }, [sym], async () => {
      throw new Error('no network in the conformance test');
    }, {});
    messages = plans.flatMap((p) => p.subscribeMessages);
  } catch {
    return []; // the plan needs REST (a token): nothing derivable offline
  }
  const out: Pattern[] = [];
  const strings = messages.flatMap((m) => JSON.stringify(JSON.parse(m)).match(/"(?:[^"\\]|\\.)*"/g) ?? []).map((s) => JSON.parse(s) as string);
  for (const s of strings) {
    const i = s.toLowerCase().indexOf(sym.toLowerCase());
    if (i < 0) continue;
    const before = s.slice(0, i);
    const after = s.slice(i + sym.length);
    if (before.length >= 5 && /[^A-Za-z0-9]$/.test(before)) out.push({ venue, what: `channel ${before}<SYMBOL>`, re: new RegExp(`${escape(before)}(?=[A-Za-z0-9$])`, 'g') });
    if (after.length >= 5 && /^[^A-Za-z0-9]/.test(after)) out.push({ venue, what: `stream <symbol>${after}`, re: new RegExp(`(?<=[A-Za-z0-9}])${escape(after.split(/(?<=.)@/)[0])}(?![A-Za-z0-9])`, 'g') });
  }
  return out;
}

async function patterns(): Promise<Owned[]> {
  const out: Pattern[] = [];
  for (const venue of EXCHANGES) {
    const facts = venueFacts(venue);
    const names = new Set([facts.id, facts.displayName]);
    for (const n of names) out.push({ venue, what: `name ${n}`, re: wordRe(n) });
    out.push(...symbolPatterns(venue), ...(await channelPatterns(venue)));
  }
  // One pattern per regex, owned by every venue that produced it.
  const byRe = new Map<string, Owned>();
  for (const p of out) {
    const have = byRe.get(p.re.source);
    if (!have) byRe.set(p.re.source, { ...p, owners: [p.venue] });
    else if (!have.owners.includes(p.venue)) have.owners.push(p.venue);
  }
  return [...byRe.values()];
}

function files(dir: string): string[] {
  const abs = join(ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    if (e === 'node_modules' || e === 'dist' || e === 'results' || e.startsWith('.')) return [];
    const rel = `${dir}/${e}`;
    return statSync(join(ROOT, rel)).isDirectory() ? files(rel) : EXTENSIONS.test(e) ? [rel] : [];
  });
}

/** Every place a venue's facts appear outside where they may. */
export async function findOffences(): Promise<string[]> {
  const pats = await patterns();
  const out: string[] = [];
  for (const file of SCANNED.flatMap(files)) {
    if (REGISTRY.includes(file)) continue;
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    for (const p of pats) {
      if (p.owners.some((v) => file.startsWith(`server/venues/${v}/`))) continue;
      if (p.owners.some((v) => ALLOWLIST.some((a) => a.file === file && a.venue === v && a.lines === undefined))) continue;
      const excused = ALLOWLIST.filter((a) => a.file === file && a.lines !== undefined && p.owners.includes(a.venue)).map((a) => a.lines!);
      lines.forEach((line, i) => {
        if (excused.some((re) => re.test(line))) return;
        p.re.lastIndex = 0;
        const m = p.re.exec(line);
        if (m) out.push(`${file}:${i + 1}: ${p.owners.join('/')} ${p.what} ("${m[0]}") in: ${line.trim().slice(0, 140)}`);
      });
    }
  }
  return [...new Set(out)].sort();
}

describe('venue conformance: a venue is named only in its module and the registry', () => {
  it('derives search patterns for every registered venue', async () => {
    const pats = await patterns();
    for (const venue of EXCHANGES) {
      // Name and symbol shape; a venue naming perps by the bare coin has only its name to search for.
      const bare = VENUES[venue].symbols.nativeSymbol('BTC', 'USDT') === 'BTC';
      expect(pats.filter((p) => p.owners.includes(venue)).length, venue).toBeGreaterThanOrEqual(bare ? 1 : 2);
      // The patterns find the venue's own facts in its own module (they are not vacuous).
      const own = files(`server/venues/${venue}`).map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
      for (const p of pats.filter((x) => x.owners.includes(venue) && x.what.startsWith('name'))) {
        p.re.lastIndex = 0;
        expect(p.re.test(own), `${venue} ${p.what} in its module`).toBe(true);
      }
    }
  });

  it('finds no venue name or symbol format in server/, shared/, web/src/, bench/, scripts/ outside the venue module and the registry', async () => {
    const offences = await findOffences();
    expect(offences, `${offences.length} offence(s):\n${offences.join('\n')}`).toEqual([]);
  });

  it('every allowlist entry still matches something (no stale exceptions)', async () => {
    for (const a of ALLOWLIST) {
      const text = readFileSync(join(ROOT, a.file), 'utf8');
      expect(text.toLowerCase().includes(a.venue), `${a.file} (${a.venue}): ${a.reason}`).toBe(true);
    }
  });
});
