/**
 * One protocol suite for every venue in the registry (issue 11 §1). The sections are the same for
 * each venue — subscribe (ack), heartbeat, reconnect and reset, snapshot/delta semantics, bad frames —
 * and run from the venue's case data (`test/fixtures/<venue>/protocol.ts`, see protocol-case.ts) on
 * three levels: the parser on documented fixtures, the simulated twin over a real socket (spoken to
 * through the adapter's own plan and parser), and the real FeedManager. Nothing here names a venue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { perVenue, type Exchange } from '../../shared/exchanges.js';
import { isEpochMs, type ConnectionPlan, type FetchJson, type MetadataTable, type ParseOutcome, type VenueParser } from '../../server/feeds/adapter.js';
import { createFetchJson } from '../../server/feeds/metadata.js';
import { FeedManager, type FeedEngine } from '../../server/feeds/manager.js';
import { Engine } from '../../server/engine/engine.js';
import { startSimulator, type Simulator, type SimulatorLimits, type SimulatorTimings } from '../../server/simulator/index.js';
import { VENUES, defaultSymbolOfKey } from '../../server/venues/index.js';
import { CollectingSink, RecordingEngine, fixture, fixtureLines, totalErrors, waitFor, type Update } from '../feeds/helpers.js';
import { WsProbe } from '../simulator/probe.js';
import { CASES, metaTable } from './cases.js';
import type { ProtocolCase, Step } from './protocol-case.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FAST_BACKOFF = { initialMs: 50, maxMs: 400, factor: 2 };

// ---------------------------------------------------------------------------------------------- parser

function frameOf(ex: Exchange, step: Pick<Step, 'file' | 'raw'>): string {
  if (step.raw !== undefined) return step.raw;
  if (step.file === undefined) throw new Error('a step needs a file or raw text');
  return fixture(ex, step.file);
}

function runStep(ex: Exchange, p: VenueParser, sink: CollectingSink, step: Step): void {
  if (step.reset) p.reset();
  const what = step.file ?? step.raw?.slice(0, 80);
  expect(p.parse(frameOf(ex, step), sink), `outcome of ${what}`).toBe(step.outcome);
  const got = sink.take();
  if (step.updates) expect(got, `updates of ${what}`).toEqual(step.updates);
  if (step.matches) {
    expect(got).toHaveLength(step.matches.length);
    step.matches.forEach((m, i) => expect(got[i]).toMatchObject(m));
  }
  for (const c of step.contains ?? []) expect(got).toContainEqual(c);
  for (const c of step.closeTo ?? []) {
    const u = got[c.index];
    if (u?.kind !== 'quote') throw new Error(`update ${c.index} of ${what} is not a quote`);
    expect(u[c.field]).toBeCloseTo(c.value, 12);
  }
  if (step.errors) expect(p.errors).toMatchObject(step.errors);
}

/** Plausible values only: epoch-ms times, positive prices, finite numbers. */
/** ts 0 = the venue sent no exchange time (unknown; the engine then uses the receive time). */
function sane(updates: Update[]): boolean {
  return updates.every((u) =>
    !(u.ts === 0 || isEpochMs(u.ts))
      ? false
      : u.kind === 'quote'
        ? u.bid > 0 && u.ask > 0 && u.bidSize >= 0 && u.askSize >= 0 && Number.isFinite(u.bid + u.ask + u.bidSize + u.askSize)
        : Number.isFinite(u.rate) && u.intervalMs > 0 && isEpochMs(u.nextFundingMs),
  );
}

/** A fresh parser on the case metadata, primed (e.g. with a snapshot). */
function primed(ex: Exchange, c: ProtocolCase): { p: VenueParser; meta: MetadataTable } {
  const meta = metaTable(ex, c.meta);
  const p = VENUES[ex].adapter.createParser(meta);
  for (const f of c.prime ?? []) p.parse(fixture(ex, f), new CollectingSink());
  return { p, meta };
}

/** What parsing `frame` on a freshly primed parser gives. */
function parseFresh(ex: Exchange, c: ProtocolCase, frame: string): { outcome: ParseOutcome; updates: Update[]; errors: Record<string, number> } {
  const { p } = primed(ex, c);
  const before = { ...p.errors };
  const sink = new CollectingSink();
  const outcome = p.parse(frame, sink);
  const errors: Record<string, number> = {};
  for (const [k, v] of Object.entries(p.errors)) if (v !== (before[k] ?? 0)) errors[k] = v - (before[k] ?? 0);
  return { outcome, updates: sink.take(), errors };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every leaf path of a JSON value. */
function leaves(v: Json, path: Array<string | number> = []): Array<{ path: Array<string | number>; value: Json }> {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...path, i]));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [{ path, value: v }];
}

function setAt(v: Json, path: Array<string | number>, to: Json): Json {
  if (path.length === 0) return to;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as Record<string, Json>) }) as Record<string | number, Json>;
  copy[path[0]] = setAt(copy[path[0]], path.slice(1), to);
  return copy as Json;
}

/** Reserialises `text` via `f`, keeping integers beyond double precision (nanosecond times) digit for digit. */
function reserialise(text: string, f: (v: Json) => Json, space?: number): string {
  const guarded = text.replace(/(:\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"__big$2__"');
  return JSON.stringify(f(JSON.parse(guarded) as Json), null, space).replace(/"__big(-?\d+)__"/g, '$1');
}

/** JSON text with a space before and after every ':' and ',' outside strings (same value). */
function spaceSeparators(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else out += ch === ':' || ch === ',' ? ` ${ch} ` : ch;
  }
  return out;
}

/** Keys in reverse order at every level (a venue may send fields in any order). */
function reversed(v: Json): Json {
  if (Array.isArray(v)) return v.map(reversed);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)]));
  return v;
}

/** Epoch-ms-looking leaves (number or digit string) scaled out of range: seconds and microseconds. */
function timestampMutations(frame: Json): Json[] {
  const out: Json[] = [];
  for (const { path, value } of leaves(frame)) {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{13}$/.test(value) ? Number(value) : NaN;
    if (!isEpochMs(n)) continue;
    for (const scaled of [Math.floor(n / 1000), n * 1000]) out.push(setAt(frame, path, typeof value === 'number' ? scaled : String(scaled)));
  }
  return out;
}

function replaceSymbols(text: string, symbols: string[]): string {
  let t = text;
  for (const s of symbols) t = t.replace(new RegExp(s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'), 'gi'), (m) => (m === m.toLowerCase() ? 'zznopezz' : 'ZZNOPEZZ'));
  return t;
}

// ------------------------------------------------------------------------------------------------ twin

async function simulator(c: ProtocolCase, timings: Partial<SimulatorTimings> = {}, instruments?: string[], limits?: SimulatorLimits): Promise<Simulator> {
  const sim = await startSimulator({ seed: c.twin.seed, messagesPerSec: 2000, timings: { ...c.twin.timings, ...timings }, ...(instruments ? { instruments } : {}), ...(limits ? { limits } : {}) });
  cleanups.push(() => sim.close());
  return sim;
}

/** A socket opened from one of the adapter's plans, every frame classified by the adapter's parser. */
class PlannedSocket {
  readonly outcomes: ParseOutcome[] = [];
  readonly updates: Update[] = [];
  private seen = 0;
  private constructor(
    readonly probe: WsProbe,
    readonly plan: ConnectionPlan,
    readonly parser: VenueParser,
  ) {}

  static async open(plan: ConnectionPlan, parser: VenueParser): Promise<PlannedSocket> {
    const probe = await WsProbe.open(plan.url);
    const s = new PlannedSocket(probe, plan, parser);
    cleanups.push(() => probe.close());
    if (plan.awaitWelcome) await s.until('welcome', () => s.outcomes.includes('welcome'));
    return s;
  }

  /** Classifies frames received since the last call. */
  pump(): void {
    const sink = new CollectingSink();
    for (; this.seen < this.probe.frames.length; this.seen++) {
      this.outcomes.push(this.parser.parse(this.probe.frames[this.seen].text, sink));
      this.updates.push(...sink.take());
    }
  }

  count(o: ParseOutcome): number {
    this.pump();
    return this.outcomes.filter((x) => x === o).length;
  }

  async until(what: string, cond: () => boolean, timeoutMs = 6000): Promise<void> {
    await this.probe.until(() => (this.pump(), cond()), timeoutMs, what);
  }

  async subscribe(messages = this.plan.subscribeMessages): Promise<void> {
    for (const m of messages) this.probe.ws.send(m);
  }
}

/** Metadata, plans and a parser per plan for `symbols`, against the simulator. */
async function planned(ex: Exchange, sim: Simulator, symbols: string[]): Promise<{ meta: MetadataTable; plans: ConnectionPlan[] }> {
  const { adapter } = VENUES[ex];
  const fetchJson = createFetchJson();
  const meta = await adapter.loadMetadata(sim.endpoints[ex].rest, symbols, fetchJson, Date.now());
  const plans = await adapter.plan(sim.endpoints[ex], symbols, fetchJson, {});
  return { meta, plans };
}

// ------------------------------------------------------------------------------------------ feed manager


// ------------------------------------------------------------------------------------------------ suite

for (const [ex, c] of CASES) {
  const { adapter } = VENUES[ex];

  describe(`${ex}: parser on documented frames`, () => {
    for (const seq of c.sequences) {
      it(seq.name, () => {
        const p = adapter.createParser(metaTable(ex, seq.meta ?? c.meta));
        const sink = new CollectingSink();
        for (const step of seq.steps) runStep(ex, p, sink, step);
      });
    }

    it('bad frames (malformed.txt): every line rejected and counted by reason, nothing emitted', () => {
      const p = adapter.createParser(metaTable(ex, c.meta));
      const sink = new CollectingSink();
      const lines = fixtureLines(ex, c.malformed.file);
      for (const line of lines) expect(p.parse(line, sink), line).toBe('rejected');
      expect(sink.updates).toEqual([]);
      expect(totalErrors(p.errors)).toBe(lines.length);
      expect(p.errors).toMatchObject(c.malformed.errors);
    });

    it('bad frames (generated from every data frame): invalid JSON, non-objects, nulls, wrong types, out-of-range timestamps, unknown symbols — counted, never thrown', () => {
      const tally = { invalid: 0, nulls: 0, types: 0, timestamps: 0, unknown: 0 };
      const judge = (kind: keyof typeof tally, frame: string) => {
        const { p } = primed(ex, c);
        const sink = new CollectingSink();
        const before = totalErrors(p.errors);
        let outcome: ParseOutcome;
        try {
          outcome = p.parse(frame, sink);
        } catch (e) {
          throw new Error(`parse threw on ${frame}: ${(e as Error).message}`);
        }
        const added = totalErrors(p.errors) - before;
        const updates = sink.take();
        expect(added, `counted once: ${frame}`).toBe(outcome === 'rejected' || outcome === 'venue_error' ? 1 : 0);
        if (outcome !== 'data') expect(updates, frame).toEqual([]);
        expect(sane(updates), `sane updates from ${frame}`).toBe(true);
        if (outcome === 'rejected') tally[kind]++;
        return { outcome, updates };
      };
      const symbols = c.meta.map((m) => m.symbol);
      for (const file of c.dataFiles) {
        const text = fixture(ex, file);
        const json = JSON.parse(text) as Json;
        for (const cut of [1, Math.floor(text.length / 2), text.length - 1]) expect(judge('invalid', text.slice(0, cut)).outcome).toBe('rejected');
        for (const other of ['[]', 'null', '42', '"text"']) expect(judge('invalid', other).outcome).toBe('rejected');
        for (const { path, value } of leaves(json)) {
          judge('nulls', JSON.stringify(setAt(json, path, null)));
          judge('types', JSON.stringify(setAt(json, path, typeof value === 'string' ? 12345 : typeof value === 'number' ? 'x' : 'x')));
          judge('types', JSON.stringify(setAt(json, path, {})));
        }
        for (const m of timestampMutations(json)) judge('timestamps', JSON.stringify(m));
        const unknown = replaceSymbols(text, symbols);
        if (unknown !== text) {
          const { updates } = judge('unknown', unknown);
          expect(updates, `unknown symbol emits nothing: ${unknown}`).toEqual([]);
        }
      }
      // Each kind of damage is actually caught somewhere (the parser checks, not just survives).
      expect(tally.nulls).toBeGreaterThan(0);
      expect(tally.types).toBeGreaterThan(0);
      expect(tally.timestamps).toBeGreaterThan(0);
      expect(tally.unknown).toBeGreaterThan(0);
    });

    it('reads data frames regardless of key order and whitespace', () => {
      for (const file of c.dataFiles) {
        const text = fixture(ex, file);
        const want = parseFresh(ex, c, text);
        expect(want.outcome, file).toBe('data');
        expect(parseFresh(ex, c, reserialise(text, reversed)).updates, `${file} with keys reversed`).toEqual(want.updates);
        expect(parseFresh(ex, c, reserialise(text, (v) => v, 1)).updates, `${file} spaced`).toEqual(want.updates);
        const pretty = reserialise(text, (v) => v, 2);
        expect(parseFresh(ex, c, pretty).updates, `${file} indented by 2`).toEqual(want.updates);
        // Whitespace around every ':' and ',' (valid JSON: nothing may scan for `"key":` with no space before the colon).
        expect(parseFresh(ex, c, spaceSeparators(reserialise(text, (v) => v))).updates, `${file} with " : " and " , "`).toEqual(want.updates);
        expect(parseFresh(ex, c, spaceSeparators(pretty)).updates, `${file} indented, with " : "`).toEqual(want.updates);
      }
    });

    if (c.semantics.kind === 'merge') {
      const s = c.semantics;
      it('snapshot/delta: a delta merges onto a snapshot; with no snapshot since the last reset it is rejected (no ghost state)', () => {
        const p = adapter.createParser(metaTable(ex, c.meta));
        const sink = new CollectingSink();
        expect(p.parse(fixture(ex, s.deltaFile), sink)).toBe('rejected');
        expect(p.errors.delta_before_snapshot).toBe(1);
        expect(p.parse(fixture(ex, s.snapshotFile), sink)).toBe('data');
        expect(p.parse(fixture(ex, s.deltaFile), sink)).toBe('data');
        sink.take();
        p.reset();
        expect(p.parse(fixture(ex, s.deltaFile), sink)).toBe('rejected');
        expect(p.errors.delta_before_snapshot).toBe(2);
        expect(sink.take()).toEqual([]);
        expect(p.parse(fixture(ex, s.snapshotFile), sink)).toBe('data');
        expect(p.parse(fixture(ex, s.deltaFile), sink)).toBe('data');
      });
    } else {
      it('snapshot/delta: every push is full — a data frame parses alike on a fresh parser, after other frames, and after reset', () => {
        for (const file of c.dataFiles) {
          const fresh = parseFresh(ex, c, fixture(ex, file));
          expect(fresh.outcome, file).toBe('data');
          expect(fresh.updates.length, file).toBeGreaterThan(0);
          const { p } = primed(ex, c);
          const sink = new CollectingSink();
          for (const other of c.dataFiles) if (other !== file) p.parse(fixture(ex, other), sink);
          sink.take();
          p.parse(fixture(ex, file), sink);
          expect(sink.take(), `${file} after the others`).toEqual(fresh.updates);
          p.reset();
          p.parse(fixture(ex, file), sink);
          expect(sink.take(), `${file} after reset`).toEqual(fresh.updates);
        }
      });
    }

    for (const q of c.parserQuirks ?? []) it(q.name, q.run, q.timeoutMs);
  });

  describe(`${ex}: REST metadata and connection plan`, () => {
    for (const m of c.metadata) {
      it(m.name, async () => {
        const urls: string[] = [];
        const fetchJson: FetchJson = (url, init) => (urls.push(url), m.rest(url, init));
        const load = adapter.loadMetadata('http://x', m.symbols, fetchJson, m.nowMs);
        if (m.rejects) {
          await expect(load).rejects.toThrow(m.rejects);
          return;
        }
        const t = await load;
        if (m.urls) expect(urls.slice(0, m.urls.length)).toEqual(m.urls);
        if (m.keys) expect([...t.keys()]).toEqual(m.keys);
        for (const [symbol, row] of Object.entries(m.rows ?? {})) {
          const { seedFunding, ...rest } = row;
          expect(t.get(symbol)).toMatchObject(rest);
          if ('seedFunding' in row) {
            if (seedFunding === undefined) expect(t.get(symbol)!.seedFunding).toBeUndefined();
            else expect(t.get(symbol)!.seedFunding).toMatchObject(seedFunding as Record<string, unknown>);
          }
        }
      });
    }
    for (const pc of c.plans) {
      it(pc.name, async () => {
        const calls: Array<{ url: string; method?: string }> = [];
        const inner: FetchJson = pc.fetchJson ?? (async () => null);
        const fetchJson: FetchJson = (url, init) => (calls.push({ url, method: init?.method }), inner(url, init));
        const endpoints = pc.endpoints ?? { ws: 'ws://h:1', rest: 'http://h:1' };
        const plans = await (pc.plan ?? adapter.plan.bind(adapter))(endpoints, pc.symbols, fetchJson, pc.opts ?? {});
        pc.check(plans, calls);
        // Generic: every symbol is covered, counts add up, nothing planned twice.
        expect(plans.length).toBeGreaterThan(0);
        for (const plan of plans) expect(plan.subscribeMessages.length).toBeGreaterThan(0);
      });
    }
  });

  describe(`${ex}: simulated twin, spoken to through the adapter's plan and parser`, () => {
    const BTC = defaultSymbolOfKey(ex, 'BTC-PERP');

    it('subscribe: the twin acks, then sends data the parser accepts (no rejected frame)', async () => {
      const sim = await simulator(c);
      const { meta, plans } = await planned(ex, sim, [BTC]);
      const sockets = await Promise.all(plans.map((plan) => PlannedSocket.open(plan, adapter.createParser(meta))));
      for (const s of sockets) await s.subscribe();
      for (const s of sockets) {
        await s.until(`ack on ${s.plan.label}`, () => s.count('ack') >= 1);
        await s.until(`data on ${s.plan.label}`, () => s.count('data') >= 3, 8000);
        expect(s.count('rejected')).toBe(0);
        expect(s.count('venue_error')).toBe(0);
        expect(sane(s.updates)).toBe(true);
        expect(new Set(s.updates.map((u) => u.symbol))).toEqual(new Set([BTC]));
      }
      expect(sockets.flatMap((s) => s.updates).some((u) => u.kind === 'quote')).toBe(true);
    });

    it('heartbeat: the client ping is answered with a pong, or the twin pings and a ponging client stays', async () => {
      const sim = await simulator(c, c.twin.heartbeatTimings);
      const { meta, plans } = await planned(ex, sim, [BTC]);
      const s = await PlannedSocket.open(plans[0], adapter.createParser(meta));
      await s.subscribe();
      if (s.plan.heartbeat) {
        s.probe.ws.send(s.plan.heartbeat.message());
        await s.until('pong', () => s.count('pong') >= 1);
      } else {
        await s.probe.until(() => s.probe.pings >= 2, 6000, 'server pings');
      }
      expect(s.probe.closeInfo).toBeNull();
    });

    it('bad frames to the twin: invalid JSON and an unknown symbol get the venue answer, the connection stays and keeps delivering', async () => {
      const sim = await simulator(c);
      const nope = VENUES[ex].symbols.nativeSymbol('ZZNOPEZZ', 'USDT');
      const { meta, plans } = await planned(ex, sim, [BTC]);
      const s = await PlannedSocket.open(plans[0], adapter.createParser(meta));
      await s.subscribe();
      await s.until('ack', () => s.count('ack') >= 1);
      s.probe.ws.send('not json {');
      await s.until('error for invalid JSON', () => s.count('venue_error') >= 1);
      const [nopePlan] = await adapter.plan(sim.endpoints[ex], [nope], createFetchJson(), {});
      const acks = s.count('ack');
      await s.subscribe(nopePlan.subscribeMessages);
      if (c.twin.unknownSymbol === 'venue_error') await s.until('error for the unknown symbol', () => s.count('venue_error') >= 2);
      else await s.until('ack for the unknown symbol', () => s.count('ack') > acks);
      const data = s.count('data');
      await s.until('more data', () => s.count('data') > data + 2, 8000);
      expect(s.count('rejected')).toBe(0);
      expect(s.updates.every((u) => u.symbol === BTC)).toBe(true);
      expect(s.probe.closeInfo).toBeNull();
    });

    it('reconnect: the twin drops the socket; a new one, with a reset parser, gets a fresh start (no delta before its snapshot)', async () => {
      const sim = await simulator(c);
      const { meta, plans } = await planned(ex, sim, [BTC]);
      const parser = adapter.createParser(meta);
      const first = await PlannedSocket.open(plans[0], parser);
      await first.subscribe();
      await first.until('data', () => first.count('data') >= 3, 8000);
      sim.dropConnections(ex);
      await first.probe.closed();
      parser.reset();
      const [plan] = await adapter.plan(sim.endpoints[ex], [BTC], createFetchJson(), {});
      const second = await PlannedSocket.open(plan, parser);
      await second.subscribe();
      await second.until('data again', () => second.count('data') >= 3, 8000);
      expect(totalErrors(parser.errors)).toBe(0);
    });

    for (const q of c.twin.quirks) {
      it(q.name, async () => q.run(await simulator(c, q.timings, q.instruments, q.limits)), q.timeoutMs ?? 20_000);
    }
  });

  describe(`${ex}: feed manager reconnect and reset`, () => {
    it('silence → stale → reconnect; server drop → backoff → resubscribe; the venue is down until its new data, then up', async () => {
      const sim = await simulator(c);
      const spy = new RecordingEngine(new Engine({ config: DEFAULT_CONFIG }));
      const fm = new FeedManager({ engine: spy, exchanges: [ex], instruments: ['BTC-PERP', 'ETH-PERP'], endpoints: sim.endpoints, silenceMs: 400, backoff: FAST_BACKOFF });
      cleanups.push(() => fm.stop());
      const state = () => fm.states().find((s) => s.exchange === ex)!;
      const seen = new Set<string>();
      fm.onState((s) => seen.add(s.status));
      await fm.start();
      await waitFor('live', () => state().status === 'live');
      const subscriptions = state().subscriptions;
      // One socket per plan for the instruments (the adapter decides how many).
      expect(state().connections).toBe((await adapter.plan(sim.endpoints[ex], ['BTC', 'ETH'].map((b) => defaultSymbolOfKey(ex, `${b}-PERP`)), createFetchJson(), {})).length);

      sim.silence(ex, 1500);
      await waitFor('stale', () => seen.has('stale'));
      await waitFor('reconnected', () => state().reconnects >= 1 && state().status === 'live', 10_000);
      expect(state().errors.silence).toBeGreaterThanOrEqual(1);

      const before = state().reconnects;
      sim.dropConnections(ex);
      await waitFor('backoff', () => seen.has('backoff'));
      await waitFor('resubscribed', () => state().reconnects > before && state().status === 'live', 10_000);
      expect(state().subscriptions).toBe(subscriptions);
      const calls = spy.downCalls.filter(([e]) => e === ex).map(([, d]) => d);
      expect(calls).toContain(true);
      expect(calls.at(-1)).toBe(false); // every "down" is followed by an "up" once new data arrived
      await waitFor('usable quote', () => spy.engine.quote('BTC-PERP', ex)?.usable === true);
    }, 30_000);

    if (c.semantics.kind === 'merge') {
      const s = c.semantics;
      it('no ghost merge state after a reconnect: a delta before the new snapshot is dropped; deltas merge onto the NEW snapshot', async () => {
        const t0 = Date.now();
        const received: string[][] = [];
        const http = createServer();
        const wss = new WebSocketServer({ server: http });
        let n = 0;
        wss.on('connection', (ws) => {
          const conn = n++;
          received[conn] = [];
          ws.on('message', (m) => {
            const text = m.toString();
            received[conn].push(text);
            if (!s.isSubscribe(text)) return;
            if (conn === 0) {
              ws.send(s.snapshot('100.0', '7.77', t0));
              ws.send(s.delta('100.1', t0 + 1));
              setTimeout(() => ws.terminate(), 50);
            } else {
              ws.send(s.delta('200.1', t0 + 2)); // no snapshot on this connection yet: must not merge into the old one
              ws.send(s.snapshot('200.0', '3.33', t0 + 3));
              ws.send(s.delta('200.2', t0 + 4));
            }
          });
        });
        const rest = createServer((_req, res) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(s.metadataBody));
        });
        for (const srv of [http, rest]) await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
        cleanups.push(async () => {
          for (const cl of wss.clients) cl.terminate();
          await new Promise<void>((r) => wss.close(() => r()));
          await new Promise<void>((r) => http.close(() => r()));
          await new Promise<void>((r) => rest.close(() => r()));
        });
        const origin = (srv: typeof http) => `127.0.0.1:${(srv.address() as AddressInfo).port}`;
        const endpoints = perVenue((e) => (e === ex ? { ws: `ws://${origin(http)}`, rest: `http://${origin(rest)}` } : { ws: '', rest: '' }));
        const engine = new Engine({ config: DEFAULT_CONFIG });
        const fm = new FeedManager({ engine, exchanges: [ex], instruments: ['BTC-PERP'], endpoints, backoff: FAST_BACKOFF });
        cleanups.push(() => fm.stop());
        await fm.start();
        await waitFor('second connection data', () => engine.quote('BTC-PERP', ex)?.bid === 200.2);
        expect(engine.quote('BTC-PERP', ex)!.askSize).toBe(3.33); // from the new snapshot, never 7.77 from before the drop
        expect(fm.states().find((st) => st.exchange === ex)!.errors.delta_before_snapshot).toBe(1);
        expect(received[1].some((t) => s.isSubscribe(t))).toBe(true); // resubscribed
      });
    }
  });
}

describe('registry coverage', () => {
  it('every registered venue has protocol case data with each section filled', () => {
    expect(CASES.map(([ex]) => ex)).toEqual(Object.keys(VENUES));
    for (const [ex, c] of CASES) {
      expect(c.dataFiles.length, ex).toBeGreaterThan(0);
      expect(c.sequences.some((s) => s.steps.some((st) => st.outcome === 'ack')), `${ex}: an ack fixture`).toBe(true);
      expect(c.sequences.some((s) => s.steps.some((st) => st.outcome === 'venue_error')), `${ex}: an error fixture`).toBe(true);
      expect(c.metadata.length, ex).toBeGreaterThan(0);
      expect(c.plans.length, ex).toBeGreaterThan(0);
      expect(c.fuzz.files.length, ex).toBeGreaterThan(0);
    }
  });
});
