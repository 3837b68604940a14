/**
 * The universe benchmarks' simulator process: `node --import tsx bench/universe/sim.ts --rate N --instruments N
 * [--dislocations N] [--seed N]`. Runs `startSimulator` (all four venues on ephemeral loopback ports) and
 * prints JSON lines: `{"endpoints":{...}}` once, then `{"sim":{...}}` every second with cumulative counters
 * (model updates generated, frames sent per venue, connections), so the bench can compute the offered rate
 * over exactly its own measuring window. A process of its own: the simulator's CPU never counts as the
 * server's, and the server's socket reads are real. A line `rate N` on stdin changes the offered rate.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startSimulator } from '../../server/simulator/index.js';
import { universeSimulatorOptions } from './universe.js';

process.stdout.on('error', () => undefined);
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20000' },
    instruments: { type: 'string', default: '300' },
    dislocations: { type: 'string', default: '600' },
    seed: { type: 'string', default: '1' },
  },
  strict: true,
});

const sim = await startSimulator({
  seed: Number(values.seed),
  messagesPerSec: Number(values.rate),
  dislocationsPerMin: Number(values.dislocations),
  ...universeSimulatorOptions(Number(values.instruments)),
});
process.stdout.write(`${JSON.stringify({ endpoints: sim.endpoints })}\n`);
const timer = setInterval(() => {
  const s = sim.stats();
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ sim: { tMs: Date.now(), generated: s.generated, sent: s.sent, connections: s.connections, cpuUs: cpu.user + cpu.system } })}\n`);
}, 1000);
// Control: `rate N` changes the offered rate (one server runs through every rate; its start-up is long).
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = /^rate (\d+)$/.exec(line.trim());
  if (m) {
    sim.setRate(Number(m[1]));
    process.stdout.write(`${JSON.stringify({ rate: sim.stats().messagesPerSec })}\n`);
  }
});
const stop = () => {
  clearInterval(timer);
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
