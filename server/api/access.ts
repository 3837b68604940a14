/**
 * Who may talk to the server at all, checked on every request before routing:
 *
 * - Host: only the configured host names (ALLOWED_HOSTS, default the loopback names and the listen
 *   address) are served; anything else gets 421. This is the DNS-rebinding defence: a page on
 *   attacker.example whose name is re-pointed at 127.0.0.1 reaches the server with `Host: attacker.example`.
 *   Behind a trusted proxy the forwarded host (X-Forwarded-Host) is the one checked (Fastify's `request.host`).
 * - Origin: a browser always sends Origin on a non-GET request and on a WebSocket handshake. Mutating
 *   requests and `/ws` from another site (Origin ≠ the host served, and not in ALLOWED_ORIGINS) get 403,
 *   so a page on any site cannot change the config, halt trading or read the stream through the user's
 *   browser. Requests without Origin (curl, scripts) are not browsers acting for a page and pass.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors.js';

export const LOOPBACK_HOST_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

export interface AccessPolicy {
  /** Host names, lower case, IPv6 in brackets, optionally `:port` (then only that port); '*' = any host. */
  allowedHosts: readonly string[] | '*';
  /** Extra origins (`scheme://host[:port]`) allowed cross-site; '*' = any. */
  allowedOrigins: readonly string[] | '*';
}

export const DEFAULT_ACCESS_POLICY: AccessPolicy = { allowedHosts: LOOPBACK_HOST_NAMES, allowedOrigins: [] };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface HostParts {
  name: string;
  port: string | null;
}

/** `Example.org.:8080` → { name: 'example.org', port: '8080' }; `[::1]:80` → { name: '[::1]', port: '80' }; `::1` → '[::1]'. */
function splitHost(raw: string): HostParts | null {
  const value = raw.trim().toLowerCase();
  if (value === '') return null;
  let name: string;
  let port: string | null = null;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return null;
    name = value.slice(0, end + 1);
    const rest = value.slice(end + 1);
    if (rest !== '') {
      if (!/^:\d{1,5}$/.test(rest)) return null;
      port = rest.slice(1);
    }
  } else if ((value.match(/:/g) ?? []).length > 1) {
    name = `[${value}]`; // a bare IPv6 address (only in config; a Host header always brackets it)
  } else {
    const colon = value.indexOf(':');
    name = colon < 0 ? value : value.slice(0, colon);
    if (colon >= 0) {
      port = value.slice(colon + 1);
      if (!/^\d{1,5}$/.test(port)) return null;
    }
  }
  name = name.replace(/\.$/, '');
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/.test(name)) return null;
  return { name, port };
}

/** An ALLOWED_HOSTS entry in canonical form, or null when it is not a host name / address. */
export function normaliseAllowedHost(raw: string): string | null {
  const parts = splitHost(raw);
  if (!parts) return null;
  return parts.port === null ? parts.name : `${parts.name}:${parts.port}`;
}

/** An ALLOWED_ORIGINS entry in canonical form (`scheme://host[:port]`, the way browsers send Origin). */
export function normaliseOrigin(raw: string): string | null {
  if (raw === 'null') return 'null';
  try {
    const url = new URL(raw);
    if (url.origin === 'null' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return null;
    return url.origin;
  } catch {
    return null;
  }
}

export function hostAllowed(policy: AccessPolicy, host: string): boolean {
  if (policy.allowedHosts === '*') return true;
  const parts = splitHost(host);
  if (!parts) return false;
  for (const entry of policy.allowedHosts) {
    if (entry === parts.name) return true; // an entry without a port matches every port
    if (parts.port !== null && entry === `${parts.name}:${parts.port}`) return true;
  }
  return false;
}

/** Same-origin (the Origin names the host being served) or listed in ALLOWED_ORIGINS. */
export function originAllowed(policy: AccessPolicy, origin: string, host: string): boolean {
  if (policy.allowedOrigins === '*') return true;
  const canonical = normaliseOrigin(origin);
  if (canonical === null) return false;
  if (policy.allowedOrigins.includes(canonical)) return true;
  if (canonical === 'null') return false;
  const originHost = new URL(canonical).host; // default ports are dropped, as in a Host header
  const served = splitHost(host);
  const fromOrigin = splitHost(originHost);
  return served !== null && fromOrigin !== null && served.name === fromOrigin.name && served.port === fromOrigin.port;
}

/** True the first time a key is seen in a minute: a flood of refused requests logs one line per culprit, not one per request. */
function onceAMinute(now: () => number = Date.now): (key: string) => boolean {
  const lastMs = new Map<string, number>();
  return (key) => {
    const t = now();
    const last = lastMs.get(key);
    if (last !== undefined && t - last < 60_000) return false;
    if (lastMs.size >= 1000) lastMs.clear();
    lastMs.set(key, t);
    return true;
  };
}

/** The onRequest hook enforcing `policy` (registered before every route, the 404 handler and /ws). */
export function accessGuard(policy: AccessPolicy) {
  const shouldLog = onceAMinute();
  return async function checkAccess(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const host = request.host;
    if (!hostAllowed(policy, host)) {
      if (shouldLog(`host ${request.ip} ${host}`)) request.log.warn({ host, remote: request.ip }, 'request for a host name this server does not serve (ALLOWED_HOSTS)');
      await sendError(reply, 421, 'misdirected_request', 'host', `this server does not answer to host ${JSON.stringify(host)}; add it to ALLOWED_HOSTS`);
      return;
    }
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const upgrade = request.headers.upgrade;
    const isWebSocket = typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
    if (SAFE_METHODS.has(request.method) && !isWebSocket) return;
    if (!originAllowed(policy, origin, host)) {
      if (shouldLog(`origin ${request.ip} ${origin}`)) {
        request.log.warn({ origin, host, remote: request.ip, method: request.method, url: request.url }, 'cross-site request refused (ALLOWED_ORIGINS)');
      }
      await sendError(reply, 403, 'forbidden_origin', 'origin', `requests from origin ${JSON.stringify(origin)} are not allowed; add it to ALLOWED_ORIGINS`);
    }
  };
}
