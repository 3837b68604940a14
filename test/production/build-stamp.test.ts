/**
 * scripts/build.mjs decides what `npm start` rebuilds. Run on a copy of the script in a scratch project
 * (so no real source is touched): a content change rebuilds its target, an mtime-only change or a change
 * elsewhere does not, a missing output does, and missing build tools are reported instead of crashing.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server.js';

interface BuildScript {
  staleTargets(force?: boolean): { stale: string[]; hashes: Record<string, string> };
  buildIfChanged(opts?: { force?: boolean; log?: (m: string) => void }): boolean;
}

let root = '';
let build: BuildScript;

function write(rel: string, text: string): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

/** Records the current hashes as built (what a successful build writes). */
function stampAll(): void {
  write('dist/.build-stamp.json', JSON.stringify(build.staleTargets(true).hashes));
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'perpscan-build-'));
  write('server/main.ts', 'export {};\n');
  write('shared/config.ts', 'export const a = 1;\n');
  write('web/src/App.svelte', '<p>hi</p>\n');
  write('vite.config.ts', 'export default {};\n');
  write('package.json', '{}\n');
  write('tsconfig.json', '{}\n');
  write('tsconfig.build.json', '{}\n');
  write('test/x.test.ts', '\n');
  for (const out of ['dist/server/main.js', 'dist/server/persistence/writer-worker.js', 'dist/web/index.html']) write(out, '\n');
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(REPO_ROOT, 'scripts/build.mjs'), join(root, 'scripts/build.mjs'));
  build = (await import(pathToFileURL(join(root, 'scripts/build.mjs')).href)) as BuildScript;
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('build change detection', () => {
  it('rebuilds only the targets whose source content changed', () => {
    stampAll();
    expect(build.staleTargets().stale).toEqual([]);

    const future = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'web/src/App.svelte'), future, future); // touched, same content
    write('test/x.test.ts', 'changed\n'); // not a build source
    expect(build.staleTargets().stale).toEqual([]);

    write('web/src/App.svelte', '<p>hello</p>\n');
    expect(build.staleTargets().stale).toEqual(['web']);
    stampAll();

    write('server/main.ts', 'export const b = 2;\n');
    expect(build.staleTargets().stale).toEqual(['server']);
    stampAll();

    write('shared/config.ts', 'export const a = 2;\n'); // both compile shared/
    expect(build.staleTargets().stale).toEqual(['server', 'web']);
    stampAll();

    write('web/src/lib/new.ts', 'export {};\n'); // a new file counts
    expect(build.staleTargets().stale).toEqual(['web']);
  });

  it('rebuilds a target whose output is missing', () => {
    stampAll();
    rmSync(join(root, 'dist/server/persistence/writer-worker.js'));
    expect(build.staleTargets().stale).toEqual(['server']);
    write('dist/server/persistence/writer-worker.js', '\n');
  });

  it('says what to do when a rebuild is needed but the build tools are not installed', () => {
    stampAll();
    write('server/main.ts', 'export const c = 3;\n');
    const lines: string[] = [];
    expect(build.buildIfChanged({ log: (m) => lines.push(m) })).toBe(false);
    expect(lines.join('\n')).toMatch(/server sources changed .* typescript is not installed/);
    expect(lines.join('\n')).toContain('node dist/server/main.js');
  });
});
