/**
 * Route options shared by every mutating route: bearer auth (when API_TOKEN is set), a rate limit, and the
 * error responses those (and the Origin check, body validation and limits) add to the route's schema.
 * On an edge (ROLE=edge) such a route is run by the engine once the edge's own checks pass (server/cluster/relay.ts).
 */
import type { FastifySchema } from 'fastify';
import { bearerAuth } from '../auth.js';
import type { ApiContext } from '../context.js';
import { type ErrorStatus, errorResponses, MUTATING_ROUTE_ERRORS } from '../error-responses.js';

export function mutating<S extends FastifySchema & { response: Record<number, unknown> }>(ctx: ApiContext, schema: S, ...moreErrors: ErrorStatus[]) {
  return {
    onRequest: bearerAuth(ctx.apiToken, ctx.authFailures),
    config: { rateLimit: { max: ctx.rateLimit.max, timeWindow: ctx.rateLimit.timeWindowMs }, relayToEngine: true },
    schema: { ...schema, response: { ...errorResponses(...MUTATING_ROUTE_ERRORS, ...moreErrors), ...schema.response } },
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A mutation (or a read of engine-only state): on an edge it is relayed to the engine after authentication and validation. */
    relayToEngine?: boolean;
  }
}
