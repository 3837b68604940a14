/** Feeds, liveness, readiness, stats and Prometheus metrics. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import {
  ErrorResponseSchema,
  FeedsResponseSchema,
  HealthResponseSchema,
  MetricsTextSchema,
  PersistenceHealthSchema,
  ReadinessSchema,
  StatsResponseSchema,
  StreamCountersSchema,
} from '../../../shared/api.js';
import { FundingCrossChecksResponseSchema } from '../../../shared/cross-check.js';
import { DepthStatusSchema } from '../../../shared/depth.js';
import type { SameShape } from '../../../shared/schemas.js';
import type { PersistenceHealth } from '../../persistence/persistence.js';
import type { ApiContext, Readiness } from '../context.js';
import { errorResponses } from '../error-responses.js';
import type { StreamCounters } from '../stream/hub.js';

// A compile error here: a server type and its REST schema (shared/api.ts) disagree; change both.
const schemaMatchesType: {
  readiness: SameShape<Static<typeof ReadinessSchema>, Readiness>;
  stream: SameShape<Static<typeof StreamCountersSchema>, StreamCounters>;
  persistence: SameShape<Static<typeof PersistenceHealthSchema>, PersistenceHealth>;
} = {
  readiness: true,
  stream: true,
  persistence: true,
};
void schemaMatchesType;

/** /ready's 503: not ready (a Readiness body), or the server is shutting down (the shared error body). */
const NotReadySchema = Type.Union([ReadinessSchema, ErrorResponseSchema], { description: 'Not ready (a Readiness body), or shutting down (an error body)' });

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
  app.get('/feeds', { schema: { tags: ['system'], summary: 'Feed state per exchange', response: { 200: FeedsResponseSchema, ...errorResponses() } } }, async () => ({ feeds: ctx.feeds?.states() ?? [] }));

  app.get(
    '/feeds/funding-check',
    {
      schema: {
        tags: ['system'],
        summary: "Funding cross-check: each venue's published view of other venues' funding against ours (empty when no enabled venue publishes one)",
        response: { 200: FundingCrossChecksResponseSchema, ...errorResponses() },
      },
    },
    async () => ({ checks: ctx.fundingChecks?.() ?? [] }),
  );

  app.get(
    '/feeds/depth',
    { schema: { tags: ['system'], summary: 'Order books for candidate instruments: per venue sockets, books in sync, gaps, checksum failures, resyncs', response: { 200: DepthStatusSchema, ...errorResponses() } } },
    async () => ctx.depth?.() ?? { enabled: false, levels: 0, candidates: 0, venues: [] },
  );

  app.get('/health', { schema: { tags: ['system'], summary: 'Liveness', response: { 200: HealthResponseSchema, ...errorResponses() } } }, async () => ({
    status: 'ok' as const,
    uptimeMs: Date.now() - ctx.startedMs,
    configVersion: ctx.config.version,
  }));

  app.get(
    '/ready',
    { schema: { tags: ['system'], summary: 'Readiness: engine running, feeds live, persistence reachable (503 when not)', response: { 200: ReadinessSchema, ...errorResponses(), 503: NotReadySchema } } },
    async (_request, reply) => {
      const r = readiness(ctx);
      return reply.code(r.ready ? 200 : 503).send(r);
    },
  );

  app.get('/stats', { schema: { tags: ['system'], summary: 'Engine and stream statistics', response: { 200: StatsResponseSchema, ...errorResponses() } } }, async () => ({
    stats: ctx.hub.stats(),
    stream: ctx.hub.counters,
    persistence: ctx.persistence.health(),
  }));
};

/** GET /metrics (outside /api, under the base path). */
export const metricsRoute: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/metrics',
    { schema: { tags: ['system'], summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain', 'application/json'], response: { 200: MetricsTextSchema, ...errorResponses() } } },
    async (_request, reply) => {
      const { contentType, body } = await ctx.metrics.render();
      return reply.type(contentType).send(body);
    },
  );
};
