/**
 * Chromium for the suites that run the built dashboard against the scripted server (`stage.ts`): builds the
 * dashboard when missing (unless `STAGE_DIST` points at another build), launches a headless browser and
 * makes the artifacts folder for screenshots and figures.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../helpers/server.js';
import { CHROMIUM_PATH } from '../helpers/services.js';

/** The dashboard build the stage serves: `STAGE_DIST` (e.g. an older build, to show a test fails there) or ours. */
export const STAGE_DIST = process.env.STAGE_DIST ?? join(REPO_ROOT, 'dist/web');
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

export async function launchStageBrowser(): Promise<Browser> {
  if (!process.env.STAGE_DIST && !existsSync(join(STAGE_DIST, 'index.html'))) {
    const b = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('dashboard build failed');
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
}
