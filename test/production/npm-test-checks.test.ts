/**
 * `npm test` (scripts/test.mjs) type-checks before Vitest: a TypeScript error or a Svelte warning fails the
 * run and is counted in the closing `tests:` line. Run on a miniature copy of the project (the real
 * scripts and configs, a few source files, the shared node_modules) so no real source is touched.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/server.js';

const roots: string[] = [];

function makeProject(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'perpscan-npm-test-'));
  roots.push(root);
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  for (const f of ['scripts/test.mjs', 'scripts/build.mjs', 'tsconfig.json', 'tsconfig.build.json', 'vite.config.ts', 'web/tsconfig.json', 'web/src/env.d.ts']) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    copyFileSync(join(REPO_ROOT, f), join(root, f));
  }
  symlinkSync(realpathSync(join(REPO_ROOT, 'node_modules')), join(root, 'node_modules'));
  write('package.json', '{ "name": "mini", "private": true, "type": "module" }\n');
  write('server/main.ts', 'export const port: number = 8080;\n');
  write('server/persistence/writer-worker.ts', 'export {};\n');
  write('shared/config.ts', 'export const name = "mini";\n');
  write('web/index.html', '<!doctype html><html lang="en"><head><title>mini</title></head><body><div id="app"></div><script type="module" src="./src/main.ts"></script></body></html>\n');
  write('web/src/main.ts', "import { mount } from 'svelte';\nimport App from './App.svelte';\nexport default mount(App, { target: document.body });\n");
  write('web/src/App.svelte', `<script lang="ts">\n  const name: string = 'mini';\n</script>\n<p>{name}</p>\n`);
  write('test/ok.test.ts', "import { expect, it } from 'vitest';\nit('adds', () => expect(1 + 1).toBe(2));\n");
  for (const [rel, text] of Object.entries(files)) write(rel, text);
  return root;
}

function runNpmTest(root: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'false', NO_COLOR: '1' };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'FORCE_COLOR') delete env[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/test.mjs'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

const closingLine = (output: string) => output.trimEnd().split('\n').filter((l) => l.startsWith('tests: ')).pop();

afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('npm test runs tsc and svelte-check', () => {
  it('passes when the project type-checks cleanly', async () => {
    const { code, output } = await runNpmTest(makeProject({}));
    expect(closingLine(output), output).toBe('tests: 1 passed, 0 failed, 0 skipped');
    expect(code).toBe(0);
  }, 240_000);

  it('fails on a type error and on a Svelte warning, each counted in the closing line', async () => {
    const root = makeProject({
      'shared/config.ts': 'export const name: number = "mini";\n',
      // An unused CSS selector is a svelte-check warning, not an error.
      'web/src/App.svelte': `<script lang="ts">\n  const name: string = 'mini';\n</script>\n<p>{name}</p>\n<style>\n  .never-used { color: red; }\n</style>\n`,
    });
    const { code, output } = await runNpmTest(root);
    expect(closingLine(output), output).toBe('tests: 1 passed, 2 failed, 0 skipped (failed checks: tsc, svelte-check)');
    expect(output).toMatch(/shared\/config\.ts.*TS2322/);
    expect(output).toMatch(/never-used/);
    expect(code).toBe(1);
  }, 240_000);
});
