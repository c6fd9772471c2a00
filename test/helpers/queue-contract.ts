// The queue half of the store contract: the same DuckQueue behaviour on
// every store. Called by test/store-contract.test.ts for each factory.

import { afterEach, beforeEach, expect, it } from 'vitest';
import { DuckQueue, JobFailedError, Worker } from '../../src/index.js';
import { registerTask } from '../../src/serialize/index.js';
import type { StoreFactory } from './stores.js';
import { tempDir } from './tmp.js';

function triple(n: number): number {
  return n * 3;
}
function alwaysFails(): never {
  throw new RangeError('always');
}
registerTask('contract.triple', triple);
registerTask('contract.alwaysFails', alwaysFails);

const T0 = 1_700_000_000_000;

export function queueContract(factory: StoreFactory): void {
  let now = T0;
  let q: DuckQueue;

  beforeEach(async () => {
    now = T0;
    const store = await factory.create(tempDir());
    q = await DuckQueue.open(`contract-${factory.name}`, {
      store,
      serialization: 'json',
      clock: () => now,
      visibilityTimeoutMs: 1_000,
      recoverIntervalMs: 0,
      backoff: { baseMs: 100 },
    });
  });
  afterEach(async () => {
    await q.close();
  });

  it('enqueues, claims in priority order, acks and returns results', async () => {
    const low = await q.enqueue(triple, { args: [1], priority: 1 });
    const high = await q.enqueue(triple, { args: [2], priority: 99 });
    const first = (await q.claim({ workerId: 'w' }))!;
    expect(first.id).toBe(high);
    const call = await q.load(first);
    await q.ack(first, call.fn(...call.args));
    expect(await q.result(high)).toBe(6);
    expect(await q.stats('default')).toMatchObject({ pending: 1, done: 1 });
    expect((await q.claim({ workerId: 'w' }))!.id).toBe(low);
  });

  it('retries with backoff, then keeps the dead job and its error', async () => {
    const id = await q.enqueue(alwaysFails, { maxAttempts: 2 });
    const job = (await q.claim({ workerId: 'w' }))!;
    expect(await q.nack(job, new RangeError('first'))).toEqual({
      status: 'delayed',
      retryInMs: 100,
    });
    expect(await q.claim({ workerId: 'w' })).toBeNull();
    now += 100;
    const again = (await q.claim({ workerId: 'w' }))!;
    expect(again.attempt).toBe(2);
    expect(await q.nack(again, new RangeError('second'))).toEqual({ status: 'dead' });
    const err = await q.result(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailedError);
    expect((err as JobFailedError).stored.message).toBe('second');
    await q.retry(id);
    expect((await q.getJob(id)).status).toBe('pending');
  });

  it('recovers a lapsed claim and refuses the stale claimer', async () => {
    const id = await q.enqueue(triple, { args: [1] });
    const stale = (await q.claim({ workerId: 'gone' }))!;
    now += 1_000;
    const fresh = (await q.claim({ workerId: 'w' }))!;
    expect(fresh).toMatchObject({ id, attempt: 2 });
    expect(await q.ack(stale, 0)).toBe(false);
    expect(await q.ack(fresh, 3)).toBe(true);
  });

  it('runs a batch to completion with a worker', async () => {
    const ids = await q.enqueueBatch(
      Array.from({ length: 30 }, (_, i) => ({ fn: triple, args: [i] })),
    );
    const worker = new Worker(q, { concurrency: 3, pollMs: 5 });
    const summary = await worker.run({ untilEmpty: true });
    expect(summary).toEqual({ done: 30, failed: 0, released: 0 });
    expect(await q.result(ids[29]!)).toBe(87);
  });

  it('purges finished jobs', async () => {
    await q.enqueue(triple, { args: [1] });
    await q.ack((await q.claim({ workerId: 'w' }))!, 3);
    now += 10;
    expect(await q.purge({ status: 'done', olderThanMs: 0 })).toBe(1);
    expect(await q.stats()).toMatchObject({ done: 0 });
  });
}
