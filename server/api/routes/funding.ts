/** GET /api/funding: the funding board (server/funding/board.ts), filtered by instrument, venue and settle. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FundingQuery, FundingResponseSchema, type FundingResponse } from '../../../shared/funding.js';
import { normaliseInstrumentKey } from '../../venues/symbology.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../error-responses.js';

export const fundingRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/funding',
    {
      schema: {
        tags: ['funding'],
        summary:
          'Funding board: per instrument × venue × settle, the latest rate (bps per its interval, per 8 h, APR %), interval, next settlement, last settled rate, realised averages (null until a history source exists) and the best carry pair per instrument',
        querystring: FundingQuery,
        response: { 200: FundingResponseSchema, ...errorResponses(400) },
      },
    },
    async (request): Promise<FundingResponse> => {
      const q = request.query;
      const instrument = q.instrument ? (normaliseInstrumentKey(q.instrument) ?? q.instrument) : undefined;
      const board = ctx.fundingBoard;
      const nowMs = board ? board.now() : Date.now();
      const rows = board ? board.rows({ instrument, venue: q.venue, settle: q.settle, minOpenInterestUsd: q.minOpenInterestUsd, minVolume24hUsd: q.minVolume24hUsd }, nowMs) : [];
      return {
        nowMs,
        count: rows.length,
        historySource: board?.historySource ?? null,
        liquidity: rows.some((r) => r.openInterestUsd !== null || r.volume24hUsd !== null),
        rows,
      };
    },
  );
};
