/** POST /api/feeds/:venue/restart: start one venue's feed afresh (GET /api/feeds is in system.ts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { FeedRestartResponseSchema, VenueParams } from '../../../shared/api.js';
import { EXCHANGES, isExchange } from '../../../shared/exchanges.js';
import type { ApiContext } from '../context.js';
import { sendError } from '../errors.js';
import { mutating } from './mutating.js';

export const feedRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.post(
    '/feeds/:venue/restart',
    {
      ...mutating(
        ctx,
        {
          tags: ['system'],
          summary: "Restart one venue's feed (metadata, sockets, backoff reset); answers before the venue is live",
          params: VenueParams,
          response: { 200: FeedRestartResponseSchema },
        },
        404,
      ),
    },
    async (request, reply) => {
      const { venue } = request.params;
      if (!isExchange(venue)) return sendError(reply, 400, 'unknown_venue', 'venue', `unknown venue "${venue}" (known: ${EXCHANGES.join(', ')})`);
      if (!ctx.feeds) return sendError(reply, 404, 'not_found', 'venue', `no feeds run on this server, so no feed for ${venue}`);
      const restarted = await ctx.feeds.restartVenue(venue);
      if (!restarted) return sendError(reply, 404, 'not_found', 'venue', `venue ${venue} is not configured (market.exchanges)`);
      request.log.warn({ venue }, 'feed restarted by request');
      return { restarted: venue, feed: ctx.feeds.states().find((f) => f.exchange === venue) ?? null };
    },
  );
};
