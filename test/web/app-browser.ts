/**
 * Chromium against a real in-process server (test/api/harness.ts) serving the built dashboard, for the
 * browser suites that need the real routes and stream: `useAppBrowser()` registers the suite's cleanup (the
 * browser and every app closed after each test) and hands out the two steps each test takes.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterEach } from 'vitest';
import type { BuildAppOptions } from '../../server/app.js';
import { trackApps, type TestApp } from '../api/harness.js';
import { REPO_ROOT } from '../helpers/server.js';
import { ensureDashboardBuilt, launchChromium, type ChromiumSession } from './browser.js';

export interface AppBrowserOpen {
  /** Default 1440×900. */
  viewport?: { width: number; height: number };
  /** The page's default timeout for every wait (ms); default 15 s. */
  timeoutMs?: number;
  /** Runs before the dashboard loads (e.g. to listen to every request it makes). */
  beforeLoad?: (page: Page) => void;
}

export interface AppBrowser {
  /** Builds the dashboard when missing, then a test app serving it on a free port of 127.0.0.1. */
  serve(opts?: BuildAppOptions): Promise<{ a: TestApp; port: number }>;
  /** A fresh Chromium with the dashboard of the app on `port` open and its stream live. */
  open(port: number, opts?: AppBrowserOpen): Promise<Page>;
}

/** Call it in the describe body: closes the browser, then every app, after each test. */
export function useAppBrowser(): AppBrowser {
  let session: ChromiumSession | null = null;
  const apps = trackApps();
  afterEach(async () => {
    await session?.close();
    session = null;
    await apps.closeAll();
  });
  return {
    serve(opts: BuildAppOptions = {}) {
      ensureDashboardBuilt();
      return apps.serve({ staticDir: join(REPO_ROOT, 'dist/web'), ...opts });
    },
    async open(port: number, opts: AppBrowserOpen = {}): Promise<Page> {
      session = await launchChromium({ viewport: opts.viewport });
      const page = session.page;
      page.setDefaultTimeout(opts.timeoutMs ?? 15_000);
      opts.beforeLoad?.(page);
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.locator('[data-testid="conn-status"][data-status="live"]').waitFor();
      return page;
    },
  };
}
