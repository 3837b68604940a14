/** GET/PUT /api/config: the versioned config; a bad patch is a 400 naming the field and changes nothing. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConfigPatchSchema, ConfigPutQuery, VersionedConfigSchema } from '../../../shared/api.js';
import { applyConfigPatch } from '../../../shared/config.js';
import { NOTHING_SCANNED, nothingScannedProblems } from '../../config/scan-guard.js';
import type { ApiContext } from '../context.js';
import { sendError } from '../errors.js';
import { errorResponses } from '../error-responses.js';
import { mutating } from './mutating.js';

export const configRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get('/config', { schema: { tags: ['config'], summary: 'Current config and its version', response: { 200: VersionedConfigSchema, ...errorResponses() } } }, async () => ctx.config.versioned);

  app.put(
    '/config',
    {
      ...mutating(ctx, {
        tags: ['config'],
        summary: 'Partial config update (deep merge); applies on the next market update and is persisted',
        body: ConfigPatchSchema,
        querystring: ConfigPutQuery,
        response: { 200: VersionedConfigSchema },
      }),
    },
    async (request, reply) => {
      if (request.query.force !== true) {
        const preview = applyConfigPatch(ctx.config.config, request.body);
        const problems = preview.ok ? nothingScannedProblems(request.body, preview.config) : [];
        if (problems.length > 0) return sendError(reply, 400, NOTHING_SCANNED, problems[0].field, problems[0].message, problems);
      }
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
