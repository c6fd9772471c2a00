// One contract, every store: each backend listed in test/helpers/stores.ts
// must pass every case here, first through the Store interface and then
// through a DuckQueue that uses it.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ErrorRow,
  NewJobRow,
  Store,
} from '../src/store/types.js';
import { storeFactories } from './helpers/stores.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';
import { queueContract } from './helpers/queue-contract.js';

const T0 = 1_700_000_000_000;
const VT = 30_000;

function job(over: Partial<NewJobRow> = {}): NewJobRow {
  return {
    queue: 'default',
    payload: new Uint8Array([1, 2, 3]),
    format: 'json',
    fnName: 'task',
    priority: 50,
    runAt: T0,
    maxAttempts: 3,
    timeoutMs: null,
    createdAt: T0,
    ...over,
  };
}

function err(message: string, value: Uint8Array | null = null): ErrorRow {
  return { name: 'Error', message, stack: `Error: ${message}\n    at x`, value };
}

const claimReq = (over: Partial<{ queue: string; workerId: string; now: number }> = {}) => ({
  queue: 'default',
  workerId: 'w1',
  now: T0,
  visibilityTimeoutMs: VT,
  ...over,
});

afterAll(removeTempDirs);

for (const factory of storeFactories) {
  const skip = factory.unavailable ? await factory.unavailable() : null;

  describe.skipIf(skip !== null)(`store contract: ${factory.name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await factory.create(tempDir());
    });
    afterEach(async () => {
      await store.close();
    });

    it('migrates idempotently', async () => {
      await store.migrate();
      await store.migrate();
      expect(await store.stats(undefined, T0)).toEqual({
        pending: 0,
        delayed: 0,
        claimed: 0,
        done: 0,
        failed: 0,
        dead: 0,
      });
    });

    it('enqueues and reads back every field', async () => {
      const id = await store.enqueue(
        job({ priority: 7, timeoutMs: 900, fnName: 'add', format: 'v8' }),
      );
      expect(typeof id).toBe('string');
      const row = await store.getJob(id, T0);
      expect(row).toMatchObject({
        id,
        queue: 'default',
        status: 'pending',
        format: 'v8',
        fnName: 'add',
        priority: 7,
        attempts: 0,
        maxAttempts: 3,
        timeoutMs: 900,
        runAt: T0,
        createdAt: T0,
        claimedAt: null,
        claimedBy: null,
        finishedAt: null,
        result: null,
        lastError: null,
      });
      expect([...row!.payload]).toEqual([1, 2, 3]);
    });

    it('gives distinct ids in input order for a batch', async () => {
      const ids = await store.enqueueMany([
        job({ fnName: 'a' }),
        job({ fnName: 'b' }),
        job({ fnName: 'c' }),
      ]);
      expect(new Set(ids).size).toBe(3);
      const names = await Promise.all(
        ids.map(async (id) => (await store.getJob(id, T0))!.fnName),
      );
      expect(names).toEqual(['a', 'b', 'c']);
      expect(await store.enqueueMany([])).toEqual([]);
    });

    it('returns null for unknown or malformed ids', async () => {
      expect(await store.getJob('999999', T0)).toBeNull();
      expect(await store.getJob('not-an-id', T0)).toBeNull();
      expect(await store.ack('nope', null, T0)).toBe(false);
    });

    it('claims higher priority first, FIFO within a priority', async () => {
      const low1 = await store.enqueue(job({ priority: 10 }));
      const high1 = await store.enqueue(job({ priority: 90 }));
      const low2 = await store.enqueue(job({ priority: 10 }));
      const high2 = await store.enqueue(job({ priority: 90 }));
      const mid = await store.enqueue(job({ priority: 50 }));
      const order: string[] = [];
      for (;;) {
        const c = await store.claim(claimReq());
        if (!c) break;
        order.push(c.id);
      }
      expect(order).toEqual([high1, high2, mid, low1, low2]);
    });

    it('does not claim a job before its runAt and reports it delayed', async () => {
      const id = await store.enqueue(job({ runAt: T0 + 1000 }));
      expect((await store.getJob(id, T0))!.status).toBe('delayed');
      expect(await store.claim(claimReq())).toBeNull();
      const later = await store.claim(claimReq({ now: T0 + 1000 }));
      expect(later?.id).toBe(id);
    });

    it('claims only from the asked queue', async () => {
      await store.enqueue(job({ queue: 'other' }));
      expect(await store.claim(claimReq())).toBeNull();
      expect(await store.claim(claimReq({ queue: 'other' }))).not.toBeNull();
    });

    it('records the claim: attempt, holder, expiry', async () => {
      const id = await store.enqueue(job({ timeoutMs: 5000 }));
      const c = await store.claim(claimReq({ workerId: 'w9', now: T0 + 5 }));
      expect(c).toMatchObject({
        id,
        status: 'claimed',
        attempts: 1,
        claimedBy: 'w9',
        claimedAt: T0 + 5,
        // The claim covers the job's own time limit plus the visibility
        // timeout.
        claimExpiresAt: T0 + 5 + VT + 5000,
      });
      expect((await store.getJob(id, T0 + 5))!.status).toBe('claimed');
    });

    it('claims a batch in claim order, never the same job twice', async () => {
      const ids = await store.enqueueMany(
        Array.from({ length: 10 }, (_, i) => job({ priority: i % 2 ? 80 : 20 })),
      );
      const first = await store.claimMany(claimReq(), 4);
      const second = await store.claimMany(claimReq({ workerId: 'w2' }), 100);
      expect(first).toHaveLength(4);
      expect(second).toHaveLength(6);
      const expected = [
        ...ids.filter((_, i) => i % 2),
        ...ids.filter((_, i) => !(i % 2)),
      ];
      expect([...first, ...second].map((j) => j.id)).toEqual(expected);
      expect(await store.claimMany(claimReq(), 5)).toEqual([]);
      expect(await store.claimMany(claimReq(), 0)).toEqual([]);
    });

    it('never hands one job to two concurrent claimers', async () => {
      await store.enqueueMany(Array.from({ length: 50 }, () => job()));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.claimMany(claimReq({ workerId: `w${i}` }), 3),
        ),
      );
      const ids = results.flat().map((j) => j.id);
      expect(ids).toHaveLength(50);
      expect(new Set(ids).size).toBe(50);
    });

    it('acks a claimed job with its result', async () => {
      const id = await store.enqueue(job());
      const c = await store.claim(claimReq());
      const fence = { workerId: 'w1', attempt: c!.attempts };
      expect(await store.ack(id, new Uint8Array([9]), T0 + 10, fence)).toBe(true);
      const row = await store.getJob(id, T0 + 10);
      expect(row).toMatchObject({ status: 'done', finishedAt: T0 + 10 });
      expect([...row!.result!]).toEqual([9]);
      // A second ack finds no claim.
      expect(await store.ack(id, null, T0 + 11)).toBe(false);
    });

    it('refuses updates from a claim that no longer holds', async () => {
      const id = await store.enqueue(job());
      await store.claim(claimReq({ workerId: 'w1' }));
      const stale = { workerId: 'w1', attempt: 1 };
      const other = { workerId: 'w2', attempt: 1 };
      expect(await store.ack(id, null, T0, other)).toBe(false);
      // The claim lapses and another worker takes the job.
      await store.recoverExpired({ now: T0 + VT, error: err('lapsed') });
      const again = await store.claim(claimReq({ workerId: 'w2', now: T0 + VT }));
      expect(again?.attempts).toBe(2);
      expect(await store.ack(id, null, T0 + VT, stale)).toBe(false);
      expect(await store.fail(id, { error: err('x'), status: 'failed', now: T0 }, stale)).toBe(false);
      expect(await store.ack(id, null, T0 + VT, { workerId: 'w2', attempt: 2 })).toBe(true);
    });

    it('schedules a retry with the error kept', async () => {
      const id = await store.enqueue(job());
      await store.claim(claimReq());
      const e = err('boom', new Uint8Array([4, 2]));
      expect(await store.retry(id, { error: e, runAt: T0 + 500, now: T0 })).toBe(true);
      const row = await store.getJob(id, T0);
      expect(row).toMatchObject({ status: 'delayed', attempts: 1, runAt: T0 + 500 });
      expect(row!.lastError).toMatchObject({ name: 'Error', message: 'boom', stack: e.stack });
      expect([...row!.lastError!.value!]).toEqual([4, 2]);
      expect(await store.claim(claimReq({ now: T0 + 499 }))).toBeNull();
      const c = await store.claim(claimReq({ now: T0 + 500 }));
      expect(c).toMatchObject({ id, attempts: 2 });
    });

    it('fails a job as failed or dead, keeping the error', async () => {
      const [a, b] = await store.enqueueMany([job(), job()]);
      await store.claimMany(claimReq(), 2);
      await store.fail(a!, { error: err('bad bytes'), status: 'failed', now: T0 + 1 });
      await store.fail(b!, { error: err('gave up'), status: 'dead', now: T0 + 2 });
      const ra = await store.getJob(a!, T0 + 3);
      const rb = await store.getJob(b!, T0 + 3);
      expect(ra).toMatchObject({ status: 'failed', finishedAt: T0 + 1 });
      expect(ra!.lastError!.message).toBe('bad bytes');
      expect(rb).toMatchObject({ status: 'dead', finishedAt: T0 + 2 });
      expect(rb!.lastError!.stack).toContain('gave up');
    });

    it('releases a claim without counting the attempt', async () => {
      const id = await store.enqueue(job());
      await store.claim(claimReq());
      expect(await store.release(id, T0 + 1)).toBe(true);
      expect(await store.getJob(id, T0 + 1)).toMatchObject({
        status: 'pending',
        attempts: 0,
      });
      expect(await store.release(id, T0 + 1)).toBe(false);
    });

    it('extends a claim so recovery leaves it alone', async () => {
      const id = await store.enqueue(job());
      await store.claim(claimReq());
      expect(await store.extendClaim(id, T0 + 3 * VT, T0 + VT / 2)).toBe(true);
      const r = await store.recoverExpired({ now: T0 + 2 * VT, error: err('x') });
      expect(r).toEqual({ requeued: 0, dead: 0 });
      expect((await store.getJob(id, T0))!.claimExpiresAt).toBe(T0 + 3 * VT);
    });

    it('recovers lapsed claims: back to pending, or dead on the last attempt', async () => {
      const [a, b, c] = await store.enqueueMany([
        job({ maxAttempts: 2 }),
        job({ maxAttempts: 1 }),
        job({ queue: 'q2' }),
      ]);
      await store.claimMany(claimReq(), 2);
      await store.claim(claimReq({ queue: 'q2', now: T0 + VT }));
      const lapse = err('claim lapsed');
      expect(await store.recoverExpired({ now: T0 + VT - 1, error: lapse }))
        .toEqual({ requeued: 0, dead: 0 });
      expect(await store.recoverExpired({ now: T0 + VT, error: lapse }))
        .toEqual({ requeued: 1, dead: 1 });
      expect(await store.getJob(a!, T0 + VT)).toMatchObject({
        status: 'pending',
        attempts: 1,
      });
      const dead = await store.getJob(b!, T0 + VT);
      expect(dead).toMatchObject({ status: 'dead', finishedAt: T0 + VT });
      expect(dead!.lastError!.message).toBe('claim lapsed');
      // The q2 claim was taken later and has not lapsed yet; a queue filter
      // limits recovery to that queue.
      expect((await store.getJob(c!, T0 + VT))!.status).toBe('claimed');
      expect(await store.recoverExpired({ now: T0 + 3 * VT, error: lapse, queue: 'default' }))
        .toEqual({ requeued: 0, dead: 0 });
      expect(await store.recoverExpired({ now: T0 + 3 * VT, error: lapse, queue: 'q2' }))
        .toEqual({ requeued: 1, dead: 0 });
    });

    it('counts jobs per status and queue', async () => {
      const ids = await store.enqueueMany([
        job(),
        job(),
        job({ runAt: T0 + 100 }),
        job(),
        job(),
        job({ queue: 'other' }),
      ]);
      const claimed = await store.claimMany(claimReq(), 3);
      await store.ack(claimed[0]!.id, null, T0);
      await store.fail(claimed[1]!.id, { error: err('x'), status: 'failed', now: T0 });
      expect(await store.stats('default', T0)).toEqual({
        pending: 1,
        delayed: 1,
        claimed: 1,
        done: 1,
        failed: 1,
        dead: 0,
      });
      expect(await store.stats(undefined, T0)).toMatchObject({ pending: 2 });
      expect(await store.stats('default', T0 + 100)).toMatchObject({
        pending: 2,
        delayed: 0,
      });
      expect(await store.stats('nothing-here', T0)).toMatchObject({ pending: 0 });
      expect(await store.countWaiting('default')).toBe(2);
      expect(await store.queues()).toEqual(['default', 'other']);
      expect(ids).toHaveLength(6);
    });

    it('lists jobs newest first with filters and paging', async () => {
      const ids = await store.enqueueMany([
        job(),
        job({ queue: 'b' }),
        job({ runAt: T0 + 50 }),
        job(),
      ]);
      const all = await store.listJobs({ now: T0 });
      expect(all.map((j) => j.id)).toEqual([...ids].reverse());
      const pending = await store.listJobs({ now: T0, status: 'pending', queue: 'default' });
      expect(pending.map((j) => j.id)).toEqual([ids[3], ids[0]]);
      const delayed = await store.listJobs({ now: T0, status: 'delayed' });
      expect(delayed.map((j) => j.id)).toEqual([ids[2]]);
      const page = await store.listJobs({ now: T0, limit: 2, offset: 1 });
      expect(page.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    });

    it('purges finished jobs by status, age and queue', async () => {
      const ids = await store.enqueueMany([job(), job(), job(), job({ queue: 'b' })]);
      const c = await store.claimMany(claimReq(), 3);
      await store.ack(c[0]!.id, null, T0 + 10);
      await store.ack(c[1]!.id, null, T0 + 20);
      await store.fail(c[2]!.id, { error: err('x'), status: 'dead', now: T0 });
      expect(await store.purge({ status: 'done', finishedBefore: T0 + 10 })).toBe(1);
      expect(await store.getJob(ids[0]!, T0)).toBeNull();
      expect(await store.getJob(ids[1]!, T0)).not.toBeNull();
      expect(await store.purge({ status: 'dead', finishedBefore: T0, queue: 'b' })).toBe(0);
      expect(await store.purge({ status: 'dead', finishedBefore: T0 })).toBe(1);
      // Waiting jobs are never purged.
      expect(await store.getJob(ids[3]!, T0)).toMatchObject({ status: 'pending' });
    });

    it('requeues failed and dead jobs with attempts reset', async () => {
      const [a, b] = await store.enqueueMany([job(), job()]);
      await store.claimMany(claimReq(), 2);
      await store.fail(a!, { error: err('x'), status: 'dead', now: T0 });
      await store.ack(b!, null, T0);
      expect(await store.requeue(a!, T0 + 5)).toBe(true);
      expect(await store.getJob(a!, T0 + 5)).toMatchObject({
        status: 'pending',
        attempts: 0,
        finishedAt: null,
        runAt: T0 + 5,
      });
      expect(await store.requeue(b!, T0 + 5)).toBe(false);
      expect(await store.requeue('12345678', T0)).toBe(false);
    });
  });

  describe.skipIf(skip !== null)(`queue contract: ${factory.name}`, () => {
    queueContract(factory);
  });
}
