/**
 * `npm run replay -- FILE [--speed 1|10|max] [--emit quotes|opportunities] [--config FILE] [--instruments FILE]`
 * `npm run replay -- --replay redis [...]` (records from the persistence layer; REDIS_URL, default redis://127.0.0.1:6379)
 *
 * Feeds a recording through the same adapters and engine, headless, on the recording's clock (with the
 * REST metadata the recording carries, else `--instruments FILE`, else built-in defaults); writes
 * the normalised quotes or the opportunity events as JSON lines to stdout, then a summary to stderr.
 * Same input → same output, byte for byte (the summary's wall time goes to stderr only).
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_CONFIG, applyConfigPatch, formatConfigErrors, type Config } from '../../shared/config.js';
import { loadInstrumentsFile } from '../feeds/metadata.js';
import { readRecording } from '../feeds/recorder.js';
import { createReplay, formatEvent } from './replay.js';

interface Args {
  file: string | null;
  source: 'file' | 'redis';
  speed: number; // Infinity = max
  emit: 'quotes' | 'opportunities';
  config: string | null;
  instruments: string | null;
}

const USAGE = 'usage: npm run replay -- FILE|--replay redis [--speed 1|10|max] [--emit quotes|opportunities] [--config FILE] [--instruments FILE]';

function parseArgs(argv: string[]): Args {
  const a: Args = { file: null, source: 'file', speed: Infinity, emit: 'opportunities', config: null, instruments: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--speed': {
        const v = value();
        const n = v === 'max' ? Infinity : Number(v);
        if (!(n > 0)) throw new Error(`--speed must be a positive number or max, got ${v}`);
        a.speed = n;
        break;
      }
      case '--emit': {
        const v = value();
        if (v !== 'quotes' && v !== 'opportunities') throw new Error(`--emit must be quotes or opportunities, got ${v}`);
        a.emit = v;
        break;
      }
      case '--config':
        a.config = value();
        break;
      case '--instruments':
        a.instruments = value();
        break;
      case '--replay': {
        const v = value();
        if (v !== 'redis') throw new Error(`--replay supports only redis, got ${v}`);
        a.source = 'redis';
        break;
      }
      case '-h':
      case '--help':
        throw new Error(USAGE);
      default:
        if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`);
        if (a.file !== null) throw new Error(`one recording at a time (got ${a.file} and ${arg})`);
        a.file = arg;
    }
  }
  if (a.source === 'file' && a.file === null) throw new Error(USAGE);
  return a;
}

function loadConfig(path: string | null): Config {
  if (path === null) return DEFAULT_CONFIG;
  let patch: unknown;
  try {
    patch = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`--config ${path}: ${(e as Error).message}`);
  }
  const r = applyConfigPatch(DEFAULT_CONFIG, patch);
  if (!r.ok) throw new Error(`--config ${path}: ${formatConfigErrors(r.errors)}`);
  return r.config;
}

/** Buffered stdout writer (one write per ~64 KB), honouring back-pressure. */
function createOut(): { line(s: string): Promise<void>; flush(): Promise<void> } {
  let buf = '';
  const write = (s: string) => new Promise<void>((resolve) => (process.stdout.write(s) ? resolve() : process.stdout.once('drain', () => resolve())));
  return {
    async line(s: string) {
      buf += s + '\n';
      if (buf.length >= 65_536) {
        const b = buf;
        buf = '';
        await write(b);
      }
    },
    async flush() {
      if (buf) await write(buf);
      buf = '';
    },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig(args.config);
  const instruments = args.instruments ? loadInstrumentsFile(args.instruments) : undefined;
  const out = createOut();
  const pending: string[] = [];
  const replay = createReplay({
    config,
    instruments,
    ...(args.emit === 'quotes' ? { onUpdate: (u) => void pending.push(JSON.stringify(u)) } : {}),
  });
  const events = args.emit === 'opportunities' ? replay.engine.bus.subscribe('replay') : null;
  const wallStart = performance.now();
  let firstT: number | null = null;
  let badLines = 0;

  const afterEach = async (t: number) => {
    if (events) for (const e of events.popBatch(Number.MAX_SAFE_INTEGER)) pending.push(formatEvent(e));
    for (const s of pending) await out.line(s);
    pending.length = 0;
    if (Number.isFinite(args.speed)) {
      firstT ??= t;
      const due = (t - firstT) / args.speed - (performance.now() - wallStart);
      if (due > 1) await new Promise((r) => setTimeout(r, due));
    }
  };

  if (args.source === 'file') {
    for await (const frame of readRecording(args.file!, () => badLines++)) {
      await replay.feed(frame);
      if (frame.rest === undefined) await afterEach(frame.t);
    }
  } else {
    // Loaded only for this source: a file replay needs no persistence code at all.
    const { createPersistence } = await import('../persistence/index.js');
    const persistence = createPersistence({ redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379', prefix: process.env.REDIS_PREFIX });
    await persistence.open();
    try {
      for await (const record of persistence.readMarketRecords()) {
        replay.feedRecord(record);
        await afterEach(record.recvMs);
      }
    } finally {
      await persistence.close();
    }
  }
  await out.flush();
  const s = replay.stats();
  const c = replay.engine.stats();
  const summary = {
    source: args.source === 'file' ? args.file : 'redis',
    frames: s.frames,
    restResponses: s.restResponses,
    metadata: s.metadata,
    ...(Object.keys(s.metadataErrors).length > 0 ? { metadataErrors: s.metadataErrors } : {}),
    records: s.records,
    badLines,
    recordingMs: s.firstMs === null || s.lastMs === null ? 0 : s.lastMs - s.firstMs,
    wallMs: Math.round(performance.now() - wallStart),
    quotes: s.quotes,
    fundings: s.fundings,
    outcomes: s.outcomes,
    errors: s.errors,
    outOfOrder: s.outOfOrder,
    engine: { updates: c.updates, rejectedTotal: c.rejectedTotal, pipelineDropped: c.pipeline.dropped, opened: c.detector.opened, closed: c.detector.closed, open: c.detector.open },
  };
  process.stderr.write(`replay summary ${JSON.stringify(summary)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`replay: ${(e as Error).message}\n`);
  process.exit(2);
});
