/**
 * Route options shared by every mutating route: bearer auth (when API_TOKEN is set), a rate limit, and the
 * error responses those (and the Origin check, body validation and limits) add to the route's schema.
 */
import type { FastifySchema } from 'fastify';
import { bearerAuth } from '../auth.js';
import type { ApiContext } from '../context.js';
import { type ErrorStatus, errorResponses, MUTATING_ROUTE_ERRORS } from '../error-responses.js';

export function mutating<S extends FastifySchema & { response: Record<number, unknown> }>(ctx: ApiContext, schema: S, ...moreErrors: ErrorStatus[]) {
  return {
    onRequest: bearerAuth(ctx.apiToken, ctx.authFailures),
    config: { rateLimit: { max: ctx.rateLimit.max, timeWindow: ctx.rateLimit.timeWindowMs } },
    schema: { ...schema, response: { ...errorResponses(...MUTATING_ROUTE_ERRORS, ...moreErrors), ...schema.response } },
  };
}
