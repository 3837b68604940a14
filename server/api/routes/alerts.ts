/**
 * GET/PUT /api/alerts (rules and sinks; secrets masked both ways) and POST /api/alerts/test (a test alert
 * to each sink, answered per sink). A bad PUT is a 400 naming the field and changes nothing.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AlertsResponseSchema, AlertsTestBodySchema, AlertsTestResponseSchema } from '../../../shared/alerts.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../error-responses.js';
import { sendError } from '../errors.js';
import { mutating } from './mutating.js';

/** Checked field by field by the alerts service (so a sink's error names `sinks.<i>.<field>` of its own kind). */
const AlertsPutBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    rules: Type.Optional(Type.Array(Type.Unknown(), { description: 'AlertRule[] (see the GET response); omitted fields take their defaults' })),
    sinks: Type.Optional(Type.Array(Type.Unknown(), { description: 'AlertSink[]: webhook | telegram | discord | slack; a masked secret keeps the stored one' })),
  },
  { additionalProperties: false, description: 'The whole alerts config (replaces the stored one)' },
);

export const alertRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const alerts = ctx.alerts;
  if (!alerts) return;
  app.get(
    '/alerts',
    { schema: { tags: ['alerts'], summary: 'Alert rules and sinks (secrets masked) and delivery counters', response: { 200: AlertsResponseSchema, ...errorResponses() } } },
    async () => alerts.view(),
  );

  app.put(
    '/alerts',
    { ...mutating(ctx, { tags: ['alerts'], summary: 'Replace the alert rules and sinks; persisted like the config', body: AlertsPutBody, response: { 200: AlertsResponseSchema } }) },
    async (request, reply) => {
      const result = alerts.update(request.body);
      if (!result.ok) {
        const first = result.errors[0];
        return sendError(reply, 400, 'invalid_alerts', first.field, first.message, result.errors);
      }
      return alerts.view();
    },
  );

  app.post(
    '/alerts/test',
    {
      ...mutating(ctx, {
        tags: ['alerts'],
        summary: 'Send a test alert to each enabled sink (or the listed ones) now, one try each; the result per sink',
        body: Type.Optional(AlertsTestBodySchema),
        response: { 200: AlertsTestResponseSchema },
      }),
    },
    async (request, reply) => {
      const result = await alerts.test(request.body?.sinks);
      if (!result.ok) return sendError(reply, 400, 'invalid_alerts', result.errors[0].field, result.errors[0].message, result.errors);
      return { results: result.results };
    },
  );
};
