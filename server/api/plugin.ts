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
import type { ApiContext } from './context.js';
import { installErrorHandlers } from './errors.js';
import { configRoutes } from './routes/config.js';
import { opportunityRoutes } from './routes/opportunities.js';
import { metricsRoute, systemRoutes } from './routes/system.js';
import { tradingRoutes } from './routes/trading.js';
import { ErrorSchema } from '../../shared/api.js';

export interface MountOptions {
  basePath: string;
  /** Built dashboard directory; skipped (with a hint at /) when missing. */
  staticDir: string | null;
  maxClientMessageBytes?: number;
}

export async function mountApi(app: FastifyInstance, ctx: ApiContext, opts: MountOptions): Promise<void> {
  const base = opts.basePath;
  installErrorHandlers(app);
  app.addSchema(ErrorSchema);
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
  await app.register(fastifyWebsocket, { options: { maxPayload: opts.maxClientMessageBytes ?? 64 * 1024, perMessageDeflate: false } });

  await app.register(
    async (scoped) => {
      await scoped.register(configRoutes, { prefix: '/api', ctx });
      await scoped.register(opportunityRoutes, { prefix: '/api', ctx });
      await scoped.register(tradingRoutes, { prefix: '/api', ctx });
      await scoped.register(systemRoutes, { prefix: '/api', ctx });
      await scoped.register(metricsRoute, { ctx });
      // indexPrefix: the page at `/api/docs` (no slash) links its assets by absolute path, which must include BASE_PATH.
      await scoped.register(fastifySwaggerUi, { routePrefix: '/api/docs', indexPrefix: base || undefined, uiConfig: { docExpansion: 'list', deepLinking: true } });
      scoped.get('/ws', { websocket: true, schema: { hide: true } }, (socket, request) => {
        ctx.hub.addClient(socket, request.ip);
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
