/** GET /api/opportunities (current, sorted and filtered) and /api/opportunities/history (closed, newest first). */
import { normaliseInstrumentKey } from '../../venues/symbology.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { HistoryQuery, HistoryResponseSchema, OpportunitiesQuery, OpportunitiesResponseSchema } from '../../../shared/api.js';
import type { Opportunity } from '../../../shared/opportunity.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../error-responses.js';
import { sendExport } from '../export/reply.js';
import { ClosedOpportunitySchema, OpportunitySchema } from '../../../shared/schemas.js';

const SORT_KEYS: Record<string, (o: Opportunity) => number> = {
  profit: (o) => o.projectedProfitBps,
  spread: (o) => o.spreadBps,
  funding: (o) => o.fundingDelta8h,
  confidence: (o) => o.confidence,
  age: (o) => -o.firstSeenMs,
  netApr: (o) => o.netAprPct ?? -Number.MAX_VALUE, // absent on records from before it: last
};

export const opportunityRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/opportunities',
    { schema: { tags: ['opportunities'], summary: 'Open opportunities', querystring: OpportunitiesQuery, response: { 200: OpportunitiesResponseSchema, ...errorResponses(400) } } },
    async (request, reply) => {
      const q = request.query;
      let list = ctx.engine.opportunities();
      if (q.instrument) {
        const key = normaliseInstrumentKey(q.instrument) ?? q.instrument;
        list = list.filter((o) => o.instrument === key);
      }
      if (q.exchange) list = list.filter((o) => o.longExchange === q.exchange || o.shortExchange === q.exchange);
      if (q.minProfitBps !== undefined) list = list.filter((o) => o.projectedProfitBps >= q.minProfitBps!);
      if (q.minCarryEarnedShare !== undefined) list = list.filter((o) => o.carryEarnedShare != null && o.carryEarnedShare >= q.minCarryEarnedShare!);
      const key = SORT_KEYS[q.sort ?? 'profit'];
      const sign = q.order === 'asc' ? 1 : -1;
      list = list.slice().sort((a, b) => sign * (key(a) - key(b)) || a.id.localeCompare(b.id));
      const body = { count: list.length, opportunities: list.slice(0, q.limit ?? 500) };
      if (q.format) return sendExport(reply, { format: q.format, name: 'opportunities', rowSchema: OpportunitySchema, rows: body.opportunities, json: body });
      return body;
    },
  );

  app.get(
    '/opportunities/history',
    { schema: { tags: ['opportunities'], summary: 'Closed opportunities, newest first', querystring: HistoryQuery, response: { 200: HistoryResponseSchema, ...errorResponses(400) } } },
    async (request, reply) => {
      const closed = await ctx.persistence.opportunityHistory(request.query.limit ?? 100);
      const body = { count: closed.length, history: closed };
      const format = request.query.format;
      if (format) return sendExport(reply, { format, name: 'closed-opportunities', rowSchema: ClosedOpportunitySchema, rows: closed, json: body });
      return body;
    },
  );
};
