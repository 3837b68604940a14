/**
 * Alert delivery against local HTTP servers standing in for each sink: the real request formats, retries
 * with backoff on 500, 429 Retry-After respected, no retry on a refusal, and a hanging sink that neither
 * delays the caller nor the other sinks (bounded queue, drops counted).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertsConfig } from '../../shared/alerts.js';
import { AlertsService } from '../../server/alerts/service.js';
import type { AlertEvent } from '../../server/alerts/rules.js';
import { MemoryPersistence } from '../../server/persistence/memory.js';
import { type SinkServer, sleep, startSinkServer } from './sink-server.js';

const servers: SinkServer[] = [];
const services: AlertsService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) s.close();
  for (const s of servers.splice(0)) await s.close();
});

async function sinkServer(...args: Parameters<typeof startSinkServer>): Promise<SinkServer> {
  const s = await startSinkServer(...args);
  servers.push(s);
  return s;
}

function service(delivery: ConstructorParameters<typeof AlertsService>[0]['delivery'] = {}): AlertsService {
  const s = new AlertsService({ store: new MemoryPersistence(), delivery: { backoffBaseMs: 50, backoffMaxMs: 200, timeoutMs: 2_000, ...delivery } });
  services.push(s);
  return s;
}

/** The counters change only once the client has read the sink's answer, after the sink recorded the request: polled. */
const POLL = { timeout: 5_000, interval: 20 };

let seq = 0;
function tradingState(state: string): AlertEvent {
  return { kind: 'trading_state', tsMs: Date.now() + seq++, subject: 'trading', instrument: null, venues: [], aprPct: null, profitBps: null, crossQuote: false, text: `Trading state: ${state}`, details: { state, reason: 'test' } };
}

const RULE = { id: 'all', events: ['trading_state'], cooldownMs: 0 };

function configure(s: AlertsService, sinks: unknown[]): void {
  const r = s.update({ enabled: true, rules: [RULE], sinks });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
}

describe('sink request formats', () => {
  it('webhook, Telegram sendMessage, Discord and Slack each get their documented JSON', async () => {
    const hook = await sinkServer();
    const tg = await sinkServer({ status: 200, body: '{"ok":true,"result":{"message_id":1}}' });
    const dc = await sinkServer({ status: 204, body: '' });
    const sl = await sinkServer({ status: 200, body: 'ok' });
    const s = service();
    configure(s, [
      { id: 'hook', kind: 'webhook', url: `${hook.base}/hooks/secret-path-1234` },
      { id: 'tg', kind: 'telegram', baseUrl: tg.base, botToken: '123456:ABCdefGhIJKlmnoPQRstu', chatId: '-100200300' },
      { id: 'dc', kind: 'discord', webhookUrl: `${dc.base}/api/webhooks/42/discordtokenXYZ` },
      { id: 'sl', kind: 'slack', webhookUrl: `${sl.base}/services/T000/B000/slacksecretABC` },
    ]);
    s.handle(tradingState('halted'));
    const [[h], [t], [d], [l]] = await Promise.all([hook.waitFor(1), tg.waitFor(1), dc.waitFor(1), sl.waitFor(1)]);
    expect(h.method).toBe('POST');
    expect(h.path).toBe('/hooks/secret-path-1234');
    expect(h.headers['content-type']).toBe('application/json');
    expect(h.body).toMatchObject({ source: 'perpscan', kind: 'trading_state', rule: 'all', subject: 'trading', details: { state: 'halted' } });
    expect(t.path).toBe('/bot123456:ABCdefGhIJKlmnoPQRstu/sendMessage');
    expect(t.body).toMatchObject({ chat_id: '-100200300' });
    expect((t.body as { text: string }).text).toContain('Trading state: halted');
    expect(d.path).toBe('/api/webhooks/42/discordtokenXYZ');
    expect(Object.keys(d.body as object)).toContain('content');
    expect((d.body as { content: string }).content).toContain('halted');
    expect(l.path).toBe('/services/T000/B000/slacksecretABC');
    expect((l.body as { text: string }).text).toContain('halted');
    await vi.waitFor(() => expect(s.status()).toMatchObject({ sent: 4, failed: 0, dropped: 0 }), POLL);
  });
});

describe('retries', () => {
  it('retries a 500 with backoff and then delivers once', async () => {
    const hook = await sinkServer();
    hook.script = [{ status: 500 }, { status: 503 }];
    const s = service();
    configure(s, [{ id: 'hook', kind: 'webhook', url: `${hook.base}/h/abcdefgh` }]);
    s.handle(tradingState('reducing'));
    const got = await hook.waitFor(3);
    // Backoff 50 ms then 100 ms (+ up to 20 % jitter).
    expect(got[1].atMs - got[0].atMs).toBeGreaterThanOrEqual(45);
    expect(got[2].atMs - got[1].atMs).toBeGreaterThanOrEqual(95);
    await vi.waitFor(() => expect(s.status()).toMatchObject({ sent: 1, failed: 0, queued: 0 }), POLL);
    // Delivered and nothing left to send: a further request would come within a backoff (≤ 200 ms); none does.
    await sleep(300);
    expect(hook.received).toHaveLength(3);
    expect(s.status()).toMatchObject({ sent: 1, failed: 0 });
    expect(s.status().sinks[0].retries).toBe(2);
  });

  it('waits what a 429 Retry-After says (header, and Telegram parameters.retry_after)', async () => {
    const hook = await sinkServer();
    hook.script = [{ status: 429, headers: { 'retry-after': '1' }, body: '' }];
    const tg = await sinkServer({ status: 200, body: '{"ok":true}' });
    tg.script = [{ status: 429, body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}' }];
    const s = service({ backoffBaseMs: 10 });
    configure(s, [
      { id: 'hook', kind: 'webhook', url: `${hook.base}/h/abcdefgh` },
      { id: 'tg', kind: 'telegram', baseUrl: tg.base, botToken: '999:tokentokentoken', chatId: '1' },
    ]);
    s.handle(tradingState('halted'));
    const [h, t] = await Promise.all([hook.waitFor(2, 4000), tg.waitFor(2, 4000)]);
    // Not the 10 ms backoff: the second second the sink asked for.
    expect(h[1].atMs - h[0].atMs).toBeGreaterThanOrEqual(950);
    expect(t[1].atMs - t[0].atMs).toBeGreaterThanOrEqual(950);
    await vi.waitFor(() => expect(s.status()).toMatchObject({ sent: 2, failed: 0 }), POLL);
  });

  it('does not retry a refusal (400/401/404) and gives up after maxAttempts on 500s', async () => {
    const bad = await sinkServer({ status: 401, body: '{"ok":false,"error_code":401,"description":"Unauthorized"}' });
    const down = await sinkServer({ status: 500 });
    const s = service({ maxAttempts: 3, backoffBaseMs: 10 });
    configure(s, [
      { id: 'bad', kind: 'telegram', baseUrl: bad.base, botToken: '1:badbadbadbad', chatId: '1' },
      { id: 'down', kind: 'webhook', url: `${down.base}/h/abcdefgh` },
    ]);
    s.handle(tradingState('halted'));
    await down.waitFor(3);
    await vi.waitFor(() => expect(s.status()).toMatchObject({ failed: 2, queued: 0 }), POLL);
    // Both given up: a retry would come within a 10–40 ms backoff; the window shows none comes.
    await sleep(300);
    expect(bad.received).toHaveLength(1);
    expect(down.received).toHaveLength(3);
    const st = s.status();
    expect(st.failed).toBe(2);
    expect(st.sinks.find((x) => x.id === 'bad')?.lastError).toContain('401');
  });
});

describe('a hanging sink', () => {
  it('never delays the caller or the other sinks; its queue is bounded and drops are counted', async () => {
    const hang = await sinkServer({ hang: true });
    const ok = await sinkServer();
    const s = service({ capacity: 5, timeoutMs: 30_000, maxAttempts: 1 });
    configure(s, [
      { id: 'hang', kind: 'webhook', url: `${hang.base}/h/abcdefgh` },
      { id: 'ok', kind: 'webhook', url: `${ok.base}/h/abcdefgh` },
    ]);
    const t0 = performance.now();
    // 50 distinct transitions (the state alternates): each one alert per sink.
    for (let i = 0; i < 50; i++) s.handle(tradingState(i % 2 === 0 ? 'halted' : 'active'));
    const handleMs = performance.now() - t0;
    expect(handleMs).toBeLessThan(250); // synchronous work of well under 5 ms; the bound leaves room for a GC pause on a loaded machine
    await hang.waitFor(1);
    // The healthy sink got the first 5 (its own queue bound) promptly, while the other hangs.
    await ok.waitFor(5);
    await vi.waitFor(() => expect(s.status().sinks.find((x) => x.id === 'ok')!.sent).toBe(5), POLL);
    const st = s.status();
    const hs = st.sinks.find((x) => x.id === 'hang')!;
    expect(hs.queued).toBe(5);
    expect(hs.dropped).toBe(45);
    expect(hs.sent).toBe(0);
    expect(st.dropped).toBe(45 + 45);
    expect(st.sinks.find((x) => x.id === 'ok')!.sent).toBe(5);
  });

  it('times out a request that never answers and moves on', async () => {
    const hang = await sinkServer({ hang: true });
    // 1 s rather than 200 ms: a stall of the process must not fire the timeout before the sink (in this same
    // process) has even read the request. 2 alerts × 2 attempts: 4 requests, ~4 s.
    const s = service({ timeoutMs: 1_000, maxAttempts: 2, backoffBaseMs: 10 });
    configure(s, [{ id: 'hang', kind: 'webhook', url: `${hang.base}/h/abcdefgh` }]);
    s.handle(tradingState('halted'));
    s.handle(tradingState('active'));
    await hang.waitFor(4, 15_000);
    await vi.waitFor(() => expect(s.status()).toMatchObject({ failed: 2, queued: 0 }), POLL);
    const st = s.status();
    expect(st.failed).toBe(2);
    expect(st.sinks[0].lastError).toContain('no answer within 1000 ms');
  });
});

describe('transition gate', () => {
  it('one alert per transition, none while a state persists; cooldown holds back a repeat', async () => {
    const hook = await sinkServer();
    const s = service();
    const cfg: AlertsConfig = {
      enabled: true,
      rules: [{ id: 'r', name: '', enabled: true, events: ['feed_down', 'feed_up', 'trading_state'], minAprPct: null, minProfitBps: null, instruments: [], venues: [], allowCrossQuote: false, cooldownMs: 60_000, sinks: [] }],
      sinks: [{ id: 'hook', kind: 'webhook', enabled: true, url: `${hook.base}/h/abcdefgh` }],
    };
    expect(s.update(cfg).ok).toBe(true);
    const t = Date.now();
    const ev = (kind: AlertEvent['kind'], subject: string, tsMs: number, state = ''): AlertEvent => ({ kind, tsMs, subject, instrument: null, venues: [], aprPct: null, profitBps: null, crossQuote: false, text: kind, details: { state } });
    s.handle(ev('trading_state', 'trading', t, 'halted'));
    s.handle(ev('trading_state', 'trading', t + 1, 'halted')); // persists: nothing
    s.handle(ev('feed_down', 'okx', t + 2));
    s.handle(ev('feed_down', 'okx', t + 3)); // still down: nothing
    s.handle(ev('feed_up', 'okx', t + 4));
    s.handle(ev('feed_down', 'okx', t + 5)); // within the cooldown of the first down: held back
    s.handle(ev('feed_up', 'okx', t + 6)); // its down was not alerted (the last alerted state is "up"): nothing
    s.handle(ev('feed_down', 'okx', t + 70_000)); // after the cooldown: alerted
    await hook.waitFor(4);
    await vi.waitFor(() => expect(s.status()).toMatchObject({ sent: 4, queued: 0 }), POLL);
    await sleep(100); // nothing else was queued; a 5th request would follow at once
    expect(hook.received.map((r) => (r.body as { kind: string }).kind)).toEqual(['trading_state', 'feed_down', 'feed_up', 'feed_down']);
    expect(s.status()).toMatchObject({ deduplicated: 3, suppressed: 1 });
  });
});
