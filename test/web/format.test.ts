import { describe, expect, it } from 'vitest';
import { budgetVerdict } from '../../web/src/lib/latency.js';
import { closeReasonLabel, exName, fmtBps, fmtCountdown, fmtDuration, fmtMicros, fmtPrice, fmtSignedUsd, isWarningCloseReason } from '../../web/src/lib/format.js';
import { OPPORTUNITY_CLOSE_REASONS } from '../../shared/opportunity.js';

describe('formatting', () => {
  it('formats durations, countdowns and latencies compactly', () => {
    expect(fmtDuration(850)).toBe('850ms');
    expect(fmtDuration(12_340)).toBe('12s');
    expect(fmtDuration(4_300)).toBe('4.3s');
    expect(fmtDuration(245_000)).toBe('4m 05s');
    expect(fmtDuration(3 * 3_600_000 + 12 * 60_000)).toBe('3h 12m');
    expect(fmtCountdown(3_725_000)).toBe('1:02:05');
    expect(fmtCountdown(245_000)).toBe('4:05');
    expect(fmtCountdown(-1)).toBe('now');
    expect(fmtMicros(35)).toBe('35 µs');
    expect(fmtMicros(2100)).toBe('2.10 ms');
  });

  it('formats prices by magnitude, money with sign, and missing values as a dash', () => {
    expect(fmtPrice(90_780.7)).toBe('90,780.70');
    expect(fmtPrice(0.15715)).toBe('0.157150');
    expect(fmtSignedUsd(-3.26)).toBe('−$3.26');
    expect(fmtSignedUsd(2.5)).toBe('+$2.50');
    expect(fmtBps(Number.NaN)).toBe('–');
    expect(exName('okx')).toBe('OKX');
  });

  it('judges p99 against the seed budget', () => {
    const p99 = (p99Us: number) => ({ p50Us: p99Us / 2, p99Us, count: 100 });
    expect(budgetVerdict('pipeline_to_detected', p99(400))).toBe('ok');
    expect(budgetVerdict('pipeline_to_detected', p99(900))).toBe('warn');
    expect(budgetVerdict('end_to_end', p99(12_000))).toBe('over');
    expect(budgetVerdict('bus_to_sent', p99(12_000))).toBe('none');
  });

  it('tags close reasons that mean bad or missing data as warnings, market moves as plain', () => {
    const warnings = OPPORTUNITY_CLOSE_REASONS.filter((r) => isWarningCloseReason(r));
    expect(warnings.slice().sort()).toEqual(['feed_down', 'instrument_delisted', 'quote_quarantined', 'spread_implausible', 'stale_quote']);
    expect(isWarningCloseReason('spread_below_min')).toBe(false);
    expect(closeReasonLabel('spread_implausible')).toBe('spread implausible');
  });
});
