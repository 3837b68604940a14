/**
 * `npm run bench [-- name ...]`: runs each benchmark (bench/<name>/main.ts) in its own process, in order.
 * Benchmarks are measurements, never pass/fail tests; each writes bench/results/<name>.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALL = ['engine', 'ingest', 'strategy', 'e2e', 'persistence', 'startup', 'universe', 'cluster', 'depth'];
/** Run only when named (`npm run bench -- soak`): 30 minutes by default (SOAK_MINUTES). */
const ON_REQUEST = ['soak'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : ALL;
let failed = 0;
for (const name of names) {
  const file = fileURLToPath(new URL(`./${name}/main.ts`, import.meta.url));
  if (!existsSync(file)) {
    if (ON_REQUEST.includes(name)) console.log(`(bench ${name}: missing)`);
    console.log(`(bench ${name}: not built yet)`);
    continue;
  }
  console.log(`\n##### bench/${name}`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
