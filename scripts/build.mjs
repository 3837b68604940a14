#!/usr/bin/env node
// `npm run build [-- --force]`: compiles the server (server/ + shared/ → dist/server, dist/shared, with tsc)
// and builds the dashboard (web/ → dist/web, with Vite), each only when its sources changed since the
// last build. `npm start` calls the same check before it runs the compiled server.
//
// "Changed" = the SHA-256 over the paths and contents of a target's source files differs from the one
// stored in dist/.build-stamp.json, or the target's output is missing. Content, not mtimes: a checkout
// that touches every file does not force a rebuild, and an edit that keeps the mtime still counts.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(ROOT, 'dist', '.build-stamp.json');

/** What each target is built from, what it must produce, and how it is built. */
const TARGETS = {
  server: {
    sources: ['server', 'shared', 'tsconfig.json', 'tsconfig.build.json', 'package.json'],
    outputs: ['dist/server/main.js', 'dist/server/persistence/writer-worker.js'],
    clean: ['dist/server', 'dist/shared'],
    // --noCheck: emit only (isolatedModules makes per-file emit exact); `npm test` / `npm run typecheck` type-check.
    tool: { pkg: 'typescript', bin: 'tsc', args: ['-p', 'tsconfig.build.json', '--noCheck'] },
  },
  web: {
    sources: ['web', 'shared', 'vite.config.ts', 'package.json'],
    outputs: ['dist/web/index.html'],
    clean: [], // Vite empties dist/web itself
    tool: { pkg: 'vite', bin: 'vite', args: ['build', '--logLevel', 'warn'] },
  },
};

function listFiles(path, out) {
  const abs = join(ROOT, path);
  if (!existsSync(abs)) return;
  const entries = readdirSync(abs, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const p = join(path, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist' && !e.name.startsWith('.')) listFiles(p, out);
    } else if (e.isFile()) out.push(p);
  }
}

/** SHA-256 over the target's source files (relative path + content, in a stable order). */
export function sourceHash(target) {
  const files = [];
  for (const s of TARGETS[target].sources) {
    const abs = join(ROOT, s);
    if (!existsSync(abs)) continue;
    if (statSync(abs).isDirectory()) listFiles(s, files);
    else files.push(s);
  }
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f.split(sep).join('/'));
    h.update('\0');
    h.update(readFileSync(join(ROOT, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

function readStamp() {
  try {
    return JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return {};
  }
}

/** Targets whose sources changed since their last build, or whose output is missing. */
export function staleTargets(force = false) {
  const stamp = readStamp();
  const hashes = {};
  const stale = [];
  for (const name of Object.keys(TARGETS)) {
    hashes[name] = sourceHash(name);
    const missing = TARGETS[name].outputs.some((o) => !existsSync(join(ROOT, o)));
    if (force || missing || stamp[name] !== hashes[name]) stale.push(name);
  }
  return { stale, hashes };
}

/** The JS file of a package's command (its package.json `bin`); throws when the package is not installed. */
function toolBin(require, pkg, command) {
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const { bin } = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const file = typeof bin === 'string' ? bin : bin?.[command];
  if (!file) throw new Error(`${pkg} has no ${command} command`);
  return join(dirname(manifestPath), file);
}

/**
 * Builds the stale targets. Returns true when everything is up to date afterwards; on a failed build
 * (or build tools not installed, e.g. after `npm prune --omit=dev`) says why on stderr and returns false.
 */
export function buildIfChanged({ force = false, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const { stale, hashes } = staleTargets(force);
  if (stale.length === 0) return true;
  const require = createRequire(join(ROOT, 'package.json'));
  for (const name of stale) {
    const t = TARGETS[name];
    let bin;
    try {
      bin = toolBin(require, t.tool.pkg, t.tool.bin);
    } catch {
      log(`[build] the ${name} sources changed since the last build (or it was never built), but ${t.tool.pkg} is not installed.`);
      log('[build] Install the build tools (npm ci), then npm run build; or run the existing build with node dist/server/main.js.');
      return false;
    }
    log(`[build] building ${name} (sources changed since the last build)`);
    for (const c of t.clean) rmSync(join(ROOT, c), { recursive: true, force: true });
    const r = spawnSync(process.execPath, [bin, ...t.tool.args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      log(`[build] ${name} build failed (${t.tool.pkg} exited with ${r.status ?? r.signal})`);
      return false;
    }
    // Stamp each target as soon as it is built: a later failure does not force it again.
    const stamp = readStamp();
    stamp[name] = hashes[name];
    mkdirSync(join(ROOT, 'dist'), { recursive: true });
    writeFileSync(STAMP, `${JSON.stringify(stamp, null, 1)}\n`);
  }
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes('--force');
  process.exit(buildIfChanged({ force }) ? 0 : 1);
}
