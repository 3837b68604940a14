/**
 * Symbol rules, table-driven: each venue's native spelling → one instrument key per underlying, with the
 * quantity multiplier and the venue's own renames folded, and numeric-leading tickers left alone.
 */
import { describe, expect, it } from 'vitest';
import { listedBaseOf } from '../../server/venues/discovery.js';
import { VENUES } from '../../server/venues/index.js';
import { ASSET_ALIASES as BINANCE_ALIASES } from '../../server/venues/binance/symbols.js';
import { ASSET_ALIASES as BYBIT_ALIASES } from '../../server/venues/bybit/symbols.js';
import { ASSET_ALIASES as KUCOIN_ALIASES } from '../../server/venues/kucoin/symbols.js';
import { splitMultiplier } from '../../server/venues/symbology.js';

describe('splitMultiplier: listed base → underlying × multiplier', () => {
  it.each([
    ['1000PEPE', 'PEPE', 1000],
    ['10000SATS', 'SATS', 10_000],
    ['1000000MOG', 'MOG', 1_000_000],
    ['1MBABYDOGE', 'BABYDOGE', 1_000_000],
    ['SHIB1000', 'SHIB', 1000],
    ['1000X', 'X', 1000],
    // Numeric-leading tickers that are not a multiplier keep their name.
    ['1INCH', '1INCH', 1],
    ['2Z', '2Z', 1],
    ['0G', '0G', 1],
    ['10SET', '10SET', 1],
    ['BTC', 'BTC', 1],
    ['LUNA2', 'LUNA2', 1],
  ] as const)('%s → %s ×%d', (listed, base, multiplier) => {
    expect(splitMultiplier(listed)).toEqual({ base, multiplier });
  });

  it('applies the venue aliases after the split', () => {
    expect(splitMultiplier('XBT', KUCOIN_ALIASES)).toEqual({ base: 'BTC', multiplier: 1 });
    expect(splitMultiplier('LUNA2', BINANCE_ALIASES)).toEqual({ base: 'LUNA', multiplier: 1 });
    expect(splitMultiplier('LUNA2', BYBIT_ALIASES)).toEqual({ base: 'LUNA', multiplier: 1 });
    expect(splitMultiplier('1000LUNC', BINANCE_ALIASES)).toEqual({ base: 'LUNC', multiplier: 1000 });
  });
});

describe('keyOf per venue', () => {
  it.each([
    ['bybit', 'BTCUSDT', 'BTC-PERP'],
    ['bybit', '1000PEPEUSDT', 'PEPE-PERP'],
    ['bybit', 'SHIB1000USDT', 'SHIB-PERP'],
    ['bybit', '10000SATSUSDT', 'SATS-PERP'],
    ['bybit', '1000000MOGUSDT', 'MOG-PERP'],
    ['bybit', '1INCHUSDT', '1INCH-PERP'],
    ['bybit', 'LUNA2USDT', 'LUNA-PERP'],
    ['bybit', 'BTCPERP', 'BTC-PERP'],
    ['bybit', '1000PEPEPERP', 'PEPE-PERP'],
    ['okx', 'PEPE-USDT-SWAP', 'PEPE-PERP'],
    ['okx', '1INCH-USDT-SWAP', '1INCH-PERP'],
    ['okx', 'BTC-USDC-SWAP', 'BTC-PERP'],
    ['okx', 'LUNA-USDT-SWAP', 'LUNA-PERP'],
    ['kucoin', 'XBTUSDTM', 'BTC-PERP'],
    ['kucoin', 'XBTUSDCM', 'BTC-PERP'],
    ['kucoin', '1000BONKUSDTM', 'BONK-PERP'],
    ['kucoin', '1INCHUSDTM', '1INCH-PERP'],
    ['binance', '1000PEPEUSDT', 'PEPE-PERP'],
    ['binance', '1MBABYDOGEUSDT', 'BABYDOGE-PERP'],
    ['binance', '1000SHIBUSDT', 'SHIB-PERP'],
    ['binance', 'LUNA2USDT', 'LUNA-PERP'],
    ['binance', '1000LUNCUSDT', 'LUNC-PERP'],
    ['binance', 'BTCUSDC', 'BTC-PERP'],
    ['binance', '1INCHUSDT', '1INCH-PERP'],
  ] as const)('%s %s → %s', (venue, symbol, key) => {
    expect(VENUES[venue].symbols.keyOf(symbol)).toBe(key);
  });

  it.each([
    ['bybit', 'BTC-26DEC26'],
    ['okx', 'BTC-USD-250328'],
    ['kucoin', 'XBTMZ26'],
    ['binance', 'ETHBTC'],
  ] as const)('%s %s is not a linear perpetual spelling', (venue, symbol) => {
    expect(VENUES[venue].symbols.keyOf(symbol)).toBeNull();
  });
});

describe('listedBaseOf: which spelling carries the units', () => {
  it('keeps the base field, unless the symbol adds a multiplier to the same underlying', () => {
    expect(listedBaseOf('1000PEPE', '1000PEPE')).toBe('1000PEPE');
    expect(listedBaseOf('BONK', '1000BONK')).toBe('1000BONK'); // prices on the wire are per 1000 BONK
    expect(listedBaseOf('XBT', 'XBT', KUCOIN_ALIASES)).toBe('XBT');
    expect(listedBaseOf('ETH', 'BTC')).toBe('ETH'); // a different coin in the symbol never overrides the field
    expect(listedBaseOf('1000PEPE', 'PEPE')).toBe('1000PEPE');
  });

  it('has no answer without a usable base field', () => {
    expect(listedBaseOf('', 'ONDO')).toBeNull();
    expect(listedBaseOf(undefined, 'ONDO')).toBeNull();
    expect(listedBaseOf('BT C', 'BTC')).toBeNull();
  });
});
