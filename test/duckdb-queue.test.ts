// DuckQueue and Worker on a DuckDB file (store: 'duckdb'): the queue-level
// behaviour users see, end to end. Jobs use the 'json' serializer with
// registered tasks (functions in a vitest-loaded file have no module
// identity for 'v8').

import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckQueue, JobFailedError, Worker } from '../src/index.js';
import { registerTask } from '../src/serialize/index.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

afterAll(removeTempDirs);

function duckdbSquare(n: number): number {
  return n * n;
}
function duckdbBoom(message: string): never {
  throw new TypeError(message);
}
registerTask('duckdbSquare', duckdbSquare);
registerTask('duckdbBoom', duckdbBoom);
const square = duckdbSquare;
const boom = duckdbBoom;

async function openQueue(file: string) {
  return DuckQueue.open(file, {
    store: 'duckdb',
    serialization: 'json',
    backoff: { baseMs: 1, capMs: 1 },
  });
}

describe('DuckQueue with store: duckdb', () => {
  it('runs jobs to done with results, in priority order', async () => {
    const q = await openQueue(join(tempDir(), 'jobs.duckdb'));
    const low = await q.enqueue(square, { args: [3], priority: 10 });
    const ids = await q.enqueueBatch(
      [4, 5, 6].map((n) => ({ fn: square, args: [n] })),
      { priority: 90 },
    );
    const first = await q.claim({ workerId: 'peek' });
    expect(first?.id).toBe(ids[0]);
    expect(await q.release(first!)).toBe(true);

    const worker = new Worker(q, { concurrency: 2, pollMs: 5 });
    await worker.run({ untilEmpty: true });
    expect(await q.result(low)).toBe(9);
    expect(await Promise.all(ids.map((id) => q.result(id)))).toEqual([16, 25, 36]);
    expect(await q.stats()).toMatchObject({ done: 4, pending: 0, claimed: 0 });
    await q.close();
  });

  it('retries, then keeps a dead letter with its error', async () => {
    const q = await openQueue(join(tempDir(), 'jobs.duckdb'));
    const id = await q.enqueue(boom, { args: ['no disk'], maxAttempts: 2 });
    const worker = new Worker(q, { pollMs: 5 });
    await worker.run({ untilEmpty: true });
    const job = await q.getJob(id);
    expect(job).toMatchObject({ status: 'dead', attempts: 2 });
    expect(job.lastError).toMatchObject({ name: 'TypeError', message: 'no disk' });
    await expect(q.result(id)).rejects.toBeInstanceOf(JobFailedError);
    await q.close();
  });

  it('keeps the job history in a file DuckDB can query after close', async () => {
    const file = join(tempDir(), 'jobs.duckdb');
    const q = await openQueue(file);
    await q.enqueueBatch([1, 2, 3].map((n) => ({ fn: square, args: [n] })));
    await new Worker(q, { pollMs: 5 }).run({ untilEmpty: true });
    await q.close();

    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
    const c = await db.connect();
    const rows = await c.runAndReadAll(
      `SELECT status, fn_name, COUNT(*)::INTEGER FROM jobs GROUP BY ALL`,
    );
    expect(rows.getRows()).toEqual([['done', 'duckdbSquare', 3]]);
    c.closeSync();
    db.closeSync();
  });

  it('lets two queues in one process share the file', async () => {
    // DuckDB's lock keeps other processes out, not this one: a producer
    // queue and a worker queue in one process both work on the file.
    const file = join(tempDir(), 'jobs.duckdb');
    const producer = await openQueue(file);
    const consumer = await openQueue(file);
    const id = await producer.enqueue(square, { args: [7] });
    await new Worker(consumer, { pollMs: 5 }).run({ untilEmpty: true });
    expect(await producer.result(id)).toBe(49);
    await producer.close();
    expect(await consumer.stats()).toMatchObject({ done: 1 });
    await consumer.close();
  });
});
