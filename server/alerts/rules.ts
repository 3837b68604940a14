/**
 * Rules as data: which transitions a rule alerts on (`ruleMatches`), and the deduper that makes it one alert
 * per transition (`AlertDeduper`).
 *
 * Semantics (per rule, per subject — an opportunity id, a position id, a venue, or the trading state):
 * - Dedup: the deduper remembers the last state it alerted for (rule, subject). A transition into the state
 *   already alerted is a repeat and is dropped, so nothing is sent while a state persists.
 * - Pairs: when a rule alerts on both, a "closed"/"up" alert is sent only after its "opened"/"down" was
 *   sent by the same rule (an opportunity that never matched the rule does not alert when it closes).
 * - Cooldown: the same transition of the same subject is not alerted again by the rule within
 *   `cooldownMs` of the previous one; a transition held back leaves the remembered state unchanged, so
 *   its counterpart is held back with it (a flapping opportunity gives one open and one close alert).
 */
import type { AlertEventKind, AlertRule } from '../../shared/alerts.js';
import type { Exchange } from '../../shared/exchanges.js';

/** One transition, already reduced to what rules look at and what a message says. */
export interface AlertEvent {
  kind: AlertEventKind;
  tsMs: number;
  /** What the transition is about: an opportunity id, a position id, a venue, `trading`. */
  subject: string;
  instrument: string | null;
  /** Venues involved (both legs; the feed's venue). */
  venues: Exchange[];
  aprPct: number | null;
  profitBps: number | null;
  crossQuote: boolean;
  /** One human line. */
  text: string;
  /** Machine-readable details for the JSON webhook. */
  details: Record<string, unknown>;
}

const OPPORTUNITY_KINDS: ReadonlySet<AlertEventKind> = new Set(['opportunity_opened', 'opportunity_closed']);

/** Filters of a rule (instrument, venues, cross-quote, thresholds) against an event. */
export function ruleMatches(rule: AlertRule, e: AlertEvent): boolean {
  if (!rule.enabled || !rule.events.includes(e.kind)) return false;
  if (rule.instruments.length > 0 && (e.instrument === null || !rule.instruments.includes(e.instrument))) return false;
  if (rule.venues.length > 0 && e.venues.length > 0 && !e.venues.every((v) => rule.venues.includes(v))) return false;
  if (OPPORTUNITY_KINDS.has(e.kind)) {
    if (e.crossQuote && !rule.allowCrossQuote) return false;
    // Thresholds apply to the opening; a close is paired with its alerted opening by the deduper.
    if (e.kind === 'opportunity_opened') {
      if (rule.minAprPct !== null && !(e.aprPct !== null && e.aprPct >= rule.minAprPct)) return false;
      if (rule.minProfitBps !== null && !(e.profitBps !== null && e.profitBps >= rule.minProfitBps)) return false;
    }
  }
  return true;
}

/** Each kind's "state" for dedup, and the state its alert needs before it (pairs). */
const STATE: Record<AlertEventKind, { family: string; state: string; after?: string }> = {
  opportunity_opened: { family: 'opportunity', state: 'open' },
  opportunity_closed: { family: 'opportunity', state: 'closed', after: 'open' },
  position_opened: { family: 'position', state: 'open' },
  position_broken: { family: 'position', state: 'broken' },
  position_closed: { family: 'position', state: 'closed' },
  feed_down: { family: 'feed', state: 'down' },
  feed_up: { family: 'feed', state: 'up', after: 'down' },
  trading_state: { family: 'trading', state: '' },
};

export type DedupDecision = 'fire' | 'duplicate' | 'cooldown' | 'unpaired';

export class AlertDeduper {
  /** `${rule}\u0000${family}\u0000${subject}` → last alerted state. */
  private readonly last = new Map<string, string>();
  /** `${rule}\u0000${kind}\u0000${subject}` → when it was last alerted. */
  private readonly lastFiredMs = new Map<string, number>();

  /** Decides one matched (rule, event); records it when it fires. */
  decide(rule: AlertRule, e: AlertEvent): DedupDecision {
    const s = STATE[e.kind];
    // The trading state's own value is its state (active → reducing → active are two transitions).
    const state = e.kind === 'trading_state' ? String(e.details.state ?? '') : s.state;
    const key = `${rule.id}\u0000${s.family}\u0000${e.subject}`;
    const before = this.last.get(key);
    if (before === state) return 'duplicate';
    // A close/up whose open/down this rule alerts on but never alerted: nothing to pair with.
    const counterpart = e.kind === 'opportunity_closed' ? 'opportunity_opened' : e.kind === 'feed_up' ? 'feed_down' : null;
    if (s.after !== undefined && counterpart !== null && rule.events.includes(counterpart) && before !== s.after) return 'unpaired';
    const cdKey = `${rule.id}\u0000${e.kind}\u0000${e.subject}`;
    const prev = this.lastFiredMs.get(cdKey);
    if (prev !== undefined && rule.cooldownMs > 0 && e.tsMs - prev < rule.cooldownMs) return 'cooldown';
    this.lastFiredMs.set(cdKey, e.tsMs);
    // Closed subjects are forgotten (bounded memory); a reopening starts afresh (the cooldown still applies).
    if (e.kind === 'opportunity_closed' || e.kind === 'position_closed') this.last.delete(key);
    else this.last.set(key, state);
    this.prune();
    return 'fire';
  }

  /** Drops remembered state of rules that no longer exist. */
  forgetRulesExcept(ruleIds: ReadonlySet<string>): void {
    for (const map of [this.last, this.lastFiredMs] as Array<Map<string, unknown>>) {
      for (const k of map.keys()) if (!ruleIds.has(k.slice(0, k.indexOf('\u0000')))) map.delete(k);
    }
  }

  private prune(): void {
    // Cooldown stamps are the only thing that grows with closed subjects: keep the newest 20k.
    if (this.lastFiredMs.size <= 20_000) return;
    let n = this.lastFiredMs.size - 10_000;
    for (const k of this.lastFiredMs.keys()) {
      if (n-- <= 0) break;
      this.lastFiredMs.delete(k);
    }
  }
}
