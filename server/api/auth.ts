/**
 * Bearer-token check for mutating routes (only when API_TOKEN is set). Failed attempts count per client
 * address (`request.ip`, the forwarded client behind a trusted proxy); past the limit the address gets 429
 * before its token is even looked at.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthFailureLimiter } from './auth-failures.js';
import { sendError } from './errors.js';

export function bearerAuth(token: string | null, failures: AuthFailureLimiter | null = null) {
  const expected = token ? Buffer.from(token) : null;
  return async function requireToken(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!expected) return;
    const blockedMs = failures?.blockedForMs(request.ip) ?? 0;
    if (blockedMs > 0) {
      const seconds = Math.ceil(blockedMs / 1000);
      reply.header('retry-after', String(seconds));
      await sendError(reply, 429, 'rate_limited', 'authorization', `too many failed authentications from this address; retry in ${seconds} s`);
      return;
    }
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = m ? Buffer.from(m[1].trim()) : null;
    if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      // Only a wrong token is a guess; a missing one (a dashboard without its token yet) reveals nothing.
      if (given) failures?.recordFailure(request.ip);
      if (given) request.log.warn({ remote: request.ip, method: request.method, url: request.url }, 'invalid API token');
      reply.header('www-authenticate', 'Bearer realm="perpscan"');
      await sendError(reply, 401, 'unauthorized', 'authorization', given ? 'invalid API token' : 'this route needs Authorization: Bearer <API_TOKEN>');
    }
  };
}
