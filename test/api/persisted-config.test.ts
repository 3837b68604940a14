/** Config changed over REST survives a restart (memory: same store object; Redis: a new process-like app). */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeWith, REDIS_URL } from '../helpers/services.js';
import { buildTestApp, testConfig } from './harness.js';

describeWith(['redis'], 'config persistence through Redis', () => {
  const prefixes: string[] = [];
  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length) await redis.del(...keys);
    }
    await redis.quit();
  });

  it('PUT /api/config is restored on the next start (persisted newer than the file) and readiness sees Redis', async () => {
    const prefix = `perpscan-test-${randomUUID()}:`;
    prefixes.push(prefix);
    const first = await buildTestApp({ redisUrl: REDIS_URL, redisPrefix: prefix, configFileMtimeMs: Date.now() - 60_000 });
    try {
      const r = await first.app.inject({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: 13 } } });
      expect(r.statusCode).toBe(200);
      expect(r.json().version).toBe(2); // the file/env config is version 1
      await first.start();
      const ready = await first.app.inject({ method: 'GET', url: '/api/ready' });
      expect(ready.json().persistence).toBe('connected');
    } finally {
      await first.close();
    }
    const second = await buildTestApp({ redisUrl: REDIS_URL, redisPrefix: prefix, config: testConfig({ thresholds: { minSpreadBps: 4 } }), configFileMtimeMs: Date.now() - 30_000 });
    try {
      const cfg = (await second.app.inject({ method: 'GET', url: '/api/config' })).json();
      expect(cfg.config.thresholds.minSpreadBps).toBe(13);
      expect(second.engine.getConfig().thresholds.minSpreadBps).toBe(13);
    } finally {
      await second.close();
    }
    // A config file edited after the last REST change wins, and the version keeps counting up.
    const third = await buildTestApp({ redisUrl: REDIS_URL, redisPrefix: prefix, config: testConfig({ thresholds: { minSpreadBps: 4 } }), configFileMtimeMs: Date.now() + 1000 });
    try {
      const cfg = (await third.app.inject({ method: 'GET', url: '/api/config' })).json();
      expect(cfg.config.thresholds.minSpreadBps).toBe(4);
      expect(cfg.version).toBeGreaterThan(2);
    } finally {
      await third.close();
    }
  });
});
