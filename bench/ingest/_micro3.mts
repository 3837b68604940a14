const delta = '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","price24hPcnt":"0.023362","lastPrice":"91000.1","markPrice":"91000.3","indexPrice":"91001.2","openInterest":"52774.611","openInterestValue":"1506863370.11","turnover24h":"4273030716.4294","volume24h":"151185.6160","fundingRate":"0.0001","bid1Price":"91000.0","bid1Size":"1.234","ask1Price":"91000.1","ask1Size":"2.345"},"cs":50193544361,"ts":1680673822776}';
const N = 300000;
const cpu = (f: () => void) => { const c = process.cpuUsage(); f(); const d = process.cpuUsage(c); return (d.user + d.system) * 1000 / N; };
let sink = 0;
// 1: quote-hopping only (indexOf '"' from one quote to the next), counting quotes
function hop(raw: string): number { let i = 0, n = 0; for (;;) { i = raw.indexOf('"', i) ; if (i < 0) return n; n++; i++; } }
// 2: charCodeAt loop over all chars
function loop(raw: string): number { let n = 0; for (let i = 0; i < raw.length; i++) if (raw.charCodeAt(i) === 34) n++; return n; }
// 3: Buffer scan
const buf = Buffer.from(delta);
function bufloop(b: Uint8Array): number { let n = 0; for (let i = 0; i < b.length; i++) if (b[i] === 34) n++; return n; }
for (let r = 0; r < 4; r++) {
  const a = cpu(() => { for (let i = 0; i < N; i++) sink += hop(delta); });
  const b = cpu(() => { for (let i = 0; i < N; i++) sink += loop(delta); });
  const c = cpu(() => { for (let i = 0; i < N; i++) sink += bufloop(buf); });
  const j = cpu(() => { for (let i = 0; i < N; i++) sink += JSON.parse(delta).cs; });
  const e = cpu(() => { for (let i = 0; i < N; i++) sink += Buffer.from(delta).length; });
  console.log(`hop ${a.toFixed(0)}  charloop ${b.toFixed(0)}  bufloop ${c.toFixed(0)}  JSON.parse ${j.toFixed(0)}  Buffer.from ${e.toFixed(0)}`);
}
console.log(sink > 0);
