/**
 * THE venue registry: one line per venue module (`server/venues/<venue>/`). Everything that lists
 * venues — the Exchange type, config defaults and schemas, the simulator, the dashboard's names — is
 * derived from this list. Adding a venue: write its module, add its facts here and its module to
 * server/venues/index.ts (the compiler then demands every per-venue table).
 */
import { facts as binance } from '../server/venues/binance/facts.js';
import { facts as bitget } from '../server/venues/bitget/facts.js';
import { facts as bybit } from '../server/venues/bybit/facts.js';
import { facts as gate } from '../server/venues/gate/facts.js';
import { facts as hyperliquid } from '../server/venues/hyperliquid/facts.js';
import { facts as kucoin } from '../server/venues/kucoin/facts.js';
import { facts as okx } from '../server/venues/okx/facts.js';

export const VENUE_FACTS = [bybit, okx, kucoin, binance, hyperliquid, gate, bitget] as const;
