/** TypeBox schemas of the REST API's inputs (and the error body), also the source of the OpenAPI document. */
import Type, { type TSchema } from 'typebox';
import { ConfigSchema } from '../../shared/config.js';
import { EXCHANGES } from '../../shared/exchanges.js';

/** Every property optional, recursively through nested objects; unknown fields still rejected. */
function deepPartial(schema: TSchema): TSchema {
  const s = schema as TSchema & { type?: string; properties?: Record<string, TSchema>; description?: string };
  if (s.type !== 'object' || !s.properties) return schema;
  const props: Record<string, TSchema> = {};
  for (const [k, v] of Object.entries(s.properties)) props[k] = Type.Optional(deepPartial(v));
  return Type.Object(props, { additionalProperties: false, ...(s.description ? { description: s.description } : {}) });
}

export const ConfigPatchSchema = deepPartial(ConfigSchema);

export const ErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'Machine-readable error code' }),
    field: Type.Union([Type.String(), Type.Null()], { description: 'The offending input, e.g. thresholds.minSpreadBps' }),
    message: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { $id: 'ErrorBody' },
);

export const ExchangeParam = Type.Union(EXCHANGES.map((e) => Type.Literal(e)));
export const Limit = (max: number, dflt: number) => Type.Integer({ minimum: 1, maximum: max, default: dflt });

export const OpportunitiesQuery = Type.Object(
  {
    sort: Type.Optional(Type.Union([Type.Literal('profit'), Type.Literal('spread'), Type.Literal('funding'), Type.Literal('confidence'), Type.Literal('age')], { default: 'profit' })),
    order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc' })),
    instrument: Type.Optional(Type.String({ pattern: '^[A-Z0-9]+-[A-Z0-9]+-PERP$' })),
    exchange: Type.Optional(ExchangeParam),
    minProfitBps: Type.Optional(Type.Number({ minimum: -10_000, maximum: 10_000 })),
    limit: Type.Optional(Limit(5000, 500)),
  },
  { additionalProperties: false },
);

export const HistoryQuery = Type.Object({ limit: Type.Optional(Limit(1000, 100)) }, { additionalProperties: false });

export const PositionsQuery = Type.Object(
  {
    state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Literal('all')], { default: 'all' })),
    limit: Type.Optional(Limit(10_000, 1000)),
  },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const LimitQuery = Type.Object({ limit: Type.Optional(Limit(10_000, 500)) }, { additionalProperties: false });

export const TradingStateBody = Type.Object(
  {
    state: Type.Union([Type.Literal('active'), Type.Literal('reducing'), Type.Literal('halted')], { description: 'active: trade; reducing: exits only; halted: nothing' }),
    closeAll: Type.Optional(Type.Boolean({ description: 'Also close every open position now' })),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const ClosePositionBody = Type.Union([Type.Object({}, { additionalProperties: false }), Type.Null()]);
