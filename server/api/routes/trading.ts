/** Positions, trades, portfolio, risk rejections and the kill switch (POST /api/trading-state). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ClosePositionBody,
  IdParams,
  LimitQuery,
  PositionsQuery,
  PositionsResponseSchema,
  RejectionsResponseSchema,
  TradesQuery,
  TradesResponseSchema,
  TradingStateBody,
  TradingStateChangeResponseSchema,
  TradingStateResponseSchema,
} from '../../../shared/api.js';
import { isPositionClosed } from '../../../shared/position.js';
import { FillSchema, PortfolioSchema, PositionSchema } from '../../../shared/schemas.js';
import type { ApiContext } from '../context.js';
import { errorResponses } from '../error-responses.js';
import { sendExport } from '../export/reply.js';
import { sendError } from '../errors.js';
import { mutating } from './mutating.js';

export const tradingRoutes: FastifyPluginAsyncTypebox<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const s = ctx.strategy;

  app.get('/positions', { schema: { tags: ['trading'], summary: 'Paper positions, newest first', querystring: PositionsQuery, response: { 200: PositionsResponseSchema, ...errorResponses(400) } } }, async (request, reply) => {
    const { state = 'all', limit = 1000, format } = request.query;
    let list = s.positions();
    if (state === 'open') list = list.filter((p) => !isPositionClosed(p));
    else if (state === 'closed') list = list.filter(isPositionClosed);
    list = list.slice().sort((a, b) => b.openedMs - a.openedMs);
    const body = { count: list.length, positions: list.slice(0, limit) };
    if (format) return sendExport(reply, { format, name: state === 'all' ? 'positions' : `positions-${state}`, rowSchema: PositionSchema, rows: body.positions, json: body });
    return body;
  });

  app.get('/positions/:id', { schema: { tags: ['trading'], summary: 'One position', params: IdParams, response: { 200: PositionSchema, ...errorResponses(400, 404) } } }, async (request, reply) => {
    const p = s.position(request.params.id);
    return p ?? sendError(reply, 404, 'not_found', 'id', `no position ${request.params.id}`);
  });

  app.post(
    '/positions/:id/close',
    {
      ...mutating(ctx, { tags: ['trading'], summary: 'Close a position now (idempotent)', params: IdParams, body: ClosePositionBody, response: { 200: PositionSchema } }, 404),
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!s.position(id)) return sendError(reply, 404, 'not_found', 'id', `no position ${id}`);
      const position = s.closePosition(id, 'manual');
      request.log.info({ position: id }, 'position closed by request');
      return position;
    },
  );

  app.get('/trades', { schema: { tags: ['trading'], summary: 'Fills, newest first', querystring: TradesQuery, response: { 200: TradesResponseSchema, ...errorResponses(400) } } }, async (request, reply) => {
    const fills = s.fills().slice().sort((a, b) => b.fillMs - a.fillMs);
    const body = { count: fills.length, fills: fills.slice(0, request.query.limit ?? 500) };
    const format = request.query.format;
    if (format) return sendExport(reply, { format, name: 'fills', rowSchema: FillSchema, rows: body.fills, json: body });
    return body;
  });

  app.get('/portfolio', { schema: { tags: ['trading'], summary: 'Capital, exposure, realised and unrealised PnL', response: { 200: PortfolioSchema, ...errorResponses() } } }, async () => s.portfolio());

  app.get('/rejections', { schema: { tags: ['trading'], summary: 'Recent risk rejections, newest first', querystring: LimitQuery, response: { 200: RejectionsResponseSchema, ...errorResponses(400) } } }, async (request) => {
    const rejections = s.rejections(request.query.limit ?? 500);
    return { count: rejections.length, rejections };
  });

  app.get('/trading-state', { schema: { tags: ['trading'], summary: 'The kill switch state', response: { 200: TradingStateResponseSchema, ...errorResponses() } } }, async () => ({ state: s.tradingState() }));

  app.post(
    '/trading-state',
    {
      ...mutating(ctx, { tags: ['trading'], summary: 'Kill switch: active | reducing (exits only) | halted', body: TradingStateBody, response: { 200: TradingStateChangeResponseSchema } }),
    },
    async (request) => {
      const { state, closeAll, reason } = request.body;
      s.setTradingState(state, { closeAll: closeAll ?? false, reason: reason ?? 'api' });
      request.log.warn({ state, closeAll: closeAll ?? false }, 'trading state changed');
      return { state: s.tradingState(), portfolio: s.portfolio() };
    },
  );
};
