/** The opportunity's fee breakdown as the dashboard shows it: each leg's venue, fee tier (or custom) and taker fee. */
import { isExchange, venueDisplayName } from '../../../shared/exchanges.js';
import { feeTierLabel } from '../../../shared/fees.js';
import type { Opportunity } from '../../../shared/opportunity.js';

function leg(exchange: string, tier: string | undefined, takerBps: number | undefined): string {
  const name = venueDisplayName(exchange);
  if (tier === undefined || takerBps === undefined) return name;
  return `${name} ${isExchange(exchange) ? feeTierLabel(exchange, tier) : tier} ${takerBps} bps`;
}

/** e.g. `taker per fill: <venue A> <tier name> 5.5 bps + <venue B> custom 4 bps; × 2 (entry and exit) = 19 bps`. */
export function feeBreakdownText(o: Pick<Opportunity, 'longExchange' | 'shortExchange' | 'feesBps' | 'longFeeTier' | 'shortFeeTier' | 'longTakerFeeBps' | 'shortTakerFeeBps'>): string {
  return `taker per fill: ${leg(o.longExchange, o.longFeeTier, o.longTakerFeeBps)} + ${leg(o.shortExchange, o.shortFeeTier, o.shortTakerFeeBps)}; × 2 (entry and exit) = ${o.feesBps} bps`;
}
