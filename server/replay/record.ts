/**
 * Records raw frames to a file (the `--record FILE` format), from the built-in simulator or the live venues:
 *
 *   npx tsx server/replay/record.ts OUT.jsonl[.gz] [--seconds 30] [--live] [--rate 200] [--seed 1]
 *        [--dislocations 20] [--instruments-out FILE]
 *
 * The recording carries the REST metadata responses the feeds loaded, which the replay uses; `--instruments-out`
 * also writes that metadata as a file, for `npm run replay -- --instruments FILE` (e.g. with older recordings).
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_CONFIG } from '../../shared/config.js';
import { Engine } from '../engine/engine.js';
import { LIVE_ENDPOINTS } from '../feeds/endpoints.js';
import { FeedManager } from '../feeds/manager.js';
import { toInstrumentsFile } from '../feeds/metadata.js';
import { FrameRecorder } from '../feeds/recorder.js';
import { startSimulator } from '../simulator/index.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const out = argv.find((a, i) => !a.startsWith('--') && (i === 0 || !argv[i - 1].startsWith('--') || argv[i - 1] === '--live'));
  if (!out) throw new Error('usage: record.ts OUT.jsonl[.gz] [--seconds N] [--live] [--rate N] [--seed N] [--dislocations N] [--instruments-out FILE]');
  const seconds = Number(opt('--seconds', '30'));
  const live = argv.includes('--live');
  const sim = live ? null : await startSimulator({ seed: Number(opt('--seed', '1')), messagesPerSec: Number(opt('--rate', '200')), dislocationsPerMin: Number(opt('--dislocations', '20')) });
  const recorder = new FrameRecorder(out);
  const config = DEFAULT_CONFIG;
  const feeds = new FeedManager({ engine: new Engine({ config }), exchanges: config.market.exchanges, instruments: config.market.instruments, exclude: config.market.exclude, minVenues: config.market.minVenues, venues: config.venues, endpoints: sim ? sim.endpoints : LIVE_ENDPOINTS, recorder });
  await feeds.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await feeds.stop();
  await recorder.close();
  await sim?.close();
  const instrumentsOut = opt('--instruments-out', '');
  if (instrumentsOut) writeFileSync(instrumentsOut, `${JSON.stringify(toInstrumentsFile(feeds.metadata()), null, 1)}\n`);
  process.stderr.write(`recorded ${recorder.frames} frames to ${out}; feeds ${JSON.stringify(feeds.states().map((s) => [s.exchange, s.messages, s.errors]))}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`record: ${(e as Error).message}\n`);
  process.exit(2);
});
