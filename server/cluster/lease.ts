/**
 * The engine lease: at most one active engine per cluster. Taking it (SET NX PX) hands out a fencing token
 * (INCR); the holder renews it every `ttlMs / 4`. A standby tries every `ttlMs / 8` until the holder's
 * lease expires (a killed engine stops renewing), so it takes over within ttl + ttl/8. A holder whose
 * renewal finds the lease gone or the token moved on has lost it: `onLost` fires once, and its writes are
 * refused by the token check anyway (server/cluster/scripts.ts).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from '../api/ports.js';
import type { ClusterKeys } from './keys.js';
import { LuaScript } from './lua.js';
import { ACQUIRE_LEASE, RELEASE_LEASE, RENEW_LEASE } from './scripts.js';

const acquireScript = new LuaScript(ACQUIRE_LEASE);
const renewScript = new LuaScript(RENEW_LEASE);
const releaseScript = new LuaScript(RELEASE_LEASE);

export const DEFAULT_LEASE_TTL_MS = 3000;

export interface LeaseOptions {
  redis: Redis;
  keys: Pick<ClusterKeys, 'lease' | 'fence'>;
  ttlMs?: number;
  owner?: string;
  logger: Logger;
}

export class EngineLease {
  readonly owner: string;
  readonly ttlMs: number;
  private tokenValue: number | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private waitTimer: NodeJS.Timeout | null = null;
  private lostListeners: Array<(reason: string) => void> = [];
  private stopped = false;
  /** When the lease was last confirmed (acquired or renewed), epoch ms. */
  private confirmedMs = 0;

  constructor(private readonly opts: LeaseOptions) {
    this.owner = opts.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  }

  /** The fencing token while held, else null. */
  get token(): number | null {
    return this.tokenValue;
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** One attempt: the token when taken, null when another engine holds it. */
  async tryAcquire(): Promise<number | null> {
    const k = this.opts.keys;
    const token = await acquireScript.run(this.opts.redis, [k.lease, k.fence], [this.owner, this.ttlMs]);
    if (token === null) return null;
    this.tokenValue = Number(token);
    this.confirmedMs = Date.now();
    this.startRenewing();
    return this.tokenValue;
  }

  /** Waits (as the standby) until the lease is ours; resolves with the token. Rejects when stopped first. */
  acquire(): Promise<number> {
    return new Promise((resolve, reject) => {
      let logged = false;
      const attempt = (): void => {
        if (this.stopped) return reject(new Error('lease: stopped while waiting'));
        this.tryAcquire().then(
          (token) => {
            if (token !== null) return resolve(token);
            if (!logged) this.opts.logger.info({ owner: this.owner }, 'standby: another engine holds the lease; waiting');
            logged = true;
            this.waitTimer = setTimeout(attempt, Math.max(50, Math.floor(this.ttlMs / 8)));
          },
          (err: unknown) => {
            this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'lease: redis not reachable; retrying');
            this.waitTimer = setTimeout(attempt, Math.max(50, Math.floor(this.ttlMs / 8)));
          },
        );
      };
      attempt();
    });
  }

  private startRenewing(): void {
    this.renewTimer = setInterval(() => void this.renew(), Math.max(25, Math.floor(this.ttlMs / 4)));
  }

  private async renew(): Promise<void> {
    if (this.tokenValue === null || this.stopped) return;
    const k = this.opts.keys;
    try {
      const ok = await renewScript.run(this.opts.redis, [k.lease, k.fence], [this.owner, this.tokenValue, this.ttlMs]);
      if (Number(ok) === 1) this.confirmedMs = Date.now();
      else this.lose('the lease expired or another engine took it');
    } catch (err) {
      // Unreachable for a whole ttl: another engine may hold it by now; stop acting as the active one.
      if (Date.now() - this.confirmedMs >= this.ttlMs) this.lose(`redis unreachable for ${this.ttlMs} ms (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  private lose(reason: string): void {
    if (this.tokenValue === null) return;
    this.opts.logger.error({ owner: this.owner, token: this.tokenValue, reason }, `lease lost: ${reason}`);
    this.tokenValue = null;
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    for (const l of this.lostListeners) l(reason);
  }

  /** Stops renewing and gives the lease up (so a standby takes over at once). */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    if (this.tokenValue === null) return;
    this.tokenValue = null;
    await releaseScript.run(this.opts.redis, [this.opts.keys.lease], [this.owner]).catch(() => undefined);
  }
}
