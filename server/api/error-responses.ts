/**
 * The error responses a route declares (in the OpenAPI document, checked by test/api/contract.test.ts): each
 * status the server can answer that route with, all in the one shape `ErrorResponseSchema` (shared/api.ts)
 * that errors.ts, the access guard, authentication, the rate limit and the request timeout send.
 */
import type { TSchema } from 'typebox';
import { ErrorResponseSchema } from '../../shared/api.js';

export const ERROR_STATUS_MEANING = {
  400: 'Invalid input; `field` names the offending parameter or body field and nothing changed',
  401: 'Missing or wrong API token (`Authorization: Bearer <API_TOKEN>`, only when the server has one)',
  403: 'Cross-site request refused: its Origin is neither this server nor listed in ALLOWED_ORIGINS',
  404: 'No such resource',
  408: 'The request (headers and body) did not arrive within HTTP_REQUEST_TIMEOUT_MS',
  413: 'Request body too large',
  415: 'Unsupported Content-Type (send application/json)',
  421: 'Host name not served (ALLOWED_HOSTS)',
  429: 'Too many requests, or too many failed authentications from this address; see Retry-After',
  500: 'Internal error',
  503: 'The server is shutting down, or (on an edge) the engine is away or has not sent its state yet',
} as const;
export type ErrorStatus = keyof typeof ERROR_STATUS_MEANING;

/** Any route can answer these: the Host check, the request timeout, an internal fault, shutdown. */
export const EVERY_ROUTE_ERRORS: readonly ErrorStatus[] = [408, 421, 500, 503];
/** A mutating route adds these (see `mutating()`): body validation, auth, Origin, body limits, rate limits. */
export const MUTATING_ROUTE_ERRORS: readonly ErrorStatus[] = [400, 401, 403, 413, 415, 429];

const { $id: _sharedId, ...errorBody } = ErrorResponseSchema as TSchema & { $id?: string };
void _sharedId;

/**
 * `{ 408: ErrorResponse, 421: …, 500: …, 503: …, ...statuses }` for a route's `schema.response`, each with its
 * meaning as the OpenAPI description. Copies without the shared `$id`, so each can carry its own description.
 */
export function errorResponses(...statuses: ErrorStatus[]): Record<ErrorStatus, TSchema> {
  const out = {} as Record<ErrorStatus, TSchema>;
  for (const status of [...new Set([...EVERY_ROUTE_ERRORS, ...statuses])].sort((a, b) => a - b)) {
    out[status] = { ...errorBody, description: ERROR_STATUS_MEANING[status] } as TSchema;
  }
  return out;
}
