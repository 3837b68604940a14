import { BybitParser } from '../../server/feeds/bybit.ts';
import { defaultMetadata } from '../../server/feeds/metadata.ts';
import { readFileSync } from 'node:fs';
const snap = readFileSync('test/fixtures/bybit/snapshot.json','utf8').trim();
const delta = '{"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","price24hPcnt":"0.023362","lastPrice":"91000.1","markPrice":"91000.3","indexPrice":"91001.2","openInterest":"52774.611","openInterestValue":"1506863370.11","turnover24h":"4273030716.4294","volume24h":"151185.6160","fundingRate":"0.0001","bid1Price":"91000.0","bid1Size":"1.234","ask1Price":"91000.1","ask1Size":"2.345"},"cs":50193544361,"ts":1680673822776}';
const sink = { quote() {}, funding() {} };
const fast = new BybitParser(defaultMetadata('bybit'));
const slow = new BybitParser(defaultMetadata('bybit'), { fastPath: false });
fast.parse(snap, sink); slow.parse(snap, sink);
const N = 200000;
const cpu = (f: () => void) => { const c = process.cpuUsage(); f(); const d = process.cpuUsage(c); return (d.user + d.system) * 1000 / N; };
for (let r = 0; r < 4; r++) {
  const f = cpu(() => { for (let i = 0; i < N; i++) fast.parse(delta, sink); });
  const s = cpu(() => { for (let i = 0; i < N; i++) slow.parse(delta, sink); });
  const j = cpu(() => { for (let i = 0; i < N; i++) JSON.parse(delta); });
  console.log(`cpu ns/msg: fast ${f.toFixed(0)}  json-path ${s.toFixed(0)}  bare JSON.parse ${j.toFixed(0)}`);
}
