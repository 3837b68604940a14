/** Bearer-token check for mutating routes (only when API_TOKEN is set). */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

export function bearerAuth(token: string | null) {
  const expected = token ? Buffer.from(token) : null;
  return async function requireToken(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!expected) return;
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = m ? Buffer.from(m[1].trim()) : null;
    if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      reply.header('www-authenticate', 'Bearer realm="perpscan"');
      await sendError(reply, 401, 'unauthorized', 'authorization', given ? 'invalid API token' : 'this route needs Authorization: Bearer <API_TOKEN>');
    }
  };
}
