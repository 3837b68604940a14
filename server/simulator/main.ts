/**
 * `npm run simulator -- [--seed N] [--rate N] [--port-base N] [--instruments A,B | --universe [N]]
 *  [--churn-sec S] [--notice-sec S] [--exchanges a,b] [--dislocations N] [--host H]`: runs the simulated
 * venues alone and prints their endpoints. `--universe` (default 300 coins) generates a whole market with
 * listings and delistings every `--churn-sec` (0 = none).
 */
import { parseArgs } from 'node:util';
import { EXCHANGES, isExchange } from '../../shared/exchanges.js';
import { parseInstrumentKey } from '../venues/symbology.js';
import { DEFAULT_CHURN, startSimulator } from './index.js';

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

// `--universe` may come without a number: give parseArgs an empty value to read as "the default size".
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) if (argv[i] === '--universe' && (i + 1 >= argv.length || argv[i + 1].startsWith('--'))) argv.splice(i + 1, 0, '');

const { values } = parseArgs({
  args: argv,
  options: {
    seed: { type: 'string' },
    rate: { type: 'string' },
    'port-base': { type: 'string' },
    instruments: { type: 'string' },
    universe: { type: 'string' },
    'churn-sec': { type: 'string' },
    'notice-sec': { type: 'string' },
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

if (values.universe !== undefined && instruments) fail('--universe and --instruments exclude each other');
// `--universe` alone (or with an empty value) means the default size.
const universe = values.universe === undefined ? undefined : values.universe === '' ? true : num('universe', values.universe);
if (typeof universe === 'number' && !(universe >= 1 && universe <= 5000)) fail('--universe must be between 1 and 5000');
const churnSec = num('churn-sec', values['churn-sec']);
const noticeSec = num('notice-sec', values['notice-sec']);
const churn =
  churnSec === 0 ? (false as const) : churnSec !== undefined || noticeSec !== undefined ? { ...DEFAULT_CHURN, ...(churnSec !== undefined ? { everySec: churnSec } : {}), ...(noticeSec !== undefined ? { noticeSec } : {}) } : undefined;

const sim = await startSimulator({
  universe,
  churn,
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
const listed = sim.stats().listed;
process.stdout.write(`  listed ${EXCHANGES.map((ex) => `${ex}:${listed[ex]}`).join(' ')}\n`);
process.stdout.write(`  rate ${sim.stats().messagesPerSec} msgs/s; Ctrl-C to stop\n`);

const REPORT_MS = 10_000;
let lastSent = 0;
let lastGenerated = 0;
const report = setInterval(() => {
  const s = sim.stats();
  const sent = Object.values(s.sent).reduce((a, b) => a + b, 0);
  const conns = EXCHANGES.map((ex) => `${ex}:${s.connections[ex]}`).join(' ');
  const perSec = (n: number) => ((n * 1000) / REPORT_MS).toFixed(0);
  process.stdout.write(`generated ${perSec(s.generated - lastGenerated)}/s, sent ${perSec(sent - lastSent)}/s, connections ${conns}, dislocations active ${s.activeDislocations}, lifecycle events ${s.lifecycleEvents}\n`);
  lastSent = sent;
  lastGenerated = s.generated;
}, REPORT_MS);

const stop = () => {
  clearInterval(report);
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
