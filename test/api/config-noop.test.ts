/** An empty (or no-op) config patch changes nothing: same version, nothing persisted, no listener told. */
import { afterEach, describe, expect, it } from 'vitest';
import type { VersionedConfig } from '../../shared/config.js';
import { buildTestApp, type TestApp } from './harness.js';

describe('PUT /api/config with nothing to change', () => {
  let a: TestApp | null = null;
  afterEach(async () => {
    await a?.close();
    a = null;
  });

  it('{} and a patch equal to the current values keep the version; a real change bumps it by one', async () => {
    a = await buildTestApp();
    const before = (await a.app.inject({ method: 'GET', url: '/api/config' })).json<VersionedConfig>();
    let told = 0;
    a.config.onChange(() => told++);
    const saved = await a.persistence.loadConfig();

    for (const payload of [{}, { thresholds: { minSpreadBps: before.config.thresholds.minSpreadBps } }, { fees: {} }]) {
      const r = await a.app.inject({ method: 'PUT', url: '/api/config', payload });
      expect(r.statusCode, JSON.stringify(payload)).toBe(200);
      expect(r.json<VersionedConfig>(), JSON.stringify(payload)).toEqual(before);
    }
    expect((await a.app.inject({ method: 'GET', url: '/api/config' })).json()).toEqual(before);
    expect(await a.persistence.loadConfig()).toEqual(saved);
    expect(told).toBe(0);

    const changed = await a.app.inject({ method: 'PUT', url: '/api/config', payload: { thresholds: { minSpreadBps: before.config.thresholds.minSpreadBps + 1 } } });
    expect(changed.json<VersionedConfig>().version).toBe(before.version + 1);
    expect(told).toBe(1);
  });
});
