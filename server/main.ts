/**
 * `npm start` → `tsx server/main.ts`: reads settings (env) and config (file → env → persisted → REST),
 * builds the app, listens, and shuts down gracefully on SIGINT/SIGTERM (feeds stopped, persistence
 * flushed, sockets closed, exit 0). Invalid settings or config: exit 1 with a message naming the field.
 */
import { formatConfigErrors } from '../shared/config.js';
import { buildApp, type FeedsOption, type PerpscanApp } from './app.js';
import { readServerSettings } from './config/env.js';
import { loadStartupConfig } from './config/load.js';
import { FrameRecorder } from './feeds/index.js';
import { stdoutLogDestination } from './log-destination.js';
import { chooseLogFormat, createLogger } from './logging.js';

const SHUTDOWN_TIMEOUT_MS = 5000;

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

  let perpscan: PerpscanApp;
  try {
    perpscan = await buildApp({
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
    });
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }

  const address = await perpscan.app.listen({ host: s.host, port: s.port });
  const bound = perpscan.app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : s.port;
  // Tests and scripts read this line (JSON, msg "listening") to find an ephemeral port.
  logger.info({ address, host: s.host, port, basePath: s.basePath || '/', feeds: s.feeds, persistence: perpscan.persistence.kind }, 'listening');

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    try {
      await perpscan.close();
      await recorder?.close();
      if (recorder) logger.info({ path: recorder.path, frames: recorder.frames }, 'recording closed');
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

void main();
