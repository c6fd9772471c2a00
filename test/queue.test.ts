// DuckQueue semantics on a real SQLite file: ordering, delays, retries and
// backoff, dead letters, recovery of lapsed claims, backpressure, results,
// purge and bad input. Jobs use the 'json' serializer with registered
// tasks (functions in a vitest-loaded file have no real module identity).
// A settable clock makes every time-dependent case exact.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DuckQueue,
  InvalidOptionError,
  JobFailedError,
  JobNotFoundError,
  JobStateError,
  QueueClosedError,
  QueueFullError,
  ResultDecodingError,
  ResultEncodingError,
  ResultTimeoutError,
  UnknownStoreError,
} from '../src/index.js';
import type { BackpressureEvent } from '../src/queue/backpressure.js';
import type { ClaimedJob } from '../src/queue/job.js';
import { registerTask } from '../src/serialize/index.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const T0 = 1_700_000_000_000;

function square(n: number): number {
  return n * n;
}
function noop(): void {}
function richResult() {
  return {
    when: new Date(T0),
    big: 2n ** 70n,
    map: new Map([['a', new Set([1, 2])]]),
  };
}
registerTask('square', square);
registerTask('noop', noop);
registerTask('richResult', richResult);

let now = T0;
let dir: string;
let q: DuckQueue;

async function open(options: Parameters<typeof DuckQueue.open>[1] = {}) {
  return DuckQueue.open(join(dir, 'jobs.db'), {
    serialization: 'json',
    clock: () => now,
    ...options,
  });
}

beforeEach(async () => {
  now = T0;
  dir = tempDir();
  q = await open();
});
afterEach(async () => {
  await q.close();
});
afterAll(removeTempDirs);

const claim = (queue = 'default', workerId = 'w1') =>
  q.claim({ queue, workerId });

async function claimAll(queue = 'default'): Promise<ClaimedJob[]> {
  const out: ClaimedJob[] = [];
  for (let j = await claim(queue); j; j = await claim(queue)) out.push(j);
  return out;
}

describe('enqueue and claim', () => {
  it('stores the function name and format from the payload header', async () => {
    const id = await q.enqueue(square, { args: [4] });
    const job = await q.getJob(id);
    expect(job).toMatchObject({
      id,
      queue: 'default',
      status: 'pending',
      format: 'json',
      fnName: 'square',
      priority: 50,
      attempts: 0,
      maxAttempts: 3,
      timeoutMs: null,
      createdAt: T0,
      runAt: T0,
      lastError: null,
    });
    expect(job.payloadBytes).toBeGreaterThan(0);
  });

  it('runs higher priority first and FIFO within a priority', async () => {
    const a = await q.enqueue(noop, { priority: 10 });
    const b = await q.enqueue(noop, { priority: 100 });
    const c = await q.enqueue(noop, { priority: 10 });
    const d = await q.enqueue(noop, { priority: 0 });
    const e = await q.enqueue(noop, { priority: 100 });
    now += 5;
    const f = await q.enqueue(noop);
    expect((await claimAll()).map((j) => j.id)).toEqual([b, e, f, a, c, d]);
  });

  it('returns null when nothing is ready and keeps queues apart', async () => {
    expect(await claim()).toBeNull();
    await q.enqueue(noop, { queue: 'emails' });
    expect(await claim()).toBeNull();
    expect(await claim('emails')).not.toBeNull();
  });

  it('holds a delayed job until its time, reporting it delayed', async () => {
    const id = await q.enqueue(noop, { delayMs: 5_000 });
    expect((await q.getJob(id)).status).toBe('delayed');
    expect(await q.stats()).toMatchObject({ pending: 0, delayed: 1 });
    now += 4_999;
    expect(await claim()).toBeNull();
    now += 1;
    expect((await claim())?.id).toBe(id);
  });

  it('loads a claimed job back into its function and arguments', async () => {
    await q.enqueue(square, { args: [7] });
    const job = (await claim())!;
    expect(job).toMatchObject({ attempt: 1, claimedBy: 'w1', fnName: 'square' });
    const call = await q.load(job);
    expect(call.fn(...call.args)).toBe(49);
  });

  it('enqueues a batch atomically with shared defaults', async () => {
    const ids = await q.enqueueBatch(
      [
        { fn: square, args: [1] },
        { fn: square, args: [2], priority: 90 },
      ],
      { queue: 'math', priority: 20 },
    );
    expect(ids).toHaveLength(2);
    const [first, second] = await Promise.all(ids.map((id) => q.getJob(id)));
    expect(first).toMatchObject({ queue: 'math', priority: 20 });
    expect(second).toMatchObject({ queue: 'math', priority: 90 });
    // One bad item: nothing from the batch is stored.
    await expect(
      q.enqueueBatch([{ fn: square }, { fn: square, priority: 101 }]),
    ).rejects.toThrow(/enqueueBatch\[1\] options.priority/);
    expect(await q.stats('default')).toMatchObject({ pending: 0 });
  });

  it('forwards the serializer slowSerialization events', async () => {
    await q.close();
    // Threshold 0: every serialization counts as slow.
    q = await open({ serializerOptions: { slowSerializationMs: 0 } });
    const events: unknown[] = [];
    q.on('slowSerialization', (e) => events.push(e));
    await q.enqueue(square, { args: [2] });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ fnName: 'square', format: 'json', thresholdMs: 0 });
  });

  it('counts jobs, bytes and time per format', async () => {
    await q.enqueue(noop);
    await q.enqueueBatch([{ fn: square, args: [1] }, { fn: noop }]);
    const m = q.metrics();
    expect(m.enqueued).toBe(3);
    expect(m.formats.json!.jobs).toBe(3);
    expect(m.formats.json!.bytes).toBe(m.bytes);
    expect(m.serializeMs).toBeGreaterThanOrEqual(0);
  });
});

describe('results', () => {
  it('acks with a result that keeps Date, Map, Set and BigInt', async () => {
    const id = await q.enqueue(richResult);
    const job = (await claim())!;
    const call = await q.load(job);
    expect(await q.ack(job, call.fn())).toBe(true);
    const result = (await q.result(id)) as ReturnType<typeof richResult>;
    expect(result.when).toEqual(new Date(T0));
    expect(result.big).toBe(2n ** 70n);
    expect(result.map.get('a')).toEqual(new Set([1, 2]));
    expect((await q.getJob(id)).result).toEqual(result);
  });

  it('waits for a result that another claimer stores later', async () => {
    const id = await q.enqueue(square, { args: [3] });
    const waiting = q.result(id, { waitMs: 10_000 });
    const job = (await claim())!;
    await q.ack(job.id, 9);
    expect(await waiting).toBe(9);
  });

  it('throws ResultTimeoutError naming the status when unfinished', async () => {
    const id = await q.enqueue(noop);
    const err = await q.result(id, { waitMs: 30 }).catch((e: any) => e);
    expect(err).toBeInstanceOf(ResultTimeoutError);
    expect(err).toMatchObject({ jobId: id, status: 'pending' });
  });

  it('throws JobNotFoundError for an unknown id', async () => {
    await expect(q.result('424242')).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(q.getJob('nope')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('fails a job whose result node:v8 cannot encode', async () => {
    const id = await q.enqueue(noop);
    const job = (await claim())!;
    const err = await q.ack(job, { callback: () => 1 }).catch((e: any) => e);
    expect(err).toBeInstanceOf(ResultEncodingError);
    expect(err.message).toContain(`job ${id}`);
    const record = await q.getJob(id);
    expect(record.status).toBe('failed');
    expect(record.lastError?.name).toBe('ResultEncodingError');
  });
});

describe('failures, retries and dead letters', () => {
  async function failOnce(message: string) {
    const job = (await claim())!;
    return { job, outcome: await q.nack(job, new RangeError(message)) };
  }

  it('retries on an exponential schedule, then marks the job dead', async () => {
    await q.close();
    q = await open({ backoff: { baseMs: 1_000, factor: 3, capMs: 5_000 } });
    const id = await q.enqueue(noop, { maxAttempts: 4 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const { outcome } = await failOnce(`attempt ${attempt}`);
      expect(outcome?.status).toBe('delayed');
      const record = await q.getJob(id);
      expect(record.status).toBe('delayed');
      delays.push(record.runAt - now);
      now = record.runAt;
    }
    // 1000, 1000 * 3, then capped at 5000.
    expect(delays).toEqual([1_000, 3_000, 5_000]);
    const { outcome } = await failOnce('last one');
    expect(outcome).toEqual({ status: 'dead' });
    const dead = await q.getJob(id);
    expect(dead).toMatchObject({ status: 'dead', attempts: 4, finishedAt: now });
    expect(dead.lastError).toMatchObject({ name: 'RangeError', message: 'last one' });
    expect(dead.lastError!.stack).toContain('RangeError: last one');
  });

  it('spreads retries with jitter between half and all of the delay', async () => {
    await q.close();
    q = await open({ backoff: { baseMs: 1_000, jitter: true } });
    for (let i = 0; i < 20; i++) await q.enqueue(noop);
    for (const job of await claimAll()) {
      const outcome = await q.nack(job, new Error('x'));
      expect(outcome!.retryInMs).toBeGreaterThanOrEqual(500);
      expect(outcome!.retryInMs).toBeLessThanOrEqual(1_000);
    }
  });

  it('throws JobFailedError carrying the stored and decoded error', async () => {
    const id = await q.enqueue(noop, { maxAttempts: 1 });
    const job = (await claim())!;
    const thrown = Object.assign(new TypeError('bad input'), {
      code: 'E_BAD',
      details: new Map([['field', 'email']]),
    });
    await q.nack(job, thrown);
    const err: any = await q.result(id).catch((e: any) => e);
    expect(err).toBeInstanceOf(JobFailedError);
    expect(err).toMatchObject({ jobId: id, status: 'dead' });
    expect(err.stored).toMatchObject({ name: 'TypeError', message: 'bad input' });
    expect(err.stored.stack).toContain('bad input');
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(err.cause.code).toBe('E_BAD');
    expect(err.cause.details.get('field')).toBe('email');
  });

  it('keeps a non-Error throw readable', async () => {
    const id = await q.enqueue(noop, { maxAttempts: 1 });
    await q.nack((await claim())!, 'just a string');
    const record = await q.getJob(id);
    expect(record.lastError).toMatchObject({ name: 'NonErrorThrown' });
    expect(record.lastError!.message).toContain('just a string');
  });

  it('fail() ends a job failed at once, without retries', async () => {
    const id = await q.enqueue(noop, { maxAttempts: 5 });
    expect(await q.fail((await claim())!, new Error('permanent'))).toEqual({
      status: 'failed',
    });
    expect(await q.getJob(id)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('retry() moves dead and failed jobs back to pending', async () => {
    const id = await q.enqueue(noop, { maxAttempts: 1 });
    await q.nack((await claim())!, new Error('x'));
    await q.retry(id);
    expect(await q.getJob(id)).toMatchObject({ status: 'pending', attempts: 0 });
    const job = (await claim())!;
    await q.ack(job);
    const err = await q.retry(id).catch((e: any) => e);
    expect(err).toBeInstanceOf(JobStateError);
    expect(err.message).toMatch(/is done; retry\(\) applies only to failed or dead/);
    await expect(q.retry('98765')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('nack by id looks the attempt up', async () => {
    const id = await q.enqueue(noop, { maxAttempts: 1 });
    await claim();
    expect(await q.nack(id, new Error('x'))).toEqual({ status: 'dead' });
    expect(await q.nack(id, new Error('again'))).toBeNull();
  });
});

describe('claims that lapse', () => {
  it('recovers a lapsed claim from claim() and counts the attempt', async () => {
    await q.close();
    q = await open({ visibilityTimeoutMs: 1_000, recoverIntervalMs: 0 });
    const recovered: unknown[] = [];
    q.on('recovered', (r) => recovered.push(r));
    const id = await q.enqueue(noop, { maxAttempts: 2 });
    const first = (await claim('default', 'killed-worker'))!;
    now += 999;
    expect(await claim()).toBeNull();
    now += 1;
    const second = (await claim('default', 'w2'))!;
    expect(second).toMatchObject({ id, attempt: 2, claimedBy: 'w2' });
    expect(recovered).toEqual([{ requeued: 1, dead: 0 }]);
    expect((await q.getJob(id)).lastError?.name).toBe('ClaimExpiredError');
    // The first claimer comes back too late: its outcome is refused.
    expect(await q.ack(first, 'stale')).toBe(false);
    expect(await q.nack(first, new Error('stale'))).toBeNull();
    expect(await q.ack(second, 'fresh')).toBe(true);
    expect(await q.result(id)).toBe('fresh');
  });

  it('marks the job dead when the lapsed claim was its last attempt', async () => {
    await q.close();
    q = await open({ visibilityTimeoutMs: 1_000 });
    const id = await q.enqueue(noop, { maxAttempts: 1 });
    await claim();
    now += 1_000;
    expect(await q.recoverExpired()).toEqual({ requeued: 0, dead: 1 });
    const record = await q.getJob(id);
    expect(record.status).toBe('dead');
    expect(record.lastError!.message).toMatch(/claim lapsed/);
  });

  it('gives a job with a timeout its timeout on top of the visibility timeout', async () => {
    await q.close();
    q = await open({ visibilityTimeoutMs: 1_000 });
    await q.enqueue(noop, { timeoutMs: 5_000 });
    const job = (await claim())!;
    expect(job.claimExpiresAt).toBe(T0 + 6_000);
    now += 5_999;
    expect(await q.recoverExpired()).toEqual({ requeued: 0, dead: 0 });
  });

  it('extendClaim() keeps a running job from being recovered', async () => {
    await q.close();
    q = await open({ visibilityTimeoutMs: 1_000 });
    await q.enqueue(noop);
    const job = (await claim())!;
    now += 900;
    expect(await q.extendClaim(job)).toBe(true);
    now += 900;
    expect(await q.recoverExpired()).toEqual({ requeued: 0, dead: 0 });
  });

  it('release() returns a claimed job without counting the attempt', async () => {
    const id = await q.enqueue(noop);
    expect(await q.release((await claim())!)).toBe(true);
    expect(await q.getJob(id)).toMatchObject({ status: 'pending', attempts: 0 });
  });
});

describe('backpressure', () => {
  it('warns once per crossing and refuses past maxPending', async () => {
    await q.close();
    q = await open({ warnPendingAt: 3, maxPending: 5, pendingRefreshMs: 1_000 });
    const events: BackpressureEvent[] = [];
    q.on('backpressure', (e) => events.push(e));
    for (let i = 0; i < 5; i++) await q.enqueue(noop, { queue: 'mail' });
    expect(events).toEqual([
      { queue: 'mail', waiting: 3, warnPendingAt: 3, maxPending: 5 },
    ]);
    const err = await q.enqueue(noop, { queue: 'mail' }).catch((e: any) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err).toMatchObject({ queue: 'mail', count: 5, limit: 5 });
    expect(err.message).toMatch(/queue 'mail' is full: 5 jobs waiting, limit maxPending 5/);
    // Other queues are counted on their own.
    await q.enqueue(noop, { queue: 'other' });
    // A batch that would pass the limit is refused whole.
    await expect(
      q.enqueueBatch([{ fn: noop }, { fn: noop }], { queue: 'mail' }),
    ).rejects.toBeInstanceOf(QueueFullError);

    // Draining makes room at once, and a later crossing warns again.
    for (const job of await claimAll('mail')) await q.ack(job);
    await q.enqueue(noop, { queue: 'mail' });
    now += 1_000;
    for (let i = 0; i < 3; i++) await q.enqueue(noop, { queue: 'mail' });
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ queue: 'mail', waiting: 3 });
  });
});

describe('operations', () => {
  it('lists jobs by status and queue, newest first', async () => {
    const a = await q.enqueue(noop);
    const b = await q.enqueue(noop, { queue: 'b' });
    const c = await q.enqueue(noop);
    await q.ack((await claim())!);
    expect((await q.listJobs()).map((j) => j.id)).toEqual([c, b, a]);
    expect((await q.listJobs({ status: 'done' })).map((j) => j.id)).toEqual([a]);
    expect((await q.listJobs({ status: 'pending', queue: 'default' })).map((j) => j.id))
      .toEqual([c]);
    expect((await q.listJobs({ limit: 1, offset: 1 })).map((j) => j.id)).toEqual([b]);
  });

  it('purges finished jobs older than a given age', async () => {
    const ids = await q.enqueueBatch([{ fn: noop }, { fn: noop }, { fn: noop }]);
    await q.ack((await claim())!);
    now += 10_000;
    await q.ack((await claim())!);
    expect(await q.purge({ status: 'done', olderThanMs: 5_000 })).toBe(1);
    await expect(q.getJob(ids[0]!)).rejects.toBeInstanceOf(JobNotFoundError);
    expect(await q.purge({ status: 'done', olderThanMs: 0 })).toBe(1);
    expect(await q.stats()).toEqual({
      pending: 1,
      delayed: 0,
      claimed: 0,
      done: 0,
      failed: 0,
      dead: 0,
    });
  });

  it('refuses every call after close()', async () => {
    await q.close();
    await expect(q.enqueue(noop)).rejects.toBeInstanceOf(QueueClosedError);
    await expect(q.stats()).rejects.toThrow(/stats\(\) called on a closed DuckQueue/);
    await q.close();
    q = await open();
  });
});

describe('bad input gets typed errors naming the problem', () => {
  const cases: [string, () => Promise<unknown>, RegExp][] = [
    ['unknown enqueue option', () => q.enqueue(noop, { prority: 5 } as never),
      /enqueue options.prority: unknown option \(did you mean 'priority'\?\); valid options are args, queue, priority, delayMs, maxAttempts, timeoutMs/],
    ['priority out of range', () => q.enqueue(noop, { priority: 500 }),
      /priority must be an integer from 0 \(lowest\) to 100 \(highest\), got 500/],
    ['fractional priority', () => q.enqueue(noop, { priority: 2.5 }), /got 2.5/],
    ['negative delay', () => q.enqueue(noop, { delayMs: -1 }),
      /delayMs: must be a number from 0 to \d+ .*got -1/],
    ['not a function', () => q.enqueue('square' as never),
      /enqueue fn: expected the job function, got "square"/],
    ['bad queue name', () => q.enqueue(noop, { queue: 'has space' }),
      /a queue name is 1-100 characters.*got "has space"/],
    ['maxAttempts 0', () => q.enqueue(noop, { maxAttempts: 0 }),
      /maxAttempts must be an integer of at least 1/],
    ['negative timeout', () => q.enqueue(noop, { timeoutMs: -5 }),
      /timeoutMs must be null \(no limit\) or milliseconds from 1/],
    ['args not an array', () => q.enqueue(noop, { args: 5 as never }),
      /options.args: expected an array of arguments, got 5/],
    ['purge of waiting jobs', () => q.purge({ status: 'pending' as never }),
      /purge status: expected one of done, failed, dead/],
    ['list with a bad status', () => q.listJobs({ status: 'running' as never }),
      /listJobs status: expected one of pending, delayed/],
    ['claim without worker id', () => q.claim({ workerId: '' }),
      /claim workerId: expected a non-empty string/],
    ['unknown open option', () => open({ visibilityTimeout: 5 } as never),
      /visibilityTimeout: unknown option \(did you mean 'visibilityTimeoutMs'\?\)/],
    ['bad backoff option', () => open({ backoff: { base: 5 } as never }),
      /backoff.base: unknown option/],
    ['bad maxPending', () => open({ maxPending: 0 }), /maxPending: must be a number >= 1/],
  ];
  for (const [name, call, message] of cases) {
    it(name, async () => {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('an unknown store name lists the stores', async () => {
    const err = await open({ store: 'redis' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownStoreError);
    expect((err as Error).message).toMatch(/'redis'.*'sqlite', 'duckdb', 'postgres'/);
  });
});

describe('the database file', () => {
  it('is in WAL mode with a busy timeout', async () => {
    await q.enqueue(noop);
    const db = new Database(join(dir, 'jobs.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});

describe('a stored result damaged outside duckqueue', () => {
  it('fails only that job, with ResultDecodingError, and keeps listings readable', async () => {
    const damaged = await q.enqueue(square, { args: [3] });
    const fine = await q.enqueue(square, { args: [4] });
    for (const id of [damaged, fine]) {
      const job = await claim();
      expect(job?.id).toBe(id);
      await q.ack(job!, square(id === damaged ? 3 : 4));
    }
    const db = new Database(join(dir, 'jobs.db'));
    db.prepare('UPDATE jobs SET result = ? WHERE id = ?').run(
      Buffer.from([0xff, 0x00, 0xff]),
      Number(damaged),
    );
    db.close();
    await expect(q.result(damaged)).rejects.toThrow(ResultDecodingError);
    const record = await q.getJob(damaged);
    expect(record.result).toBeUndefined();
    expect(record.resultError).toMatch(/stored result of job \d+ cannot be read/);
    expect(await q.result(fine)).toBe(16);
    const done = await q.listJobs({ status: 'done' });
    expect(done.map((j) => j.id).sort()).toEqual([damaged, fine].sort());
  });
});
