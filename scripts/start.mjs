#!/usr/bin/env node
// `npm start`: builds the server and the dashboard when their sources changed since the last build
// (scripts/build.mjs), then runs the compiled server IN THIS PROCESS. npm's child is therefore the
// server itself: `kill -TERM <npm pid>` reaches it (npm forwards SIGINT/SIGTERM to its child) and it
// shuts down gracefully. Arguments after `npm start --` go to the server (e.g. `--record FILE`).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, buildIfChanged } from './build.mjs';

if (!buildIfChanged()) process.exit(1);
await import(pathToFileURL(join(ROOT, 'dist/server/main.js')).href);
