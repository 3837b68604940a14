/**
 * One error body for every REST failure (`ErrorResponseSchema`, shared/api.ts): `{ error, field, message }`
 * where `field` names the offending input (dotted path, e.g. `thresholds.minSpreadBps`, `querystring.limit`,
 * `authorization`), or is null.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { ErrorBody } from '../../shared/api.js';
import type { ConfigError } from '../../shared/config.js';

export function sendError(reply: FastifyReply, status: number, error: string, field: string | null, message: string, errors?: ConfigError[]): FastifyReply {
  const body: ErrorBody = { error, field, message };
  if (errors && errors.length > 1) body.errors = errors;
  return reply.code(status).send(body);
}

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function pointerToField(pointer: string | undefined): string {
  return (pointer ?? '').replace(/^\//, '').split('/').filter(Boolean).join('.');
}

/** TypeBox/Ajv validation issues → field-named errors (mirrors shared/config.ts `schemaErrors`). */
export function issuesToErrors(issues: ValidationIssue[], context: string | undefined): ConfigError[] {
  const out: ConfigError[] = [];
  for (const issue of issues) {
    if (issue.keyword === 'boolean') continue;
    let field = pointerToField(issue.instancePath);
    const extra = (issue.params?.additionalProperties ?? issue.params?.additionalProperty) as string[] | string | undefined;
    const required = (issue.params?.requiredProperties ?? issue.params?.missingProperty) as string[] | string | undefined;
    if (issue.keyword === 'additionalProperties' && extra) {
      out.push({ field: [field, Array.isArray(extra) ? extra[0] : extra].filter(Boolean).join('.'), message: 'unknown field' });
      continue;
    }
    if (issue.keyword === 'required' && required) field = [field, Array.isArray(required) ? required[0] : required].filter(Boolean).join('.');
    const prefix = context && context !== 'body' ? context : '';
    out.push({ field: [prefix, field].filter(Boolean).join('.') || context || '(root)', message: issue.message ?? 'invalid' });
  }
  return out;
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { validation?: ValidationIssue[]; validationContext?: string }, request, reply) => {
    if (err.validation) {
      const errors = issuesToErrors(err.validation, err.validationContext);
      const first = errors[0] ?? { field: err.validationContext ?? '(root)', message: err.message };
      return sendError(reply, 400, 'validation', first.field, first.message, errors);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || (err.statusCode === 400 && err instanceof SyntaxError)) {
      return sendError(reply, 400, 'bad_json', 'body', err.message);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 415, 'unsupported_media_type', 'content-type', err.message);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'body_too_large', 'body', err.message);
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status === 429) return sendError(reply, 429, 'rate_limited', null, err.message);
    if (status >= 500) request.log.error({ err }, 'request failed');
    return sendError(reply, status, status >= 500 ? 'internal' : 'bad_request', null, status >= 500 ? 'internal error' : err.message);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, 'not_found', null, `no route ${request.method} ${request.url.split('?')[0]}`));
}

/**
 * Fastify's `clientErrorHandler`: a request that never became one (the request timeout, 408; oversized
 * headers, 431; unparseable HTTP, 400) is answered on the raw socket, in the same body shape as every
 * other error, and the socket closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, error, message]: [number, string, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout', 'the request did not arrive in time (HTTP_REQUEST_TIMEOUT_MS)']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large', 'request headers too large']
        : [400, 'bad_request', 'malformed HTTP request'];
  const body: ErrorBody = { error, field: null, message };
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroy(err);
}

/**
 * Requests that arrive while the server shuts down get 503 in the shared shape (Fastify's own 503 while
 * closing is a fixed body of another shape; `return503OnClosing` is off in app.ts).
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    await sendError(reply, 503, 'shutting_down', null, 'the server is shutting down');
  });
}
