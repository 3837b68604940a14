/** Feeds, liveness, readiness, stats and Prometheus metrics. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ApiContext, Readiness } from '../context.js';

export function readiness(ctx: ApiContext): Readiness {
  const details = ctx.feeds?.states() ?? [];
  const health = ctx.persistence.health();
  const feeds: Readiness['feeds'] = ctx.feeds === null ? 'none' : details.length > 0 && details.every((f) => f.status === 'live') ? 'live' : 'not_live';
  const persistence: Readiness['persistence'] = health.kind === 'memory' ? 'memory' : health.connected ? 'connected' : 'unreachable';
  const engine = ctx.running();
  return {
    ready: engine && feeds !== 'not_live' && persistence !== 'unreachable',
    engine,
    feeds,
    persistence,
    persistenceResyncs: health.resyncs,
    lastResyncMs: health.lastResyncMs,
    details,
  };
}

export const systemRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/feeds', { schema: { tags: ['system'], summary: 'Feed state per exchange' } }, async () => ({ feeds: ctx.feeds?.states() ?? [] }));

  app.get('/health', { schema: { tags: ['system'], summary: 'Liveness' } }, async () => ({
    status: 'ok',
    uptimeMs: Date.now() - ctx.startedMs,
    configVersion: ctx.config.version,
  }));

  app.get('/ready', { schema: { tags: ['system'], summary: 'Readiness: engine running, feeds live, persistence reachable (503 when not)' } }, async (_request, reply) => {
    const r = readiness(ctx);
    return reply.code(r.ready ? 200 : 503).send(r);
  });

  app.get('/stats', { schema: { tags: ['system'], summary: 'Engine and stream statistics' } }, async () => ({ stats: ctx.hub.stats(), stream: ctx.hub.counters, persistence: ctx.persistence.health() }));
};

/** GET /metrics (outside /api, under the base path). */
export const metricsRoute: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics', hide: false } }, async (_request, reply) => {
    const { contentType, body } = await ctx.metrics.render();
    return reply.type(contentType).send(body);
  });
};
