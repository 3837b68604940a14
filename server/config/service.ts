/**
 * The live, versioned config: PUT /api/config goes through `update`, which validates the patch against the
 * current config (errors name the field, nothing changes on error), bumps the version, persists it and
 * tells the listeners (engine, strategy, stream) — the change applies on the next market update.
 */
import { isDeepStrictEqual } from 'node:util';
import { applyConfigPatch, type Config, type ConfigError, type VersionedConfig } from '../../shared/config.js';

export type ConfigListener = (next: VersionedConfig, previous: VersionedConfig) => void;
export type UpdateResult = { ok: true; versioned: VersionedConfig } | { ok: false; errors: ConfigError[] };

export class ConfigService {
  private current: VersionedConfig;
  private readonly listeners: ConfigListener[] = [];

  constructor(
    initial: VersionedConfig,
    private readonly save: (versioned: VersionedConfig) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.current = initial;
  }

  get versioned(): VersionedConfig {
    return this.current;
  }

  get config(): Config {
    return this.current.config;
  }

  get version(): number {
    return this.current.version;
  }

  onChange(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  /**
   * Takes a config someone else validated and versioned (an edge following its engine, server/cluster/),
   * without saving it; listeners hear of it like of an update.
   */
  adopt(next: VersionedConfig): void {
    if (next.version === this.current.version && next.updatedMs === this.current.updatedMs) return;
    const previous = this.current;
    this.current = next;
    for (const l of this.listeners) l(this.current, previous);
  }

  /** Applies a patch; one that changes nothing (e.g. `{}`) keeps the version and tells no one. */
  update(patch: unknown): UpdateResult {
    const result = applyConfigPatch(this.current.config, patch);
    if (!result.ok) return result;
    if (isDeepStrictEqual(result.config, this.current.config)) return { ok: true, versioned: this.current };
    const previous = this.current;
    this.current = { version: previous.version + 1, config: result.config, updatedMs: this.now() };
    this.save(this.current);
    for (const l of this.listeners) l(this.current, previous);
    return { ok: true, versioned: this.current };
  }
}
