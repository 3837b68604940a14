/** The real venues' origins; adapters append the real paths. Point a feed at the simulator by swapping these. */
import type { Exchange } from '../../shared/exchanges.js';
import type { VenueAdapter, VenueEndpoints } from './adapter.js';
import { binanceAdapter } from './binance.js';
import { bybitAdapter } from './bybit.js';
import { kucoinAdapter } from './kucoin.js';
import { okxAdapter } from './okx.js';

export const LIVE_ENDPOINTS: Record<Exchange, VenueEndpoints> = {
  bybit: { ws: 'wss://stream.bybit.com', rest: 'https://api.bybit.com' },
  okx: { ws: 'wss://ws.okx.com:8443', rest: 'https://www.okx.com' },
  // KuCoin's socket endpoint is handed out by POST /api/v1/bullet-public; `ws` is informational.
  kucoin: { ws: 'wss://ws-api-futures.kucoin.com', rest: 'https://api-futures.kucoin.com' },
  binance: { ws: 'wss://fstream.binance.com', rest: 'https://fapi.binance.com' },
};

export const ADAPTERS: Readonly<Record<Exchange, VenueAdapter>> = {
  bybit: bybitAdapter,
  okx: okxAdapter,
  kucoin: kucoinAdapter,
  binance: binanceAdapter,
};
