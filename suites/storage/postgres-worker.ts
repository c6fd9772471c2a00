// One worker process of the PostgreSQL scaling rows, with its own
// connections, as a worker on another machine would have:
//
//   node --import tsx postgres-worker.ts <url> <schema> <workerId>
//
// Opens the queue and says 'ready' over IPC; on 'go' drains the queue
// with a Worker and answers { done, failed, lastDoneAt }: the jobs it
// finished and when (epoch ms) it finished its last one, so the parent's
// clock stops at the last job and not at the idle checks after it.

import { DuckQueue } from '../../src/queue/queue.js';
import { Worker } from '../../src/worker/worker.js';

const [url, schema, workerId] = process.argv.slice(2);
if (!url || !schema || !workerId || !process.send) {
  console.error('usage (IPC child): postgres-worker.ts <url> <schema> <workerId>');
  process.exit(2);
}

const queue = await DuckQueue.open(url, {
  store: 'postgres',
  storeOptions: { schema, poolSize: 4 } as object,
  serialization: 'v8',
});
const worker = new Worker(queue, { workerId, concurrency: 64, pollMs: 50 });
worker.on('error', (err) => console.error(`worker ${workerId}:`, err));
let lastDoneAt = 0;
worker.on('job:done', () => {
  lastDoneAt = Date.now();
});

process.once('message', async () => {
  const summary = await worker.run({ untilEmpty: true });
  await queue.close();
  const report = { done: summary.done, failed: summary.failed, lastDoneAt };
  process.send!(report, () => {
    process.disconnect();
  });
});
process.send({ ready: true });
