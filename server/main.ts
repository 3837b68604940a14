/**
 * `npm start` → `tsx server/main.ts`: reads settings (env) and config (file → env → persisted → REST),
 * builds the app for its ROLE (all: everything; engine: waits for the lease, then engine + publishing;
 * edge: dashboard, /ws and REST from Redis — server/cluster/), listens, and shuts down gracefully on SIGINT/SIGTERM (feeds stopped, persistence
 * flushed, sockets closed, exit 0). Invalid settings or config: exit 1 with a message naming the field.
 */
import { formatConfigErrors } from '../shared/config.js';
import type { FastifyInstance } from 'fastify';
import { buildApp, DEFAULT_STATIC_DIR, type FeedsOption, type PerpscanApp } from './app.js';
import { buildEdge } from './cluster/edge.js';
import { startEngineRole } from './cluster/engine-role.js';
import { readServerSettings } from './config/env.js';
import { loadStartupConfig } from './config/load.js';
import { FrameRecorder } from './feeds/index.js';
import { stdoutLogDestination } from './log-destination.js';
import { chooseLogFormat, createLogger } from './logging.js';
import type { Persistence } from './persistence/persistence.js';

const SHUTDOWN_TIMEOUT_MS = 5000;
/** ROLE=engine exits with this when it lost the lease (a supervisor may restart it as the new standby). */
const EXIT_LEASE_LOST = 3;

async function main(): Promise<void> {
  const settingsResult = readServerSettings(process.env, process.argv.slice(2));
  const logger = await createLogger({ level: settingsResult.ok ? settingsResult.settings.logLevel : 'info', format: chooseLogFormat(process.env, process.stdout.isTTY === true), destination: stdoutLogDestination() });
  if (!settingsResult.ok) {
    for (const e of settingsResult.errors) logger.fatal({ field: e.field }, `invalid setting ${e.field}: ${e.message}`);
    console.error(`perpscan: invalid settings: ${formatConfigErrors(settingsResult.errors)}`);
    process.exit(1);
  }
  const s = settingsResult.settings;
  const loaded = loadStartupConfig({ path: s.configPath, env: process.env });
  if (!loaded.ok) {
    for (const e of loaded.errors) logger.fatal({ field: e.field }, `invalid config ${e.field}: ${e.message}`);
    console.error(`perpscan: invalid config: ${formatConfigErrors(loaded.errors)}`);
    process.exit(1);
  }

  const feeds: FeedsOption =
    s.feeds === 'live'
      ? s.feedEndpoints
        ? { endpoints: s.feedEndpoints }
        : 'live'
      : s.feeds === 'none'
        ? 'none'
        : {
            simulator: {
              seed: s.simSeed,
              messagesPerSec: s.simRate,
              dislocationsPerMin: s.simDislocationsPerMin,
              universe: s.simUniverse,
              churnSec: s.simChurnSec,
            },
          };
  const recorder = s.recordFile ? new FrameRecorder(s.recordFile) : undefined;
  if (recorder) logger.info({ path: recorder.path }, `recording market frames to ${recorder.path}`);

  const build = (persistence?: Persistence): Promise<PerpscanApp> =>
    buildApp({
      config: loaded.config,
      configFileMtimeMs: loaded.fileMtimeMs,
      configOrigin: loaded.origin,
      feeds,
      basePath: s.basePath,
      trustProxy: s.trustProxy,
      apiToken: s.apiToken,
      redisUrl: s.redisUrl,
      redisPrefix: s.redisPrefix,
      recorder,
      logger,
      access: { allowedHosts: s.allowedHosts, allowedOrigins: s.allowedOrigins },
      authFailures: s.authFailures,
      http: s.http,
      wsClientMessagesPerSec: s.wsClientMessagesPerSec,
      fundingBackfill: true,
      persistence,
    });

  let stopping = false;
  let closeRole: () => Promise<void> = async () => undefined;
  const shutdown = async (signal: string, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await closeRole();
      await recorder?.close();
      if (recorder) logger.info({ path: recorder.path, frames: recorder.frames }, 'recording closed');
      logger.info('stopped');
      logger.flush();
      process.exit(exitCode);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  let app: FastifyInstance;
  let persistenceKind: string;
  try {
    if (s.role === 'edge') {
      const edge = await buildEdge({
        redisUrl: s.redisUrl ?? '',
        redisPrefix: s.redisPrefix,
        logger,
        basePath: s.basePath,
        trustProxy: s.trustProxy,
        apiToken: s.apiToken,
        staticDir: DEFAULT_STATIC_DIR,
        access: { allowedHosts: s.allowedHosts, allowedOrigins: s.allowedOrigins },
        authFailures: s.authFailures,
        http: s.http,
        wsClientMessagesPerSec: s.wsClientMessagesPerSec,
      });
      closeRole = () => edge.close();
      app = edge.app;
      persistenceKind = 'redis (read-only)';
    } else if (s.role === 'engine') {
      // A standby waits inside startEngineRole until the active engine's lease expires.
      const active = await startEngineRole({
        redisUrl: s.redisUrl ?? '',
        redisPrefix: s.redisPrefix,
        basePath: s.basePath,
        logger,
        leaseTtlMs: s.leaseTtlMs,
        build,
        onLost: () => void shutdown('lease lost', EXIT_LEASE_LOST),
      });
      closeRole = () => active.close();
      app = active.perpscan.app;
      persistenceKind = active.perpscan.persistence.kind;
    } else {
      const perpscan = await build();
      closeRole = () => perpscan.close();
      app = perpscan.app;
      persistenceKind = perpscan.persistence.kind;
    }
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }

  const address = await app.listen({ host: s.host, port: s.port });
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : s.port;
  // Tests and scripts read this line (JSON, msg "listening") to find an ephemeral port.
  logger.info({ address, host: s.host, port, basePath: s.basePath || '/', role: s.role, feeds: s.role === 'edge' ? 'none' : s.feeds, persistence: persistenceKind }, 'listening');
}

void main();
