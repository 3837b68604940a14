/** GET/PUT /api/config: the versioned config; a bad patch is a 400 naming the field and changes nothing. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConfigPatchSchema, ErrorSchema, VersionedConfigSchema } from '../../../shared/api.js';
import type { ApiContext } from '../context.js';
import { sendError } from '../errors.js';
import { mutating } from './mutating.js';

export const configRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/config', { schema: { tags: ['config'], summary: 'Current config and its version', response: { 200: VersionedConfigSchema } } }, async () => ctx.config.versioned);

  app.put(
    '/config',
    {
      ...mutating(ctx),
      schema: {
        tags: ['config'],
        summary: 'Partial config update (deep merge); applies on the next market update and is persisted',
        body: ConfigPatchSchema,
        response: { 200: VersionedConfigSchema, 400: ErrorSchema, 401: ErrorSchema },
      },
    },
    async (request, reply) => {
      const result = ctx.config.update(request.body);
      if (!result.ok) {
        const first = result.errors[0];
        return sendError(reply, 400, 'invalid_config', first.field, first.message, result.errors);
      }
      request.log.info({ version: result.versioned.version }, 'config updated');
      return result.versioned;
    },
  );
};
