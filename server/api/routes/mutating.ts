/** Route options shared by every mutating route: bearer auth (when API_TOKEN is set) and a rate limit. */
import { bearerAuth } from '../auth.js';
import type { ApiContext } from '../context.js';

export function mutating(ctx: ApiContext) {
  return {
    onRequest: bearerAuth(ctx.apiToken, ctx.authFailures),
    config: { rateLimit: { max: ctx.rateLimit.max, timeWindow: ctx.rateLimit.timeWindowMs } },
  };
}
