#!/usr/bin/env node
// `npm start`: builds the server and the dashboard when their sources changed since the last build
// (scripts/build.mjs), then runs the compiled server IN THIS PROCESS. With `exec` in the npm script (no
// shell left in between), npm's child is the server itself: `kill -TERM <npm pid>` reaches it (npm
// forwards SIGINT/SIGTERM to its child) and it shuts down gracefully. Arguments after `npm start --` go
// to the server (e.g. `--record FILE`). Where `exec` is unknown (Windows cmd): `node scripts/start.mjs`.
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, buildIfChanged } from './build.mjs';

if (!buildIfChanged()) process.exit(1);
// Node >= 22.1 keeps V8's compiled code for the modules between starts (faster start); not in Node 20.
module.enableCompileCache?.();
await import(pathToFileURL(join(ROOT, 'dist/server/main.js')).href);
