import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
const api = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs');
const target = new URL('../../../server/persistence/string-table.ts', import.meta.url).href;
const w = new Worker(`import(${JSON.stringify('file://' + api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); }).then((x) => console.log('loaded', Object.keys(x)))`, { eval: true });
w.on('error', (e) => console.log('err', e));
w.on('exit', () => console.log('exit'));
