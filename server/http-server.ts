/**
 * The Fastify instance every role serves from (ROLE=all/engine in server/app.ts, ROLE=edge in
 * server/cluster/edge.ts): timeouts, trusted proxies, the per-address connection cap, TypeBox validation.
 */
import compileTrust from '@fastify/proxy-addr';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type pino from 'pino';
import { capConnectionsPerAddress } from './api/connection-cap.js';
import { clientErrorHandler } from './api/errors.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './config/env.js';
import { RequestLogAtDebug } from './logging.js';

export interface HttpServerOptions {
  logger: pino.Logger;
  trustProxy?: boolean | number | string;
  /** Default 15 s / 10 s and no connection cap (main.ts passes 64). */
  http?: Partial<HttpLimits>;
}

export function createHttpServer(opts: HttpServerOptions): FastifyInstance {
  const logger = opts.logger;
  const httpLimits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, maxConnectionsPerIp: 0, ...opts.http };
  // A hop count becomes proxy-addr's (address, hop) → trusted function.
  const trustProxy = typeof opts.trustProxy === 'number' ? ((hops: number) => (_addr: string, i: number) => i < hops)(opts.trustProxy) : (opts.trustProxy ?? false);
  const app = Fastify({
    loggerInstance: logger,
    trustProxy,
    bodyLimit: 256 * 1024,
    logController: new RequestLogAtDebug(),
    forceCloseConnections: true,
    // Timeouts and broken requests, and requests during shutdown, answered in the shared error shape (errors.ts).
    clientErrorHandler,
    return503OnClosing: false,
    // A request (headers and body) must arrive within requestTimeoutMs or it gets 408 and the socket
    // closes: a body trickled in byte by byte cannot hold a connection forever. Node checks these
    // deadlines every connectionsCheckingInterval, so that is kept well under the timeout.
    requestTimeout: httpLimits.requestTimeoutMs,
    // Idle sockets (no byte either way) are closed after this; an upgraded /ws socket is exempt (ws clears it).
    connectionTimeout: 120_000,
    http: {
      headersTimeout: Math.min(httpLimits.headersTimeoutMs, httpLimits.requestTimeoutMs),
      connectionsCheckingInterval: Math.max(250, Math.min(30_000, Math.floor(httpLimits.requestTimeoutMs / 5))),
    },
  }) as unknown as FastifyInstance;
  if (httpLimits.maxConnectionsPerIp > 0) {
    const trusted = trustProxy === false ? null : typeof trustProxy === 'function' || trustProxy === true ? () => true : compileTrust.compile(trustProxy.split(',').map((a) => a.trim()));
    capConnectionsPerAddress(app.server, {
      maxPerAddress: httpLimits.maxConnectionsPerIp,
      exempt: trusted ? (address) => trusted(address, 0) : undefined,
      logger,
    });
  }
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  return app;
}
