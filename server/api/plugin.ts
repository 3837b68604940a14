/**
 * Mounts the whole HTTP surface under the base path: /api (REST), /api/docs (Swagger UI; the OpenAPI document
 * at /api/docs/json), /metrics, /ws and the built dashboard (dist/web). Everything is relative to BASE_PATH so
 * a reverse proxy can host it on a sub-path.
 */
import { existsSync } from 'node:fs';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { type AccessPolicy, accessGuard, DEFAULT_ACCESS_POLICY } from './access.js';
import type { ApiContext } from './context.js';
import { installErrorHandlers, refuseWhileClosing } from './errors.js';
import { alertRoutes } from './routes/alerts.js';
import { configRoutes } from './routes/config.js';
import { feedRoutes } from './routes/feeds.js';
import { fundingRoutes } from './routes/funding.js';
import { fundingHistoryRoutes } from './routes/funding-history.js';
import { opportunityRoutes } from './routes/opportunities.js';
import { metricsRoute, systemRoutes } from './routes/system.js';
import { tradingRoutes } from './routes/trading.js';
import { ErrorResponseSchema } from '../../shared/api.js';

export interface MountOptions {
  basePath: string;
  /** Built dashboard directory; skipped (with a hint at /) when missing. */
  staticDir: string | null;
  maxClientMessageBytes?: number;
  /** Host names served and cross-site origins allowed (default: loopback names, same-origin only). */
  access?: AccessPolicy;
}

const DEFAULT_MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export async function mountApi(app: FastifyInstance, ctx: ApiContext, opts: MountOptions): Promise<void> {
  const base = opts.basePath;
  installErrorHandlers(app);
  app.addSchema(ErrorResponseSchema);
  // Responses are declared with their schemas (shared/api.ts) for the contract and the OpenAPI document, but
  // written with JSON.stringify: a schema-driven serializer silently drops any field its schema lacks.
  // test/api/contract.test.ts checks every live response against its declared schema instead.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('onResponse', async (request, reply) => ctx.metrics.countRequest(request.method, reply.statusCode, request.routeOptions.url ?? null, reply.elapsedTime));

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'perpscan API', version: '0.1.0', description: 'Cross-exchange perpetual-futures arbitrage scanner. Mutating routes need `Authorization: Bearer <API_TOKEN>` when the server has one.' },
      servers: [{ url: base || '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(fastifyRateLimit, { global: false });
  const maxPayload = opts.maxClientMessageBytes ?? DEFAULT_MAX_CLIENT_MESSAGE_BYTES;
  await app.register(fastifyWebsocket, {
    options: { maxPayload, perMessageDeflate: false },
    // ws has already closed the socket (1009 for an oversized message, 1002 for a protocol error): one line
    // naming the client and the cause, no stack trace (the default handler logs the error at level error).
    errorHandler: (err: Error & { code?: string }, _socket, request) => {
      const tooBig = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      request.log.warn(
        { remote: request.ip, code: err.code, ...(tooBig ? { maxBytes: maxPayload } : {}) },
        tooBig ? 'ws client message too large: socket closed (1009)' : `ws client socket error: ${err.message}`,
      );
    },
  });
  // Before every route, the 404 handler and /ws: a request for a foreign host name or a cross-site write never
  // reaches a handler. Added after @fastify/websocket so its onRequest hook has marked upgrade requests and
  // its onResponse hook closes the socket of an upgrade refused here.
  app.addHook('onRequest', accessGuard(opts.access ?? DEFAULT_ACCESS_POLICY));
  refuseWhileClosing(app);

  await app.register(
    async (scoped) => {
      await scoped.register(configRoutes, { prefix: '/api', ctx });
      await scoped.register(opportunityRoutes, { prefix: '/api', ctx });
      await scoped.register(tradingRoutes, { prefix: '/api', ctx });
      await scoped.register(systemRoutes, { prefix: '/api', ctx });
      await scoped.register(feedRoutes, { prefix: '/api', ctx });
      await scoped.register(alertRoutes, { prefix: '/api', ctx });
      await scoped.register(fundingRoutes, { prefix: '/api', ctx });
      await scoped.register(fundingHistoryRoutes, { prefix: '/api', ctx });
      await scoped.register(metricsRoute, { ctx });
      // indexPrefix: the page at `/api/docs` (no slash) links its assets by absolute path, which must include BASE_PATH.
      await scoped.register(fastifySwaggerUi, { routePrefix: '/api/docs', indexPrefix: base || undefined, uiConfig: { docExpansion: 'list', deepLinking: true } });
      scoped.get('/ws', { websocket: true, schema: { hide: true } }, (socket, request) => {
        ctx.hub.addClient(socket, request.ip, request.raw.socket);
      });
      if (opts.staticDir && existsSync(opts.staticDir)) {
        await scoped.register(fastifyStatic, { root: opts.staticDir, prefix: '/', index: ['index.html'] });
      } else {
        scoped.get('/', { schema: { hide: true }, prefixTrailingSlash: 'slash' }, async (_request, reply) =>
          reply.type('text/plain').send('perpscan is running; the dashboard is not built (run `npm run build`). API: ./api/docs\n'),
        );
      }
    },
    { prefix: base },
  );
  // `/perpscan` → `/perpscan/` so the dashboard's relative asset paths resolve under the sub-path.
  if (base) {
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0];
      if (path === base && (request.method === 'GET' || request.method === 'HEAD')) {
        const query = request.url.slice(path.length);
        return reply.redirect(`${base}/${query}`, 301);
      }
    });
  }
}
