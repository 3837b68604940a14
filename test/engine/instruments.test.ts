import { describe, expect, it } from 'vitest';
import { InstrumentMap } from '../../server/engine/instruments.js';
import { normaliseSymbol } from '../../server/engine/symbols.js';

describe('InstrumentMap', () => {
  it('normalises the four venues’ symbol styles to one instrument key', () => {
    const m = new InstrumentMap();
    const bybit = m.register('bybit', 'BTCUSDT');
    const okx = m.register('okx', 'BTC-USDT-SWAP');
    const kucoin = m.register('kucoin', 'XBTUSDTM');
    const binance = m.register('binance', 'BTCUSDT');
    for (const id of [bybit, okx, kucoin, binance]) expect(m.instrumentOf(id)).toBe('BTC-USDT-PERP');
    expect(m.instrumentCount).toBe(1);
    expect(m.exchangesFor('BTC-USDT-PERP')).toEqual(['bybit', 'okx', 'kucoin', 'binance']);
    expect(m.idsFor('BTC-USDT-PERP')).toEqual([0, 1, 2, 3]);
    expect(normaliseSymbol('kucoin', 'ETHUSDTM')).toBe('ETH-USDT-PERP');
    expect(normaliseSymbol('okx', 'ETH-USDT-SWAP')).toBe('ETH-USDT-PERP');
  });

  it('hands out dense, stable ids and looks them up both ways', () => {
    const m = new InstrumentMap();
    const a = m.register('bybit', 'ETHUSDT', { base: 'ETH', quote: 'USDT' });
    const b = m.register('okx', 'SOL-USDT-SWAP', { base: 'SOL', quote: 'USDT' });
    const c = m.register('kucoin', 'XBTUSDTM', { base: 'XBT', quote: 'USDT' }); // XBT → BTC
    expect([a, b, c]).toEqual([0, 1, 2]);
    expect(m.register('bybit', 'ETHUSDT', { base: 'ETH', quote: 'USDT' })).toBe(a); // stable
    expect(m.size).toBe(3);
    expect(m.id('okx', 'SOL-USDT-SWAP')).toBe(b);
    expect(m.id('okx', 'DOGE-USDT-SWAP')).toBe(-1);
    expect(m.exchangeOf(c)).toBe('kucoin');
    expect(m.symbolOf(c)).toBe('XBTUSDTM');
    expect(m.instrumentOf(c)).toBe('BTC-USDT-PERP');
    expect(m.idFor('BTC-USDT-PERP', 'kucoin')).toBe(c);
    expect(m.idFor('BTC-USDT-PERP', 'bybit')).toBe(-1);
    expect(m.idsFor('NOPE-USDT-PERP')).toEqual([]);
  });

  it('maintains the venues quoting an instrument as ids are created (nothing hard-coded)', () => {
    const m = new InstrumentMap();
    m.register('binance', 'DOGEUSDT');
    expect(m.exchangesFor('DOGE-USDT-PERP')).toEqual(['binance']);
    m.register('okx', 'DOGE-USDT-SWAP');
    expect(m.exchangesFor('DOGE-USDT-PERP')).toEqual(['binance', 'okx']);
  });

  it('aliases a second symbol of the same venue and instrument to the existing id', () => {
    const m = new InstrumentMap();
    const id = m.register('binance', 'BTCUSDT');
    expect(m.register('binance', 'btcusdt', { base: 'BTC', quote: 'USDT' })).toBe(id);
    expect(m.id('binance', 'btcusdt')).toBe(id);
    expect(m.size).toBe(1);
    expect(m.symbolOf(id)).toBe('BTCUSDT');
  });

  it('pre-registers keys with each venue’s default symbol and skips invalid keys', () => {
    const m = new InstrumentMap();
    const ids = m.preRegister(['BTC-USDT-PERP', 'not a key', 'ETH-USDT-PERP'], ['bybit', 'okx', 'kucoin', 'binance']);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(m.id('kucoin', 'XBTUSDTM')).toBe(2);
    expect(m.id('okx', 'ETH-USDT-SWAP')).toBe(5);
    expect(m.instruments()).toEqual(['BTC-USDT-PERP', 'ETH-USDT-PERP']);
  });

  it('throws (rather than guessing) for an unparseable symbol without metadata', () => {
    const m = new InstrumentMap();
    expect(() => m.register('okx', 'BTCUSDT')).toThrow(/pass meta/);
    expect(m.size).toBe(0);
  });

  it('grows past its initial capacity keeping every mapping', () => {
    const m = new InstrumentMap();
    for (let i = 0; i < 300; i++) {
      m.register('bybit', `C${i}USDT`);
      m.register('okx', `C${i}-USDT-SWAP`);
    }
    expect(m.size).toBe(600);
    expect(m.instrumentCount).toBe(300);
    expect(m.idFor('C299-USDT-PERP', 'okx')).toBe(599);
    expect(m.venueId(m.instrumentIndex('C7-USDT-PERP'), 0)).toBe(14);
  });
});
