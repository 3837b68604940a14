import { describe, expect, it } from 'vitest';
import {
  breakEvenHours,
  confidenceScore,
  expectedFundingBps,
  fundingAprPct,
  fundingEventsInWindow,
  rate8h,
  roundTripFeesBps,
  spreadBps,
  touchSlippageBps,
} from '../../server/engine/scoring.js';

const H = 3_600_000;
const T0 = 1_700_000_000_000;

describe('scoring (hand-computed)', () => {
  it('spread: (shortBid − longAsk) / longAsk · 1e4', () => {
    expect(spreadBps(100, 100.5)).toBeCloseTo(50, 10); // 0.5 / 100 · 1e4
    expect(spreadBps(200, 199)).toBeCloseTo(-50, 10); // −1 / 200 · 1e4
  });

  it('normalises funding to 8 h for 1 h / 4 h / 8 h intervals', () => {
    expect(rate8h(0.0001, 1 * H)).toBeCloseTo(0.0008, 12); // 8 events per 8 h
    expect(rate8h(0.0001, 4 * H)).toBeCloseTo(0.0002, 12); // 2 events per 8 h
    expect(rate8h(0.0001, 8 * H)).toBeCloseTo(0.0001, 12);
    expect(rate8h(0.0001, 0)).toBe(0); // unknown interval counts nothing
  });

  it('fees: entry AND exit of both legs', () => {
    expect(roundTripFeesBps(5.5, 5)).toBe(21); // 2 · (5.5 + 5)
    expect(roundTripFeesBps(6, 5)).toBe(22);
  });

  it('slippage at the touch: the excess beyond the touch size costs the impact, pro rata', () => {
    // $1000 at 100 = 10 units; touch 4 → 6 units excess = 60 % · 5 bps = 3 bps
    expect(touchSlippageBps(1000, 100, 4, 5)).toBeCloseTo(3, 12);
    expect(touchSlippageBps(1000, 100, 10, 5)).toBe(0); // touch covers it
    expect(touchSlippageBps(1000, 100, 0, 5)).toBeCloseTo(5, 12); // nothing visible: all at impact
    // short $1000 at 100.5 = 9.950249 units, touch 5 → excess 4.950249 → 49.75 % · 5 = 2.4875 bps
    expect(touchSlippageBps(1000, 100.5, 5, 5)).toBeCloseTo(2.4875, 9);
  });

  it('counts funding events in (now, now + horizon]', () => {
    // 1 h interval, first at +30 min, 8 h horizon → +0.5, 1.5, …, 7.5 h = 8 events
    expect(fundingEventsInWindow(T0, 8 * H, T0 + 0.5 * H, H)).toBe(8);
    // 4 h interval, first at +1 h → +1 h, +5 h = 2
    expect(fundingEventsInWindow(T0, 8 * H, T0 + H, 4 * H)).toBe(2);
    // 8 h interval, first exactly at the horizon end → included
    expect(fundingEventsInWindow(T0, 8 * H, T0 + 8 * H, 8 * H)).toBe(1);
    expect(fundingEventsInWindow(T0, 8 * H, T0 + 8 * H + 1, 8 * H)).toBe(0);
    // next funding already past (−10 min), 1 h → rolled to +50 min, …, +7 h 50 = 8
    expect(fundingEventsInWindow(T0, 8 * H, T0 - 10 * 60_000, H)).toBe(8);
    // an event exactly now is not in the window: next one +8 h
    expect(fundingEventsInWindow(T0, 8 * H, T0, 8 * H)).toBe(1);
    expect(fundingEventsInWindow(T0, 8 * H, 0, H)).toBe(0); // unknown
  });

  it('expected funding: the short receives, the long pays', () => {
    // short 8 × 0.0001, long 1 × 0.0002 → (0.0008 − 0.0002) · 1e4 = 6 bps
    expect(expectedFundingBps(8, 0.0001, 1, 0.0002)).toBeCloseTo(6, 10);
    // negative rate on the long leg: the long RECEIVES → +1 bp each
    expect(expectedFundingBps(0, 0, 2, -0.0001)).toBeCloseTo(2, 10);
    // positive rate on the short... negative: the short pays
    expect(expectedFundingBps(1, -0.0003, 0, 0)).toBeCloseTo(-3, 10);
  });

  it('confidence: spread 50 %, earning funding 30 %, base 20 %', () => {
    expect(confidenceScore(25, 0.005)).toBeCloseTo(60, 10); // 25/50·50 + 0.005/0.01·30 + 20
    expect(confidenceScore(100, 0.02)).toBe(100); // both capped
    expect(confidenceScore(100, -0.01)).toBe(70); // paying funding scores nothing (seed used |delta|)
    expect(confidenceScore(-10, 0)).toBe(20);
  });

  it('funding APR and break-even hours', () => {
    expect(fundingAprPct(0.0001)).toBeCloseTo(10.95, 10); // 0.0001 · 3 · 365 · 100
    // costs 21 + 0 − spread 5 = 16 bps; edge 0.0002/8 h = 2 bps / 8 h = 0.25 bps/h → 64 h
    expect(breakEvenHours(21, 0, 5, 0.0002)).toBeCloseTo(64, 10);
    expect(breakEvenHours(21, 0, 30, 0.0002)).toBe(0); // the spread already pays the costs
    expect(breakEvenHours(21, 0, 5, 0)).toBeNull();
    expect(breakEvenHours(21, 0, 5, -0.0001)).toBeNull();
  });
});
