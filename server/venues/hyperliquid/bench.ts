/**
 * Hyperliquid frames for bench/ingest: `bbo` pushes (two-sided), and every 50th frame an `assetCtxs` push
 * of the dex (positional contexts, one per coin of the bench's universe, in its order).
 *
 * ccxt.pro (4.5.x, `js/src/pro/hyperliquid.js`) has no handler for `bbo` or `assetCtxs`: for the touch it
 * watches `l2Book` (`watchOrderBook`), for funding/mark `activeAssetCtx` (`watchTicker`, one frame per
 * coin). `ccxtFrames` gives ccxt the same information on those channels: each `bbo` as an `l2Book` with the
 * same single level a side, each `assetCtxs` as one `activeAssetCtx` per coin (the same contexts). The
 * ratio is then per coin-update. A second set gives each `l2Book` the 20 levels a side the venue sends for
 * a liquid coin (ccxt cannot ask for fewer): what a ccxt user's handler really parses for the same touch.
 */
import type { CcxtFrameSet, IngestFrameContext, VenueIngestBench } from '../bench-types.js';

interface Level {
  px: string;
  sz: string;
  n: number;
}

/** Depth a side of a real `l2Book` push for a liquid coin. */
const L2_LEVELS = 20;

/** `levels` deeper copies of a touch level, a tick apart outwards (`dir` −1 for bids, +1 for asks). */
function deepen(top: Level, dir: 1 | -1, levels: number, seed: number): Level[] {
  const decimals = top.px.includes('.') ? top.px.length - top.px.indexOf('.') - 1 : 0;
  const tick = 10 ** -decimals;
  const out = [top];
  for (let k = 1; k < levels; k++) {
    const px = (Number(top.px) + dir * k * tick).toFixed(decimals);
    out.push({ px, sz: (((seed + k * 7919) % 20_000) / 1000).toFixed(3), n: 1 + ((seed + k) % 9) });
  }
  return out;
}

export const ingestBench: VenueIngestBench = {
  ccxtId: 'hyperliquid',
  frames({ count, bases, symbol, t0, rnd, px, sz, touch }: IngestFrameContext): string[] {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const base = bases[i % bases.length];
      const ts = t0 + i * 2;
      if (i % 50 === 49) {
        const funding = `0.0000${10 + (Math.floor(i / 50) % 80)}`;
        const ctxs = bases.map(
          (b) =>
            `{"funding":"${funding}","openInterest":"1234.5","prevDayPx":"${px(b)}","dayNtlVlm":"100000000.0","premium":"0.0001","oraclePx":"${px(b)}","markPx":"${px(b)}","midPx":"${px(b)}","impactPxs":["${px(b)}","${px(b)}"],"dayBaseVlm":"5000.0"}`,
        );
        out.push(`{"channel":"assetCtxs","data":{"dex":"","ctxs":[${ctxs.join(',')}]}}`);
        continue;
      }
      const [lo, hi] = touch(base);
      out.push(`{"channel":"bbo","data":{"coin":"${symbol(base)}","time":${ts},"bbo":[{"px":"${lo}","sz":"${sz()}","n":${1 + Math.floor(rnd() * 9)}},{"px":"${hi}","sz":"${sz()}","n":${1 + Math.floor(rnd() * 9)}}]}}`);
    }
    return out;
  },
  ccxtFrames(ours: readonly string[], symbols: readonly string[]) {
    const touch: string[] = [];
    const deep: string[] = [];
    let updates = 0;
    ours.forEach((raw, i) => {
      const msg = JSON.parse(raw) as { channel: string; data: { coin: string; time: number; bbo: [Level, Level]; ctxs: unknown[] } };
      if (msg.channel === 'bbo') {
        const { coin, time, bbo } = msg.data;
        const [bid, ask] = bbo;
        touch.push(JSON.stringify({ channel: 'l2Book', data: { coin, time, levels: [[bid], [ask]] } }));
        deep.push(JSON.stringify({ channel: 'l2Book', data: { coin, time, levels: [deepen(bid, -1, L2_LEVELS, i), deepen(ask, 1, L2_LEVELS, i + 1)] } }));
        updates++;
        return;
      }
      // assetCtxs: ctxs[k] is symbols[k]'s context → one activeAssetCtx push per coin.
      msg.data.ctxs.forEach((ctx, k) => {
        const frame = JSON.stringify({ channel: 'activeAssetCtx', data: { coin: symbols[k], ctx } });
        touch.push(frame);
        deep.push(frame);
        updates++;
      });
    });
    const sets: CcxtFrameSet[] = [
      {
        label: '',
        frames: touch,
        note: 'each bbo as an l2Book with the same one level a side (handleOrderBook); each assetCtxs as one activeAssetCtx per coin (handleActiveAssetCtx): the same coin-updates, the lightest frames ccxt can get them in',
      },
      {
        label: 'l2book_20_levels',
        frames: deep,
        note: `as above, each l2Book with ${L2_LEVELS} levels a side, as the venue sends for a liquid coin (ccxt's watchOrderBook cannot ask for fewer)`,
      },
    ];
    return { updates, sets };
  },
};
