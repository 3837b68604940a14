/** Worker for pipeline.test.ts: attaches to the shared ring and produces `count` quotes, retrying when full. */
import { parentPort, workerData } from 'node:worker_threads';
import { MarketPipeline, type PipelineBuffers } from '../../server/engine/pipeline.js';

const { buffers, count } = workerData as { buffers: PipelineBuffers; count: number };
const ring = new MarketPipeline(buffers);
let retries = 0;
for (let i = 0; i < count; i++) {
  // bid = i, ask = i + 1, sizes and times derived from i so the consumer can check every field
  while (!ring.pushQuote(i % 1000, i, i + 1, i * 2, i * 3, i + 0.5, i * 10)) retries++;
}
parentPort?.postMessage({ done: count, retries });
