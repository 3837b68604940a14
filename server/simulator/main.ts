/**
 * `npm run simulator -- [--seed N] [--rate N] [--port-base N] [--instruments A,B] [--exchanges a,b]
 *  [--dislocations N] [--host H]`: runs the simulated venues alone and prints their endpoints.
 */
import { parseArgs } from 'node:util';
import { EXCHANGES, isExchange } from '../../shared/exchanges.js';
import { parseInstrumentKey } from '../venues/symbology.js';
import { startSimulator } from './index.js';

// A closed stdout (e.g. piped into `head`) must not crash the simulator.
process.stdout.on('error', () => undefined);

function fail(msg: string): never {
  process.stderr.write(`simulator: ${msg}\n`);
  process.exit(2);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) fail(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    rate: { type: 'string' },
    'port-base': { type: 'string' },
    instruments: { type: 'string' },
    exchanges: { type: 'string' },
    dislocations: { type: 'string' },
    host: { type: 'string' },
  },
  strict: true,
});

const instruments = values.instruments?.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
for (const key of instruments ?? []) if (!parseInstrumentKey(key)) fail(`--instruments: ${key} is not a key like BTC-PERP`);
const exchanges = values.exchanges?.split(',').map((s) => s.trim().toLowerCase());
for (const ex of exchanges ?? []) if (!isExchange(ex)) fail(`--exchanges: unknown exchange ${ex} (known: ${EXCHANGES.join(', ')})`);

const sim = await startSimulator({
  seed: num('seed', values.seed),
  messagesPerSec: num('rate', values.rate),
  portBase: num('port-base', values['port-base']),
  dislocationsPerMin: num('dislocations', values.dislocations),
  instruments,
  exchanges: exchanges?.filter(isExchange),
  host: values.host,
});

process.stdout.write('perpscan simulator running\n');
for (const ex of EXCHANGES) process.stdout.write(`  ${ex.padEnd(8)} ws ${sim.endpoints[ex].ws}  rest ${sim.endpoints[ex].rest}\n`);
process.stdout.write(`  rate ${sim.stats().messagesPerSec} msgs/s; Ctrl-C to stop\n`);

const REPORT_MS = 10_000;
let lastSent = 0;
let lastGenerated = 0;
const report = setInterval(() => {
  const s = sim.stats();
  const sent = Object.values(s.sent).reduce((a, b) => a + b, 0);
  const conns = EXCHANGES.map((ex) => `${ex}:${s.connections[ex]}`).join(' ');
  const perSec = (n: number) => ((n * 1000) / REPORT_MS).toFixed(0);
  process.stdout.write(`generated ${perSec(s.generated - lastGenerated)}/s, sent ${perSec(sent - lastSent)}/s, connections ${conns}, dislocations active ${s.activeDislocations}\n`);
  lastSent = sent;
  lastGenerated = s.generated;
}, REPORT_MS);

const stop = () => {
  clearInterval(report);
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
