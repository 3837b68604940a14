/**
 * Real Chromium (playwright-core, headless) for the browser tests that run against a real server process:
 * the built dashboard (built once when dist/web is missing), a browser on a throwaway profile, the
 * dashboard opened in it, and the server's REST API with a bearer token.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, type ServerProcess } from '../helpers/server.js';
import { CHROMIUM_PATH } from '../helpers/services.js';

/** Where browser tests leave screenshots and figures. */
export const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

/** Builds the dashboard into dist/web unless it is there already (the server serves it from there). */
export function ensureDashboardBuilt(): void {
  if (existsSync(join(REPO_ROOT, 'dist/web/index.html'))) return;
  const b = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (b.status !== 0) throw new Error('dashboard build failed');
}

export interface ChromiumSession {
  context: BrowserContext;
  /** The context's first page. */
  page: Page;
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile in a temp dir; no background traffic, no QUIC. */
export async function launchChromium(opts: { viewport?: { width: number; height: number } } = {}): Promise<ChromiumSession> {
  const profileDir = mkdtempSync(join(tmpdir(), 'perpscan-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      viewport: opts.viewport ?? { width: 1440, height: 900 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      context,
      page,
      close: async () => {
        await context.close();
        rmSync(profileDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(profileDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Chromium with the dashboard of `server` open (20 s default timeout for every wait). `apiToken` is put in
 * the dashboard's storage before it loads, as a user who entered it earlier.
 */
export async function openDashboard(server: ServerProcess, opts: { apiToken?: string } = {}): Promise<ChromiumSession> {
  const session = await launchChromium();
  try {
    session.page.setDefaultTimeout(20_000);
    if (opts.apiToken !== undefined) await session.page.addInitScript((token) => localStorage.setItem('perpscan.apiToken', token), opts.apiToken);
    await session.page.goto(`${server.baseUrl}/`);
    return session;
  } catch (err) {
    await session.close();
    throw err;
  }
}

/** `api(server, path, init)`: a JSON request to the server's /api with `token`; throws on a non-2xx answer. */
export function bearerApi(token: string): <T>(server: ServerProcess, path: string, init?: { method?: string; body?: unknown }) => Promise<T> {
  return async <T>(server: ServerProcess, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> => {
    const res = await fetch(`${server.baseUrl}/api/${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
}
