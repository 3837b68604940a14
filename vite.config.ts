/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// One config for the dashboard build (root web/, output dist/web) and for Vitest (tests under test/).
export default defineConfig({
  root: here('./web'),
  // Relative asset paths so the built dashboard works under any reverse-proxy sub-path (BASE_PATH).
  base: './',
  plugins: [svelte()],
  build: { outDir: here('./dist/web'), emptyOutDir: true },
  test: {
    root: here('.'),
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: most of a file's time is spent waiting on real servers, browsers and Redis, and
    // Vitest's default on a 2-core machine is one worker (a serial suite of ~10 min).
    maxWorkers: 2,
    // expect.poll waits on real servers and a real browser on a shared 2-core machine: Vitest's 1 s default
    // is shorter than one stalled paint plus a server round trip.
    expect: { poll: { timeout: 10_000 } },
  },
});
