/**
 * Quote quarantine: a parseable but implausible quote (another coin's price, a shifted decimal, a
 * crossed or absurdly wide book) is held aside instead of reaching the market store, so the detector
 * never scores it and the strategy never trades or marks on it. The store keeps the venue's last
 * ACCEPTED quote, which ages normally (stale after detector.staleAfterMs, like a quiet venue's).
 *
 * The rule, for a quote of instrument I on venue V with mid m (band b = detector.quarantineBandPct):
 * 1. bid or ask not a positive finite number → `non_positive`; bid ≥ ask → `crossed_book`;
 *    (ask − bid) / m > b → `spread_sanity`. (The first two are also counted by sanity.ts as rejects.)
 * 2. Witnesses: every OTHER venue of I whose feed is up, one vote per venue whatever its legs (a venue
 *    listing I in USDT and USDC agrees when either leg agrees, disagrees when its fresh legs all
 *    disagree; the other leg of V's own venue is no witness: a venue does not confirm itself). A venue whose quotes have been held for at
 *    least detector.quarantineConfirmMs, consistently (each held mid within b of the one before),
 *    confirms with its held quote when that agrees: when every venue moves together, the venues that
 *    moved first confirm the later ones once the move has lasted that long. A held quote never vetoes
 *    and a fleeting one never confirms (one-off wrong prices on several venues must not add up to a
 *    majority). Otherwise the venue's fresh accepted quote counts, agreeing or not.
 *    A witness agrees when |m / witnessMid − 1| ≤ b.
 * 3. Consensus is a strict majority of the venues quoting I, V included: accepted when
 *    1 + agree > disagree; `off_consensus` when 1 + agree < disagree. (Robust where a median of two
 *    witnesses is not: one wrong venue cannot drag the reference to the middle.)
 * 4. A tie (e.g. two venues that disagree) has no consensus: V's own last accepted mid decides (a jump
 *    beyond b from it → `price_jump`); a tie with no accepted mid yet → `off_consensus`. Two venues
 *    that disagree therefore never both count, so nothing opens between them.
 * 5. V alone (no witness): a jump beyond b from its last accepted mid, if that mid is not older than
 *    staleAfterMs, → `price_jump`; otherwise accepted (a lone venue forms no pair; after staleAfterMs
 *    without an accepted quote a persistent new level is taken as real).
 * Release: a held quote is reviewed again whenever another venue of I is accepted; when it passes (it
 * converged, or the others moved to it) it is applied to the store as received, with its own receive
 * time. A newer quote from V replaces the held one. A feed drop forgets the venue's held quotes and
 * its last accepted mids (the first quote after a reconnect is judged by the other venues alone).
 * Review: a venue symbol held without a break since an `off_consensus` quote, for at least
 * reviewAfterMs, is flagged for review (stats().review): the same ticker most likely names another
 * token there. It never pairs while held; the flag clears when one of its quotes is accepted.
 */
import { EXCHANGES } from '../../shared/exchanges.js';
import { QUARANTINE_REASONS, type QuarantineReason, type QuarantineStats, type ReviewFlag } from '../../shared/protocol.js';
import { EXCHANGE_COUNT, LEG_COUNT, SETTLE_COUNT, VENUE_LEG_MASKS, type InstrumentMap } from './instruments.js';
import type { MarketStore } from './market-store.js';

export { QUARANTINE_REASONS, type QuarantineReason, type QuarantineStats } from '../../shared/protocol.js';

export const Q_NONE = -1;
export const Q_NON_POSITIVE = 0;
export const Q_CROSSED = 1;
export const Q_SPREAD = 2;
export const Q_OFF_CONSENSUS = 3;
export const Q_JUMP = 4;
const R = QUARANTINE_REASONS.length;
const E = EXCHANGE_COUNT;
const S = SETTLE_COUNT;
const L = LEG_COUNT;

/** Input slots of `review` (doubles travel through a typed array: a boxed argument would allocate). */
export const IN_BID = 0;
export const IN_ASK = 1;
export const IN_NOW_MS = 2;

export class QuoteQuarantine {
  /** Scratch inputs of `review`: [IN_BID, IN_ASK, IN_NOW_MS]. */
  readonly input = new Float64Array(3);
  /** Quarantine band as a fraction (0.05 = 5 %). */
  band = 0.05;
  /** How long a venue's held quotes must persist, consistently, before they confirm other venues (ms). */
  confirmMs = 1000;
  /** How long a symbol must stay held since an off-consensus quote before it is flagged for review (ms). */
  reviewAfterMs = 30_000;
  /** Per id: the reason index + 1 of the quarantine in force, 0 when its latest quote was accepted. */
  private state = new Uint8Array(0);
  /** The held quote per id (heldBid 0 = none: a non-positive or crossed quote is never held). */
  private heldBid = new Float64Array(0);
  private heldAsk = new Float64Array(0);
  private heldBidSize = new Float64Array(0);
  private heldAskSize = new Float64Array(0);
  private heldExchangeTsMs = new Float64Array(0);
  private heldReceivedMs = new Float64Array(0);
  private heldRecvUs = new Float64Array(0);
  /** Since when the id's held quotes have been consistent (each within the band of the previous one). */
  private heldSinceMs = new Float64Array(0);
  private lastAcceptedMid = new Float64Array(0);
  private lastAcceptedMs = new Float64Array(0);
  /** Since when the id has been held without a break, from an off_consensus quote (0 = not). */
  private offSinceMs = new Float64Array(0);
  /** Ids in quarantine per instrument index, so an accepted quote looks for releases only when needed. */
  private heldPerInstrument = new Int32Array(0);
  private readonly counts = new Float64Array(E * R);
  private idCap = 0;

  constructor(
    private readonly instruments: InstrumentMap,
    private readonly store: MarketStore,
  ) {
    this.grow();
    instruments.onCreate(() => this.grow());
  }

  isHeld(id: number): boolean {
    return this.state[id] !== 0;
  }

  reasonOf(id: number): QuarantineReason | null {
    const s = this.state[id];
    return s === 0 ? null : QUARANTINE_REASONS[s - 1];
  }

  heldIn(instrumentIndex: number): number {
    return this.heldPerInstrument[instrumentIndex];
  }

  /**
   * Q_NONE when the quote in `input` (positive, not crossed: sanity.ts checked) may be used for `id`,
   * else the Q_* reason it is quarantined for. Pure: records nothing.
   */
  review(id: number): number {
    const input = this.input;
    const bid = input[IN_BID];
    const ask = input[IN_ASK];
    const nowMs = input[IN_NOW_MS];
    const band = this.band;
    const mid = (bid + ask) / 2;
    if ((ask - bid) / mid > band) return Q_SPREAD;
    const store = this.store;
    const inst = this.instruments.instrumentIndexOf(id);
    const ex = store.exchange[id];
    const staleMs = store.staleAfterMs;
    let agree = 0;
    let disagree = 0;
    const present = this.instruments.legMask(inst);
    for (let other = 0; other < E; other++) {
      if (other === ex || store.exchangeDown[other] !== 0 || (present & VENUE_LEG_MASKS[other]) === 0) continue;
      // One vote per venue: +1 when one of its legs agrees, -1 when it has fresh legs and none agrees.
      let vote = 0;
      for (let s = 0; s < S; s++) {
        const oid = this.instruments.legId(inst, other * S + s);
        if (oid < 0) continue;
        if (this.state[oid] !== 0 && this.heldBid[oid] > 0 && nowMs - this.heldReceivedMs[oid] <= staleMs && nowMs - this.heldSinceMs[oid] >= this.confirmMs) {
          // A persistent held quote may confirm a move (it agrees) but never vetoes one.
          const held = (this.heldBid[oid] + this.heldAsk[oid]) / 2;
          if (Math.abs(mid - held) <= band * held) {
            vote = 1;
            break;
          }
        }
        if (!store.fresh(oid, nowMs)) continue;
        const witness = (store.bid[oid] + store.ask[oid]) / 2;
        if (Math.abs(mid - witness) <= band * witness) {
          vote = 1;
          break;
        }
        vote = -1;
      }
      if (vote > 0) agree++;
      else if (vote < 0) disagree++;
    }
    if (1 + agree > disagree && agree > 0) return Q_NONE;
    if (1 + agree < disagree) return Q_OFF_CONSENSUS;
    const ref = this.lastAcceptedMid[id];
    if (disagree > 0) {
      // A tie: no consensus either way.
      if (ref > 0) return Math.abs(mid - ref) <= band * ref ? Q_NONE : Q_JUMP;
      return Q_OFF_CONSENSUS;
    }
    // Alone.
    if (ref > 0 && nowMs - this.lastAcceptedMs[id] <= staleMs && Math.abs(mid - ref) > band * ref) return Q_JUMP;
    return Q_NONE;
  }

  /** Records that `id`'s latest quote is quarantined for `reason`; `bid` 0 holds nothing (not a witness, never released). */
  hold(id: number, reason: number, bid: number, ask: number, bidSize: number, askSize: number, exchangeTsMs: number, receivedMs: number, recvUs: number): void {
    const previousMid = this.state[id] !== 0 && this.heldBid[id] > 0 ? (this.heldBid[id] + this.heldAsk[id]) / 2 : 0;
    const mid = (bid + ask) / 2;
    if (!(bid > 0) || !(previousMid > 0) || Math.abs(mid - previousMid) > this.band * previousMid) this.heldSinceMs[id] = receivedMs;
    if (this.state[id] === 0) this.heldPerInstrument[this.instruments.instrumentIndexOf(id)]++;
    if (reason === Q_OFF_CONSENSUS && this.offSinceMs[id] === 0) this.offSinceMs[id] = receivedMs;
    this.state[id] = reason + 1;
    this.heldBid[id] = bid;
    this.heldAsk[id] = ask;
    this.heldBidSize[id] = bidSize;
    this.heldAskSize[id] = askSize;
    this.heldExchangeTsMs[id] = exchangeTsMs;
    this.heldReceivedMs[id] = receivedMs;
    this.heldRecvUs[id] = recvUs;
    this.counts[this.store.exchange[id] * R + reason]++;
  }

  /** `id`'s quote with this mid was accepted (stored) at `nowMs`: its quarantine, if any, ends. */
  accept(id: number, mid: number, nowMs: number): void {
    this.clear(id);
    this.lastAcceptedMid[id] = mid;
    this.lastAcceptedMs[id] = nowMs;
  }

  /** Ends `id`'s quarantine, dropping its held quote. */
  private clear(id: number): void {
    if (this.state[id] === 0) return;
    this.state[id] = 0;
    this.heldBid[id] = 0;
    this.offSinceMs[id] = 0;
    this.heldPerInstrument[this.instruments.instrumentIndexOf(id)]--;
  }

  /**
   * Forgets everything about `id`'s quotes (its feed dropped or it left the config): the held quote and
   * the last accepted mid, which is no reference for the first quote after a reconnect.
   */
  forget(id: number): void {
    this.clear(id);
    this.lastAcceptedMid[id] = 0;
  }

  /** `forget` for every id on exchange index `ex`. */
  forgetExchange(ex: number): void {
    const n = this.instruments.size;
    for (let id = 0; id < n; id++) if (this.store.exchange[id] === ex) this.forget(id);
  }

  /**
   * A held quote of instrument `inst` that now passes review (fresh, and the consensus moved to it),
   * or -1. The caller applies it with `applyHeld` and asks again until -1.
   */
  nextReleasable(inst: number, nowMs: number): number {
    for (let leg = 0; leg < L; leg++) {
      const id = this.instruments.legId(inst, leg);
      if (id < 0 || this.state[id] === 0 || !(this.heldBid[id] > 0)) continue;
      if (nowMs - this.heldReceivedMs[id] > this.store.staleAfterMs) continue;
      this.input[IN_BID] = this.heldBid[id];
      this.input[IN_ASK] = this.heldAsk[id];
      this.input[IN_NOW_MS] = nowMs;
      if (this.review(id) === Q_NONE) return id;
    }
    return -1;
  }

  /** Moves `id`'s held quote into the store (as received) and ends its quarantine. Returns its recvUs. */
  applyHeld(id: number): number {
    const bid = this.heldBid[id];
    const ask = this.heldAsk[id];
    const receivedMs = this.heldReceivedMs[id];
    const recvUs = this.heldRecvUs[id];
    this.store.setQuote(id, bid, ask, this.heldBidSize[id], this.heldAskSize[id], this.heldExchangeTsMs[id], receivedMs, recvUs);
    this.accept(id, (bid + ask) / 2, receivedMs);
    return recvUs;
  }

  /** The symbols flagged for review at `nowMs` (see the header), longest-held first. Off the hot path. */
  reviewFlags(nowMs: number): ReviewFlag[] {
    const out: ReviewFlag[] = [];
    const m = this.instruments;
    const store = this.store;
    const n = m.size;
    for (let id = 0; id < n; id++) {
      const since = this.offSinceMs[id];
      if (this.state[id] === 0 || since === 0 || nowMs - since < this.reviewAfterMs || !(this.heldBid[id] > 0)) continue;
      const inst = m.instrumentIndexOf(id);
      const ex = store.exchange[id];
      const mids: number[] = [];
      for (let leg = 0; leg < L; leg++) {
        const oid = m.legId(inst, leg);
        if (oid < 0 || ((leg / S) | 0) === ex || store.exchangeDown[store.exchange[oid]] !== 0 || !store.fresh(oid, nowMs)) continue;
        mids.push((store.bid[oid] + store.ask[oid]) / 2);
      }
      mids.sort((a, b) => a - b);
      const consensus = mids.length === 0 ? null : mids.length % 2 === 1 ? mids[(mids.length - 1) / 2] : (mids[mids.length / 2 - 1] + mids[mids.length / 2]) / 2;
      const price = (this.heldBid[id] + this.heldAsk[id]) / 2;
      out.push({
        instrument: m.instrumentOf(id),
        exchange: m.exchangeOf(id),
        symbol: m.symbolOf(id),
        settle: m.settleOf(id),
        price,
        consensusPrice: consensus,
        deviationPct: consensus === null ? null : (price / consensus - 1) * 100,
        sinceMs: since,
        lastQuoteMs: this.heldReceivedMs[id],
      });
    }
    return out.sort((a, b) => a.sinceMs - b.sinceMs);
  }

  /** Counters, the symbols held now, and the review flags as of `nowMs`. */
  stats(nowMs: number): QuarantineStats {
    const byExchange: QuarantineStats['byExchange'] = {};
    const active: QuarantineStats['active'] = {};
    let total = 0;
    for (let ex = 0; ex < E; ex++) {
      for (let r = 0; r < R; r++) {
        const n = this.counts[ex * R + r];
        if (n === 0) continue;
        total += n;
        (byExchange[EXCHANGES[ex]] ??= {})[QUARANTINE_REASONS[r]] = n;
      }
    }
    const ids = this.instruments.size;
    for (let id = 0; id < ids; id++) {
      if (this.state[id] === 0) continue;
      const exchange = EXCHANGES[this.store.exchange[id]];
      active[exchange] = (active[exchange] ?? 0) + 1;
    }
    return { total, byExchange, active, review: this.reviewFlags(nowMs) };
  }

  private grow(): void {
    const ids = this.instruments.size;
    const instruments = this.instruments.instrumentCount;
    if (ids > this.idCap) {
      let cap = Math.max(256, this.idCap);
      while (cap < ids) cap *= 2;
      const f64 = (a: Float64Array) => {
        const b = new Float64Array(cap);
        b.set(a);
        return b;
      };
      const s = new Uint8Array(cap);
      s.set(this.state);
      this.state = s;
      this.heldBid = f64(this.heldBid);
      this.heldAsk = f64(this.heldAsk);
      this.heldBidSize = f64(this.heldBidSize);
      this.heldAskSize = f64(this.heldAskSize);
      this.heldExchangeTsMs = f64(this.heldExchangeTsMs);
      this.heldReceivedMs = f64(this.heldReceivedMs);
      this.heldRecvUs = f64(this.heldRecvUs);
      this.heldSinceMs = f64(this.heldSinceMs);
      this.lastAcceptedMid = f64(this.lastAcceptedMid);
      this.lastAcceptedMs = f64(this.lastAcceptedMs);
      this.offSinceMs = f64(this.offSinceMs);
      this.idCap = cap;
    }
    if (instruments > this.heldPerInstrument.length) {
      let cap = Math.max(64, this.heldPerInstrument.length);
      while (cap < instruments) cap *= 2;
      const b = new Int32Array(cap);
      b.set(this.heldPerInstrument);
      this.heldPerInstrument = b;
    }
  }
}
