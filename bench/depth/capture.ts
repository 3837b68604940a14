/**
 * Depth frames for bench/depth: connects to a running simulator's depth channels the way a depth feed does
 * (the venue's own VenueDepth.plan: URL, subscribe frames and their spacing, welcome, heartbeat) for the
 * candidate symbols, records every text frame for a few seconds, and keeps the REST snapshot bodies that
 * diff-only venues ask for (DepthSink.snapshotNeeded → VenueDepth.snapshotUrl), so a replay can answer
 * the same requests. Nothing venue-specific here: everything comes through the adapter interface.
 */
import WebSocket from 'ws';
import type { Exchange } from '../../shared/exchanges.js';
import type { DepthBook, DepthSink, VenueDepth } from '../../server/depth/types.js';
import type { ConnectionPlan, FetchJson, InstrumentMeta, MetadataTable, VenueEndpoints } from '../../server/feeds/adapter.js';

export interface CapturedDepth {
  frames: string[];
  /** REST snapshot body per venue symbol (diff-only venues), fetched after the subscription as a feed does. */
  snapshots: Map<string, unknown>;
  /** Seconds the frames were recorded over. */
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sink that only notes which symbols want a REST snapshot. */
class SnapshotRequests implements DepthSink {
  readonly wanted = new Set<string>();
  book(_meta: InstrumentMeta, _book: DepthBook): void {}
  resync(): void {}
  snapshotNeeded(meta: InstrumentMeta): void {
    this.wanted.add(meta.symbol);
  }
}

/** One socket of `plan`: subscribes (after the welcome when the venue sends one), heartbeats, records. */
function openSocket(plan: ConnectionPlan, isWelcome: (raw: string) => boolean, onFrame: (raw: string) => void): { close: () => void; opened: Promise<void> } {
  const ws = new WebSocket(plan.url, { perMessageDeflate: false });
  let subscribed = false;
  let heartbeat: NodeJS.Timeout | null = null;
  const subscribe = async () => {
    if (subscribed) return;
    subscribed = true;
    for (const m of plan.subscribeMessages) {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(m);
      if (plan.subscribeSpacingMs > 0) await sleep(plan.subscribeSpacingMs);
    }
  };
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => {
      if (plan.heartbeat) {
        const hb = plan.heartbeat;
        heartbeat = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(hb.message()), hb.everyMs);
      }
      if (!plan.awaitWelcome) void subscribe();
      resolve();
    });
    ws.once('error', reject);
  });
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const raw = data.toString();
    if (plan.awaitWelcome && !subscribed && isWelcome(raw)) void subscribe();
    onFrame(raw);
  });
  ws.on('error', () => undefined);
  return {
    opened,
    close: () => {
      if (heartbeat) clearInterval(heartbeat);
      ws.terminate();
    },
  };
}

/**
 * Records about `seconds` of the venue's depth frames for `symbols`, from the first frame on (the
 * subscriptions' snapshots included: a replay starts from them).
 */
export async function captureDepth(
  depth: VenueDepth,
  endpoints: VenueEndpoints,
  meta: MetadataTable,
  symbols: string[],
  levels: number,
  seconds: number,
  fetchJson: FetchJson,
): Promise<CapturedDepth> {
  const plans = await depth.plan(endpoints, symbols, levels, fetchJson);
  const frames: string[] = [];
  const requests = new SnapshotRequests();
  const probe = depth.createParser(meta, levels);
  const snapshots = new Map<string, unknown>();
  const sockets = [];
  let firstMs = 0;
  for (const plan of plans) {
    const s = openSocket(plan, (raw) => probe.parse(raw, requests) === 'welcome', (raw) => {
      if (frames.length === 0) firstMs = performance.now();
      frames.push(raw);
      probe.parse(raw, requests);
    });
    sockets.push(s);
    await s.opened;
    await sleep(100); // new sockets paced as a feed paces them
  }
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  // Diff-only venues: fetch each requested snapshot once, while the deltas keep being recorded.
  while (performance.now() < deadline) {
    for (const symbol of requests.wanted) {
      if (snapshots.has(symbol) || !depth.snapshotUrl) continue;
      snapshots.set(symbol, await fetchJson(depth.snapshotUrl(endpoints, symbol, levels)).catch(() => null));
    }
    await sleep(50);
  }
  for (const s of sockets) s.close();
  return { frames, snapshots, seconds: (performance.now() - (firstMs > 0 ? firstMs : t0)) / 1000 };
}
