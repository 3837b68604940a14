/**
 * The process logger and the operator-facing log lines that are not any one module's job.
 *
 * Format: human-readable (pino-pretty) when stdout is a terminal, one JSON object per line otherwise
 * (pipes, files, journald, log shippers); `LOG_FORMAT=json|pretty` overrides the guess.
 */
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import pino from 'pino';
import type { FeedState, FeedStatus } from '../shared/feeds.js';

export type LogFormat = 'json' | 'pretty';

export function chooseLogFormat(env: NodeJS.ProcessEnv, stdoutIsTty: boolean): LogFormat {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT;
  return stdoutIsTty ? 'pretty' : 'json';
}

/**
 * pino-pretty runs in this thread (not a worker transport) so a line written just before `process.exit`
 * is never lost. When pino-pretty is not installed (a production install without it) the logger falls
 * back to JSON rather than failing to start.
 */
export async function createLogger(opts: { level: string; format: LogFormat; /** JSON lines go here; default stdout. */ destination?: pino.DestinationStream }): Promise<pino.Logger> {
  const options: pino.LoggerOptions = { level: opts.level, base: { app: 'perpscan' } };
  if (opts.format === 'pretty') {
    const pretty = await import('pino-pretty').then((m) => m.default).catch(() => null);
    if (pretty) {
      return pino(options, pretty({ sync: true, colorize: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname,app' }));
    }
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** Logs one line when a venue's feed becomes live (again), naming the venue. */
export function logFeedLive(log: Pick<pino.Logger, 'info'>): (state: FeedState) => void {
  const last = new Map<string, FeedStatus>();
  return (state) => {
    const before = last.get(state.exchange);
    last.set(state.exchange, state.status);
    if (state.status === 'live' && before !== 'live') {
      log.info({ venue: state.exchange, connections: state.connections, subscriptions: state.subscriptions, reconnects: state.reconnects }, `feed live: ${state.exchange}`);
    }
  };
}

/**
 * Fastify's request logging: one line per finished request at debug (method, URL, status, duration)
 * instead of two at info, so an info log is about the system, not about who polled it. Failed requests
 * still log at error.
 */
export class RequestLogAtDebug extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { method: request.method, url: request.url, statusCode: reply.statusCode, durationMs: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.debug(line, 'request');
  }

  /** The 404 itself is in the request line. */
  override routeNotFound(): void {}
}
