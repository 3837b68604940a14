/** ROLE and LEASE_TTL_MS settings: the default is one process; a cluster role without Redis is refused, naming the variable. */
import { describe, expect, it } from 'vitest';
import { readServerSettings } from '../../server/config/env.js';

describe('ROLE setting', () => {
  it('defaults to all and takes engine or edge with Redis', () => {
    const d = readServerSettings({}, [], '/srv');
    expect(d.ok && d.settings.role).toBe('all');
    expect(d.ok && d.settings.leaseTtlMs).toBe(3000);
    const e = readServerSettings({ ROLE: 'edge', REDIS_URL: 'redis://127.0.0.1:6379', LEASE_TTL_MS: '1500' }, [], '/srv');
    expect(e.ok && e.settings.role).toBe('edge');
    expect(e.ok && e.settings.leaseTtlMs).toBe(1500);
  });

  it('refuses an unknown role and a cluster role without REDIS_URL, naming the field', () => {
    const bad = readServerSettings({ ROLE: 'leader' }, [], '/srv');
    expect(!bad.ok && bad.errors.map((e) => e.field)).toEqual(['ROLE']);
    const noRedis = readServerSettings({ ROLE: 'engine' }, [], '/srv');
    expect(!noRedis.ok && noRedis.errors.map((e) => e.field)).toEqual(['REDIS_URL']);
    const ttl = readServerSettings({ LEASE_TTL_MS: '10' }, [], '/srv');
    expect(!ttl.ok && ttl.errors.map((e) => e.field)).toEqual(['LEASE_TTL_MS']);
  });
});
