/**
 * Messages between RedisPersistence (main thread) and its writer thread (writer-worker.ts).
 * Records cross as raw binary slots (ArrayBuffers moved, not copied); state crosses as JSON text.
 */
import type { PersistenceCaps } from './caps.js';

/** What the writer thread needs to start (its `workerData`). */
export interface WriterThreadOptions {
  url: string;
  prefix: string;
  caps: PersistenceCaps;
  /** Retry a failed batch this often while Redis is reachable (ms). */
  retryIntervalMs: number;
  connectTimeoutMs: number;
  retryMaxDelayMs: number;
  /** Nice value of the writer thread (Linux only; 0 leaves it alone). */
  nice: number;
  /** Written to the epoch key when it is missing (see CHECK_EPOCH). */
  epoch: string;
  /** Cluster fencing (ROLE=engine): every batch is written only while `key` still holds `token`. */
  fence?: WriteFence;
}

/** A fencing token the store must still hold for a batch to be written (server/cluster/lease.ts). */
export interface WriteFence {
  key: string;
  token: number;
}

/** One batch as handed over by the main thread; the writer encodes it, gives it an id and retries it unchanged until acknowledged. */
export interface BatchMessage {
  type: 'batch';
  seq: number;
  /** Interned strings added since the previous batch (the writer mirrors the table). */
  strings: string[];
  config: string | null;
  /** The alerts config (JSON), when changed. */
  alerts: string | null;
  portfolio: string | null;
  positions: Array<{ id: string; json: string; closedMs: number | null }>;
  fills: Array<{ id: string; json: string; fillMs: number }>;
  /** Raw slots (the first `eventCount` × 272 bytes); the buffer is handed back for reuse once encoded. */
  eventSlots: ArrayBuffer;
  eventCount: number;
  /** Raw slots (the first `marketCount` × 64 bytes); handed back likewise. */
  marketSlots: ArrayBuffer;
  marketCount: number;
  /** Wall clock at hand-over; the batch id is at least this and every record's time. */
  nowMs: number;
}

export type MainToWriter = BatchMessage | { type: 'fence'; fence: WriteFence } | { type: 'close' };

/** Counters kept by the writer thread. */
export interface WriterThreadStats {
  batches: number;
  roundTrips: number;
  commands: number;
  lastBatchCommands: number;
  lastBatchItems: number;
  failedAttempts: number;
  duplicateChunks: number;
  /** Records of batches given up after repeated command errors. */
  droppedRejected: number;
  /** Batches refused because this process's fencing token is stale (another engine holds the lease). */
  fencedBatches: number;
  maxEncodeMs: number;
  totalEncodeMs: number;
  maxExecMs: number;
  totalExecMs: number;
}

export type WriterToMain =
  /** The first connection attempt finished (either way). */
  | { type: 'opened' }
  | { type: 'status'; connected: boolean }
  /** The batch got its stream id (the closed-history read skips that entry while the batch is in flight). */
  | { type: 'built'; seq: number; id: string }
  /** `acked`: written; `failed`: kept for retry; `given-up`: dropped after repeated command errors. */
  | { type: 'settled'; seq: number; outcome: 'acked' | 'failed' | 'given-up'; stats: WriterThreadStats }
  /** The epoch key was checked (on every connect and in every batch): `found` false = it was missing (now set). */
  | { type: 'epoch'; found: boolean }
  /** The slot buffers of a batch, encoded and no longer needed here: moved back for the next batch. */
  | { type: 'buffers'; eventSlots: ArrayBuffer; marketSlots: ArrayBuffer }
  | { type: 'log'; msg: string; err: string }
  | { type: 'closed' };

/** All-zero writer-thread counters (the thread's start value, and the base totals are summed onto). */
export function emptyThreadStats(): WriterThreadStats {
  return {
    batches: 0,
    roundTrips: 0,
    commands: 0,
    lastBatchCommands: 0,
    lastBatchItems: 0,
    failedAttempts: 0,
    duplicateChunks: 0,
    droppedRejected: 0,
    fencedBatches: 0,
    maxEncodeMs: 0,
    totalEncodeMs: 0,
    maxExecMs: 0,
    totalExecMs: 0,
  };
}
