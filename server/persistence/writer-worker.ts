/**
 * Entry point of the Redis writer thread (started by RedisPersistence): encoding and every Redis
 * round trip of the write-behind run here, so they never occupy the detection thread's event loop.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchWriter } from './batch-writer.js';
import type { MainToWriter, WriterThreadOptions, WriterToMain } from './writer-protocol.js';

const port = parentPort;
if (!port) throw new Error('writer-worker.ts runs as a worker thread');
const options = workerData as WriterThreadOptions;
// On Linux, priority 0 means the calling THREAD: the writer yields the CPU to the detection thread when
// cores are scarce (elsewhere it would renice the whole process, so it is left alone).
if (process.platform === 'linux' && options.nice !== 0) {
  try {
    setPriority(0, options.nice);
  } catch {
    // not permitted: keep the default priority
  }
}
const writer = new BatchWriter(options, (msg: WriterToMain, transfer?: ArrayBuffer[]) => port.postMessage(msg, transfer));
port.on('message', (msg: MainToWriter) => {
  if (msg.type === 'batch') writer.receive(msg);
  else if (msg.type === 'fence') writer.setFence(msg.fence);
  else if (msg.type === 'close') void writer.close().then(() => port.close());
});
void writer.open();
