/**
 * GET /api/funding/history: settled funding of one instrument per venue leg over a time range (the
 * funding-history store, server/funding/history-store.ts), also as a CSV or JSON download (`?format=`);
 * GET /api/funding/history/status: the backfill's progress.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { rate8hBps } from '../../../shared/funding.js';
import {
  FundingBackfillStatusSchema,
  FundingHistoryQuery,
  FundingHistoryResponseSchema,
  FundingHistoryRowSchema,
  type FundingBackfillStatus,
  type FundingHistoryResponse,
  type FundingHistoryRow,
} from '../../../shared/funding-history.js';
import { normaliseInstrumentKey } from '../../venues/symbology.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../error-responses.js';
import { sendError } from '../errors.js';
import { sendExport } from '../export/reply.js';

const DAY_MS = 86_400_000;

export const fundingHistoryRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/funding/history',
    {
      // The history index lives in the engine's memory: an edge asks the engine (server/cluster/relay.ts).
      config: { relayToEngine: true },
      schema: {
        tags: ['funding'],
        summary:
          'Settled funding of one instrument on each venue (or one venue) between `from` and `to` (epoch ms): per settlement the rate in bps per its interval and per 8 h. `?format=csv|json` downloads it (one row per settlement).',
        querystring: FundingHistoryQuery,
        response: { 200: FundingHistoryResponseSchema, ...errorResponses(400) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const nowMs = ctx.fundingBoard ? ctx.fundingBoard.now() : Date.now();
      const history = ctx.fundingHistory;
      const retentionMs = history?.retentionMs ?? 35 * DAY_MS;
      const to = q.to ?? nowMs;
      const from = q.from ?? to - retentionMs;
      if (from > to) return sendError(reply, 400, 'validation', 'querystring.from', '`from` must not be after `to`');
      const instrument = normaliseInstrumentKey(q.instrument) ?? q.instrument;
      const legs = (history?.legs() ?? [])
        .filter((l) => l.instrument === instrument && (!q.venue || l.venue === q.venue))
        .sort((a, b) => (a.venue < b.venue ? -1 : a.venue > b.venue ? 1 : a.settle < b.settle ? -1 : a.settle > b.settle ? 1 : 0));
      const body: FundingHistoryResponse = {
        from,
        to,
        retentionMs,
        series: legs.map((leg) => ({
          instrument: leg.instrument,
          venue: leg.venue,
          settle: leg.settle,
          points: history!.view.settlements(leg, from, to).map((p) => ({
            settledMs: p.timeMs,
            rateIntervalBps: p.rate * 1e4,
            intervalMs: p.intervalMs,
            rate8hBps: p.intervalMs !== null && p.intervalMs > 0 ? rate8hBps(p.rate, p.intervalMs) : null,
          })),
        })),
      };
      if (q.format) {
        const rows: FundingHistoryRow[] = body.series.flatMap((s) => s.points.map((p) => ({ instrument: s.instrument, venue: s.venue, settle: s.settle, ...p })));
        return sendExport(reply, { format: q.format, name: 'funding-history', rowSchema: FundingHistoryRowSchema, rows, json: body, nowMs });
      }
      return body;
    },
  );

  app.get(
    '/funding/history/status',
    {
      config: { relayToEngine: true },
      schema: {
        tags: ['funding'],
        summary: 'Funding-history backfill progress per venue (legs read, requests, pace, errors) and the store’s size and retention; null when no backfill runs',
        querystring: Type.Object({}, { additionalProperties: false }),
        response: { 200: Type.Union([FundingBackfillStatusSchema, Type.Null()]), ...errorResponses(400) },
      },
    },
    async (): Promise<FundingBackfillStatus | null> => ctx.fundingHistory?.status() ?? null,
  );
};
