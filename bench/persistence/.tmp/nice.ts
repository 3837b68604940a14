import { Worker } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
const w = new Worker(`const os = require('node:os'); os.setPriority(0, 10); setTimeout(() => {}, 500);`, { eval: true });
setTimeout(() => {
  for (const t of readdirSync('/proc/self/task')) {
    const st = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    console.log(t, readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim(), 'nice', f[16]);
  }
  void w.terminate();
}, 200);
