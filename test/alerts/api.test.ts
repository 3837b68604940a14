/**
 * GET/PUT /api/alerts and POST /api/alerts/test through the real app: auth and Origin like every mutation,
 * secrets masked in responses and absent from logs, a masked PUT keeps the stored secret, 400s naming the
 * field with the old state kept, persistence in Redis, and alerts fired by real engine/strategy transitions.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlertsResponse } from '../../shared/alerts.js';
import { trackApps } from '../api/harness.js';
import { REDIS_URL } from '../helpers/services.js';
import { type SinkServer, sleep, startSinkServer } from './sink-server.js';

const { make, closeAll } = trackApps();
const servers: SinkServer[] = [];
afterEach(async () => {
  await closeAll();
  for (const s of servers.splice(0)) await s.close();
});
async function sinkServer(...args: Parameters<typeof startSinkServer>): Promise<SinkServer> {
  const s = await startSinkServer(...args);
  servers.push(s);
  return s;
}

const TOKEN = 'api-token-for-tests';
const auth = { authorization: `Bearer ${TOKEN}` };
const TG_TOKEN = '7777777:AAHsecretTelegramTokenZZ9x';
const FAST = { delivery: { backoffBaseMs: 20, backoffMaxMs: 100, timeoutMs: 2_000 } };

function capturedLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function sinksFor(hook: SinkServer, tg: SinkServer) {
  return [
    { id: 'hook', kind: 'webhook', url: `${hook.base}/hooks/T0/secretHookPathQ7` },
    { id: 'tg', kind: 'telegram', baseUrl: tg.base, botToken: TG_TOKEN, chatId: '42' },
  ];
}

describe('/api/alerts', () => {
  it('masks secrets in GET, keeps them on a masked PUT, and never logs them', async () => {
    const hook = await sinkServer();
    const tg = await sinkServer({ status: 200, body: '{"ok":true,"result":{}}' });
    const { logger, lines } = capturedLogger();
    const a = await make({ apiToken: TOKEN, logger, alerts: FAST });
    const put = await a.app.inject({ method: 'PUT', url: '/api/alerts', headers: auth, payload: { enabled: true, rules: [{ id: 'r1', events: ['trading_state'] }], sinks: sinksFor(hook, tg) } });
    expect(put.statusCode).toBe(200);
    const got = await a.app.inject({ method: 'GET', url: '/api/alerts' });
    const text = got.body;
    expect(text).not.toContain('secretHookPathQ7');
    expect(text).not.toContain(TG_TOKEN);
    expect(text).not.toContain('AAHsecret');
    const view = got.json() as AlertsResponse;
    const [h, t] = view.config.sinks as unknown as Array<Record<string, string>>;
    expect(h.url).toBe(`${hook.base}/****thQ7`);
    expect(t.botToken).toBe('****ZZ9x');
    expect(view.config.rules[0]).toMatchObject({ id: 'r1', cooldownMs: 300_000, allowCrossQuote: false, minAprPct: null });

    // Send back what GET returned (masked), with a changed chat id: the stored secrets stay.
    const again = await a.app.inject({ method: 'PUT', url: '/api/alerts', headers: auth, payload: { ...view.config, sinks: [h, { ...t, chatId: '43' }] } });
    expect(again.statusCode).toBe(200);
    const test = await a.app.inject({ method: 'POST', url: '/api/alerts/test', headers: auth, payload: {} });
    expect(test.statusCode).toBe(200);
    expect(test.json().results).toEqual([
      expect.objectContaining({ id: 'hook', kind: 'webhook', ok: true, status: 200 }),
      expect.objectContaining({ id: 'tg', kind: 'telegram', ok: true, status: 200 }),
    ]);
    expect(hook.received[0].path).toBe('/hooks/T0/secretHookPathQ7');
    expect(hook.received[0].body).toMatchObject({ kind: 'test' });
    expect(tg.received[0].path).toBe(`/bot${TG_TOKEN}/sendMessage`);
    expect(tg.received[0].body).toMatchObject({ chat_id: '43' });

    // A failing sink: the failure is logged and reported, without the secret.
    tg.fallback = { status: 500, body: `{"ok":false,"description":"boom /bot${TG_TOKEN}/sendMessage"}` };
    const failed = await a.app.inject({ method: 'POST', url: '/api/alerts/test', headers: auth, payload: { sinks: ['tg'] } });
    expect(failed.json().results[0]).toMatchObject({ id: 'tg', ok: false, status: 500 });
    expect(failed.body).not.toContain(TG_TOKEN);
    a.strategy.setTradingState('halted', { closeAll: false, reason: 'test' });
    // The queued alert: delivered to the hook, and given up on the failing tg after its retries (logged).
    await vi.waitFor(
      async () => {
        const status = (await a.app.inject({ method: 'GET', url: '/api/alerts' })).json().status;
        expect(status).toMatchObject({ sent: 1, failed: 1 });
      },
      { timeout: 5_000, interval: 50 },
    );
    const all = lines.join('');
    expect(all).toContain('alerts config updated');
    expect(all).toContain('failed');
    expect(all).not.toContain('secretHookPathQ7');
    expect(all).not.toContain(TG_TOKEN);
  });

  it('needs the token and a same-site Origin like every mutation', async () => {
    const a = await make({ apiToken: TOKEN });
    expect((await a.app.inject({ method: 'PUT', url: '/api/alerts', payload: { enabled: false } })).statusCode).toBe(401);
    expect((await a.app.inject({ method: 'POST', url: '/api/alerts/test', payload: {} })).statusCode).toBe(401);
    const cross = await a.app.inject({ method: 'PUT', url: '/api/alerts', headers: { ...auth, origin: 'http://attacker.example' }, payload: { enabled: false } });
    expect(cross.statusCode).toBe(403);
    expect((await a.app.inject({ method: 'GET', url: '/api/alerts' })).json().config.enabled).toBe(true);
  });

  it('answers a bad body with 400 naming the field, and keeps the old state', async () => {
    const hook = await sinkServer();
    const tg = await sinkServer();
    const a = await make();
    expect((await a.app.inject({ method: 'PUT', url: '/api/alerts', payload: { rules: [{ id: 'r1', events: ['feed_down'] }], sinks: sinksFor(hook, tg) } })).statusCode).toBe(200);
    const before = (await a.app.inject({ method: 'GET', url: '/api/alerts' })).json().config;
    const sinks = before.sinks;
    const cases: Array<[unknown, string]> = [
      [{ rules: [{ id: 'r1', minAprPct: 'high' }], sinks }, 'rules.0.minAprPct'],
      [{ rules: [{ id: 'r1', events: ['moon'] }], sinks }, 'rules.0.events.0'],
      [{ rules: [{ id: 'r1', cooldownMs: -1 }], sinks }, 'rules.0.cooldownMs'],
      [{ rules: [{ id: 'r1', sinks: ['nope'] }], sinks }, 'rules.0.sinks.0'],
      [{ rules: [], sinks: [{ id: 's', kind: 'email', url: 'x' }] }, 'sinks.0.kind'],
      [{ rules: [], sinks: [{ id: 's', kind: 'webhook', url: 'not a url' }] }, 'sinks.0.url'],
      [{ rules: [], sinks: [{ id: 's', kind: 'slack' }] }, 'sinks.0.webhookUrl'],
      [{ rules: [], sinks: [{ id: 'new', kind: 'discord', webhookUrl: 'https://discord.com/****abcd' }] }, 'sinks.0.webhookUrl'],
      [{ rules: [], sinks: [sinks[0], { ...sinks[0] }] }, 'sinks.1.id'],
      [{ rules: [], sinks, extra: 1 }, 'extra'],
      [{ rules: [], sinks: [{ ...sinks[1], colour: 'red' }] }, 'sinks.0.colour'],
    ];
    for (const [payload, field] of cases) {
      const r = await a.app.inject({ method: 'PUT', url: '/api/alerts', payload: payload as object });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      expect(r.json().field, JSON.stringify(payload)).toBe(field);
    }
    const arr = await a.app.inject({ method: 'PUT', url: '/api/alerts', payload: [1] });
    expect(arr.statusCode).toBe(400);
    const unknownSink = await a.app.inject({ method: 'POST', url: '/api/alerts/test', payload: { sinks: ['ghost'] } });
    expect(unknownSink.statusCode).toBe(400);
    expect(unknownSink.json().field).toBe('sinks.0');
    expect((await a.app.inject({ method: 'GET', url: '/api/alerts' })).json().config).toEqual(before);
  });

  it.skipIf(REDIS_URL === '')('is persisted in Redis (REDIS_URL) and restored at start-up (secrets with it)', async () => {
    const hook = await sinkServer();
    const tg = await sinkServer();
    const redisUrl = REDIS_URL;
    const prefix = `perpscan-alerts-test-${process.pid}-${Date.now()}:`;
    try {
      const a = await make({ redisUrl, redisPrefix: prefix });
      expect((await a.app.inject({ method: 'PUT', url: '/api/alerts', payload: { rules: [{ id: 'keep', events: ['feed_up'], cooldownMs: 5000 }], sinks: sinksFor(hook, tg) } })).statusCode).toBe(200);
      await closeAll();
      const b = await make({ redisUrl, redisPrefix: prefix });
      const view = (await b.app.inject({ method: 'GET', url: '/api/alerts' })).json() as AlertsResponse;
      expect(view.config.rules[0]).toMatchObject({ id: 'keep', cooldownMs: 5000 });
      const test = await b.app.inject({ method: 'POST', url: '/api/alerts/test', payload: { sinks: ['hook'] } });
      expect(test.json().results[0]).toMatchObject({ ok: true });
      expect(hook.received[0].path).toBe('/hooks/T0/secretHookPathQ7');
    } finally {
      const r = new Redis(redisUrl);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      r.disconnect();
    }
  });
});

describe('alerts from real transitions', () => {
  it('one alert per opportunity open and close, none while it persists; trading state once per change', async () => {
    const hook = await sinkServer();
    const a = await make({ alerts: FAST });
    const put = await a.app.inject({
      method: 'PUT',
      url: '/api/alerts',
      payload: {
        rules: [
          { id: 'opps', events: ['opportunity_opened', 'opportunity_closed'], instruments: ['BTC-PERP'], venues: ['bybit', 'okx'], minProfitBps: 1, cooldownMs: 0 },
          { id: 'kill', events: ['trading_state'], cooldownMs: 0 },
        ],
        sinks: [{ id: 'hook', kind: 'webhook', url: `${hook.base}/h/abcdefgh` }],
      },
    });
    expect(put.statusCode).toBe(200);
    a.flat('BTC-PERP', 50_000);
    a.flat('ETH-PERP', 3000);
    a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
    a.spread('ETH-PERP', 'bybit', 'okx', 3000, 80); // not in the rule's instruments
    // (BTC pairs of bybit or okx with the other, flat venues open too: not on the rule's venues.)
    await hook.waitFor(1);
    // The state persists: more updates of the same opportunity, no new alert.
    for (let i = 0; i < 20; i++) a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80 + (i % 5));
    await sleep(150);
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0].body).toMatchObject({ kind: 'opportunity_opened', rule: 'opps', instrument: 'BTC-PERP' });
    a.flat('BTC-PERP', 50_000);
    await hook.waitFor(2);
    expect(hook.received[1].body).toMatchObject({ kind: 'opportunity_closed', rule: 'opps', subject: (hook.received[0].body as { subject: string }).subject });

    // The kill switch: one alert per change, none when set to the state it already has.
    const set = (state: string) => a.app.inject({ method: 'POST', url: '/api/trading-state', payload: { state } });
    await set('halted');
    await set('halted');
    await hook.waitFor(3);
    await sleep(150);
    expect(hook.received).toHaveLength(3);
    expect(hook.received[2].body).toMatchObject({ kind: 'trading_state', details: { state: 'halted' } });
    await set('active');
    await hook.waitFor(4);
    expect(hook.received[3].body).toMatchObject({ kind: 'trading_state', details: { state: 'active' } });
    // The counters change once the client has read the sink's answer (after the sink recorded the request): polled.
    await vi.waitFor(
      async () => {
        const status = (await a.app.inject({ method: 'GET', url: '/api/alerts' })).json().status;
        expect(status).toMatchObject({ sent: 4, dropped: 0, failed: 0 });
      },
      { timeout: 5_000, interval: 50 },
    );
  });

  it('a hanging sink does not delay the engine: the bounded queue drops and GET /api/alerts shows it', async () => {
    const hang = await sinkServer({ hang: true });
    const a = await make({ alerts: { delivery: { capacity: 5, timeoutMs: 60_000, maxAttempts: 1 } } });
    const put = await a.app.inject({
      method: 'PUT',
      url: '/api/alerts',
      payload: { rules: [{ id: 'opps', events: ['opportunity_opened', 'opportunity_closed'], venues: ['bybit', 'okx'], instruments: ['BTC-PERP'], cooldownMs: 0 }], sinks: [{ id: 'hang', kind: 'webhook', url: `${hang.base}/h/abcdefgh` }] },
    });
    expect(put.statusCode).toBe(200);
    a.flat('BTC-PERP', 50_000);
    await hang.waitFor(0);
    // 100 open/close cycles of one opportunity through the real engine, each yielding so the bus wakes its subscribers.
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) {
      a.spread('BTC-PERP', 'bybit', 'okx', 50_000, 80);
      await Promise.resolve();
      a.flat('BTC-PERP', 50_000);
      await Promise.resolve();
    }
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(2_000);
    await hang.waitFor(1);
    const status = (await a.app.inject({ method: 'GET', url: '/api/alerts' })).json().status;
    expect(status.sent).toBe(0);
    expect(status.queued).toBe(5);
    expect(status.dropped).toBe(200 - 5);
    // The same figures reach /metrics (per sink and outcome), so a dashboard-less operator sees the drops too.
    const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^perpscan_alert_deliveries_total\{sink="hang",kind="webhook",outcome="dropped"\} 195$/m);
    expect(metrics).toMatch(/^perpscan_alert_deliveries_total\{sink="hang",kind="webhook",outcome="sent"\} 0$/m);
    expect(metrics).toMatch(/^perpscan_alert_queue_length\{sink="hang",kind="webhook"\} 5$/m);
    expect(metrics).toMatch(/^perpscan_alerts_fired_total 200$/m);
  });
});
