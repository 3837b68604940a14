const delta = '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","price24hPcnt":"0.023362","lastPrice":"91000.1","markPrice":"91000.3","indexPrice":"91001.2","openInterest":"52774.611","openInterestValue":"1506863370.11","turnover24h":"4273030716.4294","volume24h":"151185.6160","fundingRate":"0.0001","bid1Price":"91000.0","bid1Size":"1.234","ask1Price":"91000.1","ask1Size":"2.345"},"cs":50193544361,"ts":1680673822776}';
const N = 200000;
const cpu = (f: () => void) => { const c = process.cpuUsage(); f(); const d = process.cpuUsage(c); return (d.user + d.system) * 1000 / N; };
const NEEDLES = ['"bid1Price":"', '"bid1Size":"', '"ask1Price":"', '"ask1Size":"', '"fundingRate":"', '"nextFundingTime":"', '"fundingIntervalHour":"'];
let sink = 0;
function targeted(raw: string): number {
  let acc = 0;
  for (let k = 0; k < NEEDLES.length; k++) {
    const at = raw.indexOf(NEEDLES[k], 40);
    if (at < 0) continue;
    const s = at + NEEDLES[k].length; const e = raw.indexOf('"', s);
    acc += Number(raw.slice(s, e));
  }
  return acc;
}
const CTRL = /[\u0000-\u001f\\]/;
function ctrlLoop(raw: string): boolean { for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) < 32) return true; return false; }
for (let r = 0; r < 4; r++) {
  const t = cpu(() => { for (let i = 0; i < N; i++) sink += targeted(delta); });
  const j = cpu(() => { for (let i = 0; i < N; i++) sink += JSON.parse(delta).cs; });
  const c = cpu(() => { for (let i = 0; i < N; i++) sink += CTRL.test(delta) ? 1 : 0; });
  const l = cpu(() => { for (let i = 0; i < N; i++) sink += ctrlLoop(delta) ? 1 : 0; });
  const b = cpu(() => { for (let i = 0; i < N; i++) sink += delta.indexOf('\\'); });
  console.log(`targeted ${t.toFixed(0)}  JSON.parse ${j.toFixed(0)}  ctrl-regex ${c.toFixed(0)}  ctrl-loop ${l.toFixed(0)}  indexOf-backslash ${b.toFixed(0)}`);
}
console.log(sink > 0);
