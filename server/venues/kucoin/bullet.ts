/** KuCoin Futures public sockets: the token and endpoint from `POST /api/v1/bullet-public`. */
import { isRecord, num, type ConnectionPlan, type FetchJson, type VenueEndpoints } from '../../feeds/adapter.js';

export const KUCOIN_BULLET_PATH = '/api/v1/bullet-public';

/**
 * A public connection from `POST /api/v1/bullet-public`: the URL of socket `i` (the token, and a connect id
 * of its own per socket) and the heartbeat the server asks for (`pingInterval`). A fresh token for every
 * plan (never reuse one: it expires at 24 h). Throws when the answer is not the documented one.
 */
export async function bulletConnection(
  endpoints: VenueEndpoints,
  fetchJson: FetchJson,
): Promise<{ socketUrl: (i: number) => string; heartbeat: NonNullable<ConnectionPlan['heartbeat']> }> {
  const body = await fetchJson(`${endpoints.rest}${KUCOIN_BULLET_PATH}`, { method: 'POST' });
  const data = isRecord(body) && body.code === '200000' && isRecord(body.data) ? body.data : null;
  const server = data && Array.isArray(data.instanceServers) && isRecord(data.instanceServers[0]) ? data.instanceServers[0] : null;
  if (!data || typeof data.token !== 'string' || !server || typeof server.endpoint !== 'string') throw new Error('kucoin bullet-public: unexpected body');
  const pingInterval = num(server.pingInterval);
  const connectId = `ps${Date.now().toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`;
  const endpoint = server.endpoint;
  const sep = endpoint.includes('?') ? '&' : '?';
  const token = encodeURIComponent(data.token);
  return {
    socketUrl: (i) => `${endpoint}${sep}token=${token}&connectId=${connectId}${i}`,
    heartbeat: { everyMs: pingInterval > 0 ? pingInterval : 18_000, whenIdle: false, message: () => JSON.stringify({ id: String(Date.now()), type: 'ping' }) },
  };
}

