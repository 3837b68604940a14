/**
 * What `/ws` clients send us: each message is charged to the client's budget (over it: dropped, and a
 * client that keeps going is closed with 1008), validated against the protocol (malformed: counted and
 * dropped; a client that only sends garbage is cut), and a valid `subscribe` is passed on to the client's
 * subscribe throttle.
 */
import { Value } from 'typebox/value';
import type { ClientMessage } from '../../../shared/protocol.js';
import type { Logger } from '../ports.js';
import type { ClientLimits, StreamClient } from './client.js';
import { ClientMessageSchema } from './filter.js';

/** A client whose dropped messages pass this many times its burst is closed (1008): it ignores the limit. */
const DROPPED_BURSTS_BEFORE_CLOSE = 10;
/** Malformed messages after which a client is cut: it only sends garbage. */
const MALFORMED_BEFORE_CUT = 100;

export class ClientMessages {
  malformed = 0;
  /** Client messages dropped because their client sent faster than its budget. */
  rateLimited = 0;

  constructor(
    private readonly limits: ClientLimits,
    /** Forgets a client this closed (the hub's bookkeeping). */
    private readonly closed: (client: StreamClient) => void,
    private readonly logger?: Logger,
  ) {}

  handle(client: StreamClient, data: Buffer, isBinary: boolean): void {
    if (client.closed) return;
    if (!client.messageBudget.take()) {
      this.dropOverRate(client);
      return;
    }
    let msg: unknown;
    try {
      msg = isBinary ? undefined : JSON.parse(data.toString('utf8'));
    } catch {
      msg = undefined;
    }
    if (msg === undefined || !Value.Check(ClientMessageSchema, msg)) {
      client.malformed++;
      this.malformed++;
      if (client.malformed > MALFORMED_BEFORE_CUT) client.terminate();
      return;
    }
    const m = msg as ClientMessage;
    client.alive = true;
    if (m.type === 'subscribe') client.subscribes.request(m.filter); // applied at most every subscribeIntervalMs
  }

  private dropOverRate(client: StreamClient): void {
    client.rateLimited++;
    this.rateLimited++;
    const burst = 2 * this.limits.messagesPerSec;
    if (client.rateLimited === 1) {
      this.logger?.warn({ client: client.id, remote: client.remote, limitPerSec: this.limits.messagesPerSec }, 'ws client sends too fast: excess messages dropped');
    }
    if (client.rateLimited > DROPPED_BURSTS_BEFORE_CLOSE * burst) {
      this.logger?.warn({ client: client.id, remote: client.remote, dropped: client.rateLimited }, 'ws client closed (1008): it keeps exceeding its message rate');
      client.closeWith(1008, 'message rate limit exceeded');
      this.closed(client);
    }
  }
}
