import { describe, expect, it } from 'vitest';
import type { Position } from '../../shared/position.js';
import { HOUR, Harness, STD_QTY, T0, VenueRejectingExecutor, paperFor, testConfig } from './harness.js';

const Q = STD_QTY;

/** Entry (see Harness.openStandard): long okx Q @ 100.00, short bybit Q @ 100.50 (Q = 1000 / 100.50), entry fees 0.997512. */
function opened(patch: unknown = {}): Harness {
  const h = new Harness({ config: testConfig(patch) });
  h.openStandard();
  expect(h.only().state).toBe('open');
  return h;
}

function exitFills(h: Harness): Array<[string, string, number]> {
  return h.runner.fills().filter((f) => f.purpose !== 'entry').map((f) => [f.side, f.exchange, f.price]);
}

function states(p: Position): string[] {
  return p.transitions.map((t) => `${t.from}->${t.to}`);
}

describe('exits', () => {
  it('spread converged: close-side spread at or below exitSpreadBps', () => {
    const h = opened({ exits: { exitSpreadBps: 0 } });
    h.quote('okx', 100.1, 100.2);
    h.quote('bybit', 100.0, 100.1); // close side: (100.10 − 100.10)/100.10 = 0 bps ≤ 0
    h.step();
    const p = h.only();
    expect(p.state).toBe('closed');
    expect(p.exitReason).toBe('spread_converged');
    expect(states(p)).toEqual(['null->opening', 'opening->open', 'open->closing', 'closing->closed']);
    expect(exitFills(h)).toEqual([
      ['sell', 'okx', 100.1],
      ['buy', 'bybit', 100.1],
    ]);
    // price: long (100.10 − 100)·Q = +0.995025, short (100.50 − 100.10)·Q = +3.980100 → +4.975124
    // fees: entry Q·200.5·5 bps = 0.997512 + exit Q·200.2·5 bps = 0.996020 → 1.993532; realised 2.981592
    expect(p.feesUsd).toBeCloseTo(1.9935323383, 9);
    expect(p.realisedPnlUsd).toBeCloseTo(2.9815920398, 9);
    expect(p.unrealisedPnlUsd).toBe(0);
    expect(p.closedMs).toBe(T0);
    const pf = h.runner.portfolio();
    expect(pf.realisedPnlUsd).toBeCloseTo(2.9815920398, 9);
    expect(pf.equityUsd).toBeCloseTo(100_002.9815920398, 6);
    expect(pf.reservedMarginUsd).toBe(0);
    expect(pf.openPositions).toBe(0);
    expect(h.seen.filter((e) => e.kind === 'position_closed')).toHaveLength(1);
  });

  it('take profit on net PnL', () => {
    const h = opened({ exits: { takeProfitUsd: 2 } });
    h.quote('okx', 100.3, 100.4); // long +0.3·Q, short −0.1·Q, fees −0.997512 → 0.992537 < 2
    h.step();
    expect(h.only().state).toBe('open');
    h.quote('okx', 100.41, 100.5); // long +0.41·Q → 2.087065 ≥ 2
    h.step();
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'take_profit' });
    expect(exitFills(h)[0]).toEqual(['sell', 'okx', 100.41]);
  });

  it('stop loss on net PnL', () => {
    const h = opened({ exits: { stopLossUsd: 4.9 } });
    h.quote('okx', 99.7, 99.8); // long −0.3·Q, short −0.1·Q, fees −0.997512 → −4.977612 ≤ −4.9
    h.step();
    const p = h.only();
    expect(p).toMatchObject({ state: 'closed', exitReason: 'stop_loss' });
    expect(p.transitions[2].reason).toBe('stop_loss: net PnL -4.98 <= -4.9');
  });

  it('max holding time', () => {
    const h = opened({ exits: { maxHoldingMs: 60_000 } });
    h.advance(59_999);
    expect(h.only().state).toBe('open');
    h.advance(1);
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'max_holding_time', closedMs: T0 + 60_000 });
  });

  it('funding flipped against the position', () => {
    const h = new Harness({ config: testConfig({ exits: { exitOnFundingFlip: true } }) });
    const next = T0 + 4 * HOUR;
    h.funding('okx', 0.0001, 8 * HOUR, next);
    h.funding('bybit', 0.0003, 8 * HOUR, next); // delta 0.0002 per 8 h: the pair earns
    h.openStandard();
    expect(h.only().state).toBe('open');
    expect(h.only().entryFundingDelta8h).toBeCloseTo(0.0002, 12);
    h.funding('okx', 0.0002, 8 * HOUR, next); // delta 0.0001: still earning
    h.step();
    expect(h.only().state).toBe('open');
    h.funding('okx', 0.0005, 8 * HOUR, next); // delta −0.0002: against us
    h.step();
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'funding_flipped' });
  });

  it('liquidation risk from the minimum distance', () => {
    // A 15 % move on one venue alone is what the quote quarantine holds: widen the band for this test.
    const h = opened({ exits: { minLiquidationDistancePct: 5 }, detector: { quarantineBandPct: 50 } });
    // long liq 100·(1 − 0.2 + 0.005) = 80.5; bid 85: (85 − 80.5)/85 = 5.29 % → hold
    h.quote('okx', 85, 85.1);
    h.step();
    expect(h.only().state).toBe('open');
    expect(h.only().long.liquidationDistancePct).toBeCloseTo(5.294118, 5);
    // bid 84: (84 − 80.5)/84 = 4.17 % < 5 → exit
    h.quote('okx', 84, 84.1);
    h.step();
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'liquidation_risk' });
    expect(exitFills(h)[0]).toEqual(['sell', 'okx', 84]);
  });

  it('manual close is idempotent', () => {
    const h = opened();
    const first = h.runner.closePosition(h.only().id);
    expect(first).toMatchObject({ state: 'closed', exitReason: 'manual' });
    const fills = h.runner.fills().length;
    const again = h.runner.closePosition(first.id, 'stop_loss');
    expect(again).toMatchObject({ state: 'closed', exitReason: 'manual' });
    expect(h.runner.fills()).toHaveLength(fills); // 2 entry + 2 exit, nothing more
    expect(fills).toBe(4);
    expect(() => h.runner.closePosition('pos-404')).toThrow('no position pos-404');
  });

  it('feed down → close: waits in closing, records the retry once, finishes when the feed is back', () => {
    const h = opened({ exits: { onFeedDown: 'close' } });
    h.engine.setExchangeDown('bybit', true);
    h.advance(100);
    let p = h.only();
    expect(p).toMatchObject({ state: 'closing', exitReason: 'feed_down' });
    expect(p.transitions[2].reason).toBe('feed_down: feed down on short leg (bybit)');
    // the long leg (okx, up) is closed at once; the short leg waits for its feed
    expect(exitFills(h)).toEqual([['sell', 'okx', 99.9]]);
    h.advance(100);
    h.advance(100);
    // a second close request changes nothing
    h.runner.closePosition(p.id);
    p = h.only();
    const retries = p.transitions.filter((t) => t.from === 'closing' && t.to === 'closing');
    expect(retries).toHaveLength(1);
    expect(retries[0].reason).toBe('exit retry: short leg exit waiting: bybit quote is stale or its feed is down');
    h.engine.setExchangeDown('bybit', false);
    h.advance(100);
    p = h.only();
    expect(p.state).toBe('closed');
    expect(exitFills(h)).toEqual([
      ['sell', 'okx', 99.9],
      ['buy', 'bybit', 100.6],
    ]);
  });

  it('feed down → hold keeps the position open', () => {
    const h = opened({ exits: { onFeedDown: 'hold', stopLossUsd: 3.5 } }); // net at entry −3.0025
    h.engine.setExchangeDown('bybit', true);
    h.quote('okx', 99.7, 99.8); // long −3.0 → net −5.0025 would stop out, but a leg's feed is down: hold
    h.advance(100);
    h.advance(10_000);
    expect(h.only().state).toBe('open');
    h.engine.setExchangeDown('bybit', false);
    h.advance(100);
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'stop_loss' });
  });

  it('halted blocks automatic exits but not a manual close', () => {
    const h = opened({ exits: { maxHoldingMs: 1000 } });
    h.runner.setTradingState('halted');
    h.advance(2000);
    expect(h.only().state).toBe('open');
    h.runner.closePosition(h.only().id);
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'manual' });
  });

  it('reducing allows automatic exits', () => {
    const h = opened({ exits: { maxHoldingMs: 1000 } });
    h.runner.setTradingState('reducing');
    h.advance(1000);
    expect(h.only()).toMatchObject({ state: 'closed', exitReason: 'max_holding_time' });
  });
});

describe('one leg fails', () => {
  it('unwinds the filled leg at once and ends closed with leg_failed', () => {
    const h = new Harness({ executor: (x) => new VenueRejectingExecutor(paperFor(x), (o) => o.exchange === 'bybit') });
    h.openStandard();
    const p = h.only();
    expect(p).toMatchObject({ state: 'closed', exitReason: 'leg_failed' });
    expect(states(p)).toEqual(['null->opening', 'opening->closing', 'closing->closed']);
    expect(p.transitions[1].reason).toMatch(/^leg_failed: short leg entry venue_rejected \(bybit refuses orders\)/);
    expect(h.runner.fills().map((f) => [f.purpose, f.side, f.exchange, f.price])).toEqual([
      ['entry', 'buy', 'okx', 100],
      ['unwind', 'sell', 'okx', 99.9],
    ]);
    // (99.90 − 100)·Q = −0.995025; fees Q·(100 + 99.9)·5 bps = 0.994527 → realised −1.989552
    expect(p.realisedPnlUsd).toBeCloseTo(-1.9895522388, 9);
    expect(h.runner.rejections()[0]).toMatchObject({ reason: 'entry_failed' });
    expect(h.runner.portfolio().openPositions).toBe(0);
  });

  it('goes broken when the unwind fails too, and retries until flat', () => {
    let refuseUnwind = true;
    const h = new Harness({
      executor: (x) => new VenueRejectingExecutor(paperFor(x), (o) => o.exchange === 'bybit' || (o.purpose === 'unwind' && refuseUnwind)),
    });
    h.openStandard();
    expect(h.only().state).toBe('broken');
    expect(h.runner.portfolio().openPositions).toBe(1); // the naked long still counts
    h.advance(100);
    expect(h.only().state).toBe('broken');
    refuseUnwind = false;
    h.advance(100);
    const p = h.only();
    // the failed retry while broken is noted once (broken->broken)
    expect(states(p)).toEqual(['null->opening', 'opening->closing', 'closing->broken', 'broken->broken', 'broken->closed']);
    expect(p.exitReason).toBe('leg_failed');
    expect(h.runner.fills().map((f) => f.id)).toEqual(['pos-1:entry:long', 'pos-1:unwind:long:3']);
  });
});

describe('a throwing executor', () => {
  it('is treated as a rejected order: the filled leg is unwound, nothing crashes', () => {
    const h = new Harness({
      executor: (x) => {
        const paper = paperFor(x);
        return {
          kind: 'live',
          submit: (o) => {
            if (o.exchange === 'bybit') throw new Error('socket closed');
            paper.submit(o);
          },
          poll: (nowMs) => paper.poll(nowMs),
        };
      },
    });
    h.openStandard();
    const p = h.only();
    expect(p).toMatchObject({ state: 'closed', exitReason: 'leg_failed' });
    expect(p.transitions[1].reason).toMatch(/short leg entry venue_rejected \(executor threw: socket closed\)/);
    expect(h.runner.fills().map((f) => [f.purpose, f.exchange])).toEqual([
      ['entry', 'okx'],
      ['unwind', 'okx'],
    ]);
  });
});

describe('partial fills', () => {
  it('a partially filled entry leg unwinds what both legs hold', () => {
    // The venue fills only 40 % of the okx entry and expires the rest (IOC), as a live executor reports it.
    const h = new Harness({
      executor: (x) => {
        const paper = paperFor(x);
        return {
          kind: 'paper',
          submit: (o) => paper.submit(o.exchange === 'okx' && o.purpose === 'entry' ? { ...o, quantity: o.quantity * 0.4 } : o),
          poll: (nowMs) =>
            paper.poll(nowMs).map((r) => (r.clientOrderId.endsWith(':entry:long') ? { ...r, status: 'expired' as const, reason: 'no_liquidity' as const, detail: 'IOC remainder expired' } : r)),
        };
      },
    });
    h.openStandard();
    const p = h.only();
    expect(p).toMatchObject({ state: 'closed', exitReason: 'leg_failed' });
    expect(p.transitions[1].reason).toMatch(/^leg_failed: long leg entry no_liquidity \(IOC remainder expired\)/);
    // long bought 0.4·Q @ 100 and sold back 0.4·Q @ 99.90; short sold Q @ 100.50 and bought back Q @ 100.60
    expect(h.runner.fills().map((f) => [f.purpose, f.side, f.exchange, f.quantity, f.price])).toEqual([
      ['entry', 'buy', 'okx', Q * 0.4, 100],
      ['entry', 'sell', 'bybit', Q, 100.5],
      ['unwind', 'sell', 'okx', Q * 0.4, 99.9],
      ['unwind', 'buy', 'bybit', Q, 100.6],
    ]);
    // price −0.04·Q − 0.1·Q = −1.393035; fees Q·(0.4·100 + 100.5 + 0.4·99.9 + 100.6)·5 bps = 1.398308
    expect(p.realisedPnlUsd).toBeCloseTo(-1.3930348259 - 1.3983084577, 9);
    expect(h.runner.portfolio().openPositions).toBe(0);
  });
});
