import { describe, expect, it } from 'vitest';
import { InstrumentMap } from '../../server/engine/instruments.js';
import type { Exchange } from '../../shared/exchanges.js';
import { defaultSymbol, symbolBaseQuote, VENUES } from '../../server/venues/index.js';

/** Base/quote as the venue module parses the symbol (the map itself parses nothing). */
const meta = (ex: Exchange, symbol: string) => symbolBaseQuote(ex, symbol)!;

describe('InstrumentMap', () => {
  it('normalises the four venues’ symbol styles to one instrument key', () => {
    const m = new InstrumentMap();
    const bybit = m.register('bybit', 'BTCUSDT', meta('bybit', 'BTCUSDT'));
    const okx = m.register('okx', 'BTC-USDT-SWAP', meta('okx', 'BTC-USDT-SWAP'));
    const kucoin = m.register('kucoin', 'XBTUSDTM', meta('kucoin', 'XBTUSDTM'));
    const binance = m.register('binance', 'BTCUSDT', meta('binance', 'BTCUSDT'));
    for (const id of [bybit, okx, kucoin, binance]) expect(m.instrumentOf(id)).toBe('BTC-PERP');
    expect(m.instrumentCount).toBe(1);
    expect(m.exchangesFor('BTC-PERP')).toEqual(['bybit', 'okx', 'kucoin', 'binance']);
    expect(m.idsFor('BTC-PERP')).toEqual([0, 1, 2, 3]);
    expect(VENUES.kucoin.symbols.keyOf('ETHUSDTM')).toBe('ETH-PERP');
    expect(VENUES.okx.symbols.keyOf('ETH-USDT-SWAP')).toBe('ETH-PERP');
  });

  it('hands out dense, stable ids and looks them up both ways', () => {
    const m = new InstrumentMap();
    const a = m.register('bybit', 'ETHUSDT', { base: 'ETH', quote: 'USDT' });
    const b = m.register('okx', 'SOL-USDT-SWAP', { base: 'SOL', quote: 'USDT' });
    const c = m.register('kucoin', 'XBTUSDTM', meta('kucoin', 'XBTUSDTM')); // XBT → BTC
    expect([a, b, c]).toEqual([0, 1, 2]);
    expect(m.register('bybit', 'ETHUSDT', { base: 'ETH', quote: 'USDT' })).toBe(a); // stable
    expect(m.size).toBe(3);
    expect(m.id('okx', 'SOL-USDT-SWAP')).toBe(b);
    expect(m.id('okx', 'DOGE-USDT-SWAP')).toBe(-1);
    expect(m.exchangeOf(c)).toBe('kucoin');
    expect(m.symbolOf(c)).toBe('XBTUSDTM');
    expect(m.instrumentOf(c)).toBe('BTC-PERP');
    expect(m.idFor('BTC-PERP', 'kucoin')).toBe(c);
    expect(m.idFor('BTC-PERP', 'bybit')).toBe(-1);
    expect(m.idsFor('NOPE-PERP')).toEqual([]);
  });

  it('maintains the venues quoting an instrument as ids are created (nothing hard-coded)', () => {
    const m = new InstrumentMap();
    m.register('binance', 'DOGEUSDT', meta('binance', 'DOGEUSDT'));
    expect(m.exchangesFor('DOGE-PERP')).toEqual(['binance']);
    m.register('okx', 'DOGE-USDT-SWAP', meta('okx', 'DOGE-USDT-SWAP'));
    expect(m.exchangesFor('DOGE-PERP')).toEqual(['binance', 'okx']);
  });

  it('aliases a second symbol of the same venue and instrument to the existing id', () => {
    const m = new InstrumentMap();
    const id = m.register('binance', 'BTCUSDT', meta('binance', 'BTCUSDT'));
    expect(m.register('binance', 'btcusdt', { base: 'BTC', quote: 'USDT' })).toBe(id);
    expect(m.id('binance', 'btcusdt')).toBe(id);
    expect(m.size).toBe(1);
    expect(m.symbolOf(id)).toBe('BTCUSDT');
  });

  it('pre-registers keys with each venue’s default symbol and skips invalid keys', () => {
    const m = new InstrumentMap();
    const ids = m.preRegister(['BTC-PERP', 'not a key', 'ETH-PERP'], ['bybit', 'okx', 'kucoin', 'binance'], defaultSymbol);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(m.id('kucoin', 'XBTUSDTM')).toBe(2);
    expect(m.id('okx', 'ETH-USDT-SWAP')).toBe(5);
    expect(m.instruments()).toEqual(['BTC-PERP', 'ETH-PERP']);
  });

  it('throws (rather than guessing) when base or quote is missing', () => {
    const m = new InstrumentMap();
    expect(() => m.register('okx', 'BTCUSDT', { base: '', quote: 'USDT' })).toThrow(/required/);
    expect(m.size).toBe(0);
  });

  it('lets the venue metadata spelling replace a pre-registered guess for the same venue and instrument', () => {
    const m = new InstrumentMap();
    const [id] = m.preRegister(['PEPE-PERP'], ['binance'], defaultSymbol);
    expect(m.symbolOf(id)).toBe('PEPEUSDT');
    expect(m.register('binance', '1000PEPEUSDT', { base: 'PEPE', quote: 'USDT' })).toBe(id);
    expect(m.symbolOf(id)).toBe('1000PEPEUSDT');
    expect(m.id('binance', '1000PEPEUSDT')).toBe(id);
  });

  it('grows past its initial capacity keeping every mapping', () => {
    const m = new InstrumentMap();
    for (let i = 0; i < 300; i++) {
      m.register('bybit', `C${i}USDT`, meta('bybit', `C${i}USDT`));
      m.register('okx', `C${i}-USDT-SWAP`, meta('okx', `C${i}-USDT-SWAP`));
    }
    expect(m.size).toBe(600);
    expect(m.instrumentCount).toBe(300);
    expect(m.idFor('C299-PERP', 'okx')).toBe(599);
    expect(m.legId(m.instrumentIndex('C7-PERP'), 0)).toBe(14);
  });
});
