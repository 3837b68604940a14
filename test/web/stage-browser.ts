/**
 * Chromium for the suites that run the built dashboard against the scripted server (`stage.ts`): builds the
 * dashboard when missing (unless `STAGE_DIST` points at another build), launches a headless browser and
 * makes the artifacts folder for screenshots and figures. `useStageBrowser()` gives a suite one browser for
 * all its tests and a fresh stage and context per test, closed after each.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { REPO_ROOT } from '../helpers/server.js';
import { CHROMIUM_PATH } from '../helpers/services.js';
import { ARTIFACTS } from './browser.js';
import { Stage } from './stage.js';

/** The dashboard build the stage serves: `STAGE_DIST` (e.g. an older build, to show a test fails there) or ours. */
export const STAGE_DIST = process.env.STAGE_DIST ?? join(REPO_ROOT, 'dist/web');
export { ARTIFACTS };

export async function launchStageBrowser(): Promise<Browser> {
  if (!process.env.STAGE_DIST && !existsSync(join(STAGE_DIST, 'index.html'))) {
    const b = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('dashboard build failed');
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
}

/** A dark screen `width` px wide; at phone widths (≤ 480 px) a touch device. */
export function screen(width: number, height = 900): BrowserContextOptions {
  return { viewport: { width, height }, colorScheme: 'dark', isMobile: width <= 480, hasTouch: width <= 480 };
}

export interface StageOpen {
  /** The browser context (viewport, colour scheme, time zone…). */
  context: BrowserContextOptions;
  /** Fills the stage before the page connects (its first snapshot carries what is set here). */
  script?: (stage: Stage) => void;
  /** The page's default timeout for every wait (ms). */
  timeoutMs?: number;
  /** Waits for the connection status to say live (default true). */
  live?: boolean;
}

export interface StageBrowser {
  /** The stage of the test's last `open`. */
  readonly stage: Stage;
  /** Starts a stage and opens the dashboard on it in a new context of the suite's browser. */
  open(opts: StageOpen): Promise<Page>;
  /** Closes the context and stops the stage (done after every test; a test may do it to open again). */
  reset(): Promise<void>;
}

/** Registers the suite's hooks (call it in the describe body): the browser for the suite, stage and context per test. */
export function useStageBrowser(): StageBrowser {
  let browser: Browser | undefined;
  let stage: Stage | undefined;
  let context: BrowserContext | null = null;
  const reset = async (): Promise<void> => {
    await context?.close();
    context = null;
    await stage?.stop();
    stage = undefined;
  };
  beforeAll(async () => {
    browser = await launchStageBrowser();
  });
  afterEach(reset);
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get stage(): Stage {
      if (!stage) throw new Error('no stage: open() first');
      return stage;
    },
    reset,
    async open(opts: StageOpen): Promise<Page> {
      if (!browser) throw new Error('no browser: useStageBrowser() belongs in a describe body');
      stage = await Stage.start({ staticDir: STAGE_DIST });
      opts.script?.(stage);
      context = await browser.newContext(opts.context);
      const page = await context.newPage();
      page.setDefaultTimeout(opts.timeoutMs ?? 10_000);
      await page.goto(stage.url);
      if (opts.live ?? true) await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
      return page;
    },
  };
}
