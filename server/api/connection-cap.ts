/**
 * At most `maxPerAddress` open TCP connections from one remote address; the next one is destroyed as soon
 * as it is accepted (before any byte is read), so one host cannot exhaust sockets, memory or /ws fan-out
 * slots. Connections from a trusted reverse proxy are not counted: behind a proxy every client shares its
 * address, and the cap belongs on the proxy (nginx `limit_conn`).
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './ports.js';

export interface ConnectionCapOptions {
  maxPerAddress: number;
  /** True for addresses trusted as a reverse proxy (TRUST_PROXY). */
  exempt?: (address: string) => boolean;
  logger?: Logger;
}

export interface ConnectionCap {
  readonly open: ReadonlyMap<string, number>;
  /** Connections destroyed because their address was at the cap. */
  readonly refused: number;
}

export function capConnectionsPerAddress(server: Server, opts: ConnectionCapOptions): ConnectionCap {
  const open = new Map<string, number>();
  /** Addresses already logged while over the cap (one line per episode, not per refused socket). */
  const logged = new Set<string>();
  const state = { open, refused: 0 };
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (opts.exempt?.(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= opts.maxPerAddress) {
      state.refused++;
      if (!logged.has(address)) {
        logged.add(address);
        opts.logger?.warn({ remote: address, open: count, max: opts.maxPerAddress }, 'connection refused: too many open connections from this address (MAX_CONNECTIONS_PER_IP)');
      }
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
      if (left < opts.maxPerAddress) logged.delete(address);
    });
  });
  return state;
}
