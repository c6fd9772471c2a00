// The Worker in this process on a real SQLite file: running, concurrency,
// weighted queues, retries, timeouts, permanent failures, payloads that
// cannot be loaded, graceful stop, events and logs. Jobs use the 'json'
// serializer with registered tasks.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DuckQueue,
  InvalidOptionError,
  PermanentJobError,
  Worker,
} from '../src/index.js';
import type { JobFailedEvent } from '../src/worker/worker.js';
import { registerTask, unregisterTask } from '../src/serialize/index.js';
import { recordingLogger } from './helpers/logging.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/children.js';

/** A promise the test resolves by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

let blocker = gate();
let active = 0;
let maxActive = 0;
const attemptsSeen = new Map<string, number>();

async function blocked(label: string): Promise<string> {
  active++;
  maxActive = Math.max(maxActive, active);
  await blocker.opened;
  active--;
  return label;
}
function echo(value: unknown): unknown {
  return value;
}
function flaky(key: string, failures: number): string {
  const seen = (attemptsSeen.get(key) ?? 0) + 1;
  attemptsSeen.set(key, seen);
  if (seen <= failures) throw new Error(`failure ${seen} of ${key}`);
  return `ok after ${seen}`;
}
function neverSettles(): Promise<never> {
  return new Promise(() => {});
}
function rejectsInput(): never {
  throw new PermanentJobError('this input can never work');
}
function temporary(): string {
  return 'should not run';
}
registerTask('w.blocked', blocked);
registerTask('w.echo', echo);
registerTask('w.flaky', flaky);
registerTask('w.neverSettles', neverSettles);
registerTask('w.rejectsInput', rejectsInput);

let dir: string;
let q: DuckQueue;

beforeEach(async () => {
  blocker = gate();
  active = 0;
  maxActive = 0;
  dir = tempDir();
  q = await DuckQueue.open(join(dir, 'jobs.db'), {
    serialization: 'json',
    backoff: { baseMs: 0 },
  });
});
afterEach(async () => {
  blocker.open();
  await q.close();
});
afterAll(removeTempDirs);

describe('a queue closed under a running worker', () => {
  it('ends run() instead of retrying claims forever', async () => {
    const worker = new Worker(q, { pollMs: 5 });
    const errors: unknown[] = [];
    worker.on('error', (e) => errors.push(e));
    const running = worker.run();
    await q.enqueue(echo, { args: [1] });
    await q.close();
    const outcome = await Promise.race([
      running.then(() => 'stopped'),
      new Promise((r) => setTimeout(() => r('still running'), 10_000)),
    ]);
    expect(outcome).toBe('stopped');
    expect(errors.filter((e) => (e as Error).name === 'QueueClosedError'))
      .toHaveLength(0);
  });
});

describe('running jobs', () => {
  it('runs every job once and stores results, until empty', async () => {
    const ids = await q.enqueueBatch(
      Array.from({ length: 50 }, (_, i) => ({ fn: echo, args: [i] })),
    );
    const started: string[] = [];
    const worker = new Worker(q, { pollMs: 5 });
    worker.on('job:start', (e) => started.push(e.job.id));
    const summary = await worker.run({ untilEmpty: true });
    expect(summary).toEqual({ done: 50, failed: 0, released: 0 });
    expect(started).toEqual(ids);
    expect(await q.result(ids[49]!)).toBe(49);
    expect(await q.stats()).toMatchObject({ pending: 0, claimed: 0, done: 50 });
  });

  it('runs at most `concurrency` jobs at once', async () => {
    await q.enqueueBatch(
      Array.from({ length: 6 }, (_, i) => ({ fn: blocked, args: [`j${i}`] })),
    );
    const worker = new Worker(q, { concurrency: 4, prefetch: 0, pollMs: 5 });
    let starts = 0;
    worker.on('job:start', () => starts++);
    const run = worker.run({ untilEmpty: true });
    await waitFor('four jobs to start', () => starts === 4);
    // Four slots are busy: the other two wait their turn.
    expect(worker.runningCount).toBe(4);
    expect(await q.stats()).toMatchObject({ claimed: 4, pending: 2 });
    blocker.open();
    expect(await run).toMatchObject({ done: 6 });
    expect(maxActive).toBe(4);
  });

  it('takes from weighted queues in proportion, then from any with work', async () => {
    await q.enqueueBatch(
      Array.from({ length: 12 }, (_, i) => ({ fn: echo, args: [i] })),
      { queue: 'high' },
    );
    await q.enqueueBatch(
      Array.from({ length: 12 }, (_, i) => ({ fn: echo, args: [i] })),
      { queue: 'low' },
    );
    const order: string[] = [];
    const worker = new Worker(q, {
      queues: { high: 3, low: 1 },
      prefetch: 0,
      pollMs: 5,
    });
    worker.on('job:start', (e) => order.push(e.job.queue));
    await worker.run({ untilEmpty: true });
    // Three from high for every one from low while both have work...
    const first16 = order.slice(0, 16);
    expect(first16.filter((name) => name === 'high')).toHaveLength(12);
    expect(first16.slice(0, 4)).toEqual(['high', 'high', 'low', 'high']);
    // ...then high is empty and low gets every turn.
    expect(order.slice(16)).toEqual(Array(8).fill('low'));
  });

  it('retries a failing job until it succeeds', async () => {
    const id = await q.enqueue(flaky, { args: ['twice', 2], maxAttempts: 3 });
    const failed: JobFailedEvent[] = [];
    const worker = new Worker(q, { pollMs: 5 });
    worker.on('job:failed', (e) => failed.push(e));
    expect(await worker.run({ untilEmpty: true })).toMatchObject({
      done: 1,
      failed: 2,
    });
    expect(failed.map((e) => e.outcome?.status)).toEqual(['pending', 'pending']);
    expect(await q.result(id)).toBe('ok after 3');
    expect((await q.getJob(id)).attempts).toBe(3);
  });

  it('fails a job that exceeds timeoutMs with JobTimeoutError', async () => {
    const id = await q.enqueue(neverSettles, { timeoutMs: 50, maxAttempts: 2 });
    const after = await q.enqueue(echo, { args: ['next'] });
    const worker = new Worker(q, { pollMs: 5 });
    await worker.run({ untilEmpty: true });
    const record = await q.getJob(id);
    expect(record.status).toBe('dead');
    expect(record.attempts).toBe(2);
    expect(record.lastError).toMatchObject({ name: 'JobTimeoutError' });
    expect(record.lastError!.message).toContain('timeoutMs 50');
    expect(await q.result(after)).toBe('next');
  });

  it('ends a job that throws PermanentJobError failed, without retries', async () => {
    const id = await q.enqueue(rejectsInput, { maxAttempts: 5 });
    await new Worker(q, { pollMs: 5 }).run({ untilEmpty: true });
    expect(await q.getJob(id)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('does not wait for delayed jobs whose time has not come', async () => {
    const later = await q.enqueue(echo, { args: [1], delayMs: 60_000 });
    const now = await q.enqueue(echo, { args: [2] });
    await new Worker(q, { pollMs: 5 }).run({ untilEmpty: true });
    expect((await q.getJob(now)).status).toBe('done');
    expect((await q.getJob(later)).status).toBe('delayed');
  });

  it('keeps the claims of running jobs alive', async () => {
    await q.close();
    q = await DuckQueue.open(join(dir, 'jobs.db'), {
      serialization: 'json',
      visibilityTimeoutMs: 60_000,
    });
    const id = await q.enqueue(blocked, { args: ['long'] });
    const worker = new Worker(q, { heartbeatMs: 10 });
    const run = worker.run({ untilEmpty: true });
    await waitFor('the job to start', () => active === 1);
    const first = (await q.getJob(id)).claimedAt!;
    const row = () => {
      const db = new Database(join(dir, 'jobs.db'), { readonly: true });
      const r = db
        .prepare('SELECT claim_expires_at AS e FROM jobs WHERE id = ?')
        .get(Number(id)) as { e: number };
      db.close();
      return r;
    };
    const initial = row().e;
    await waitFor('a heartbeat to extend the claim', () => row().e > initial);
    expect(row().e).toBeGreaterThan(first + 60_000);
    blocker.open();
    await run;
  });
});

describe('payloads that cannot be loaded', () => {
  it('ends damaged and unknown jobs failed and keeps going', async () => {
    registerTask('w.temporary', temporary);
    const damaged = await q.enqueue(echo, { args: ['x'] });
    const unknown = await q.enqueue(temporary);
    const good = await q.enqueue(echo, { args: ['fine'] });
    unregisterTask('w.temporary');
    const db = new Database(join(dir, 'jobs.db'));
    db.prepare(
      'UPDATE jobs SET payload = substr(payload, 1, 12) || zeroblob(8) WHERE id = ?',
    ).run(Number(damaged));
    db.close();

    const { logger, lines } = recordingLogger();
    const worker = new Worker(q, { pollMs: 5, logger });
    const summary = await worker.run({ untilEmpty: true });
    expect(summary).toMatchObject({ done: 1, failed: 2 });
    expect(await q.result(good)).toBe('fine');

    const broken = await q.getJob(damaged);
    expect(broken).toMatchObject({ status: 'failed', attempts: 1 });
    expect(broken.lastError!.name).toBe('DeserializationError');
    expect(broken.lastError!.message.length).toBeGreaterThan(0);
    expect(broken.lastError!.stack).toBeTruthy();

    const missing = await q.getJob(unknown);
    expect(missing).toMatchObject({ status: 'failed', attempts: 1 });
    expect(missing.lastError).toMatchObject({ name: 'UnknownTaskError' });
    expect(missing.lastError!.message).toContain("unknown task 'w.temporary'");
    expect(lines.filter((l) => l.includes('cannot be loaded'))).toHaveLength(2);
    // The fix logged with each fits its cause.
    const about = (id: string) =>
      lines.find((l) => l.includes(`"jobId":"${id}"`)) ?? '';
    expect(about(unknown)).toMatch(
      /"fix":"register task 'w.temporary' in the worker \(for the command: --import/,
    );
    expect(about(damaged)).toMatch(/"fix":"deploy the job module/);
  });

  it('tells an operator to share the signing key when a signature fails', async () => {
    const file = join(dir, 'jobs.db');
    const unsigned = await q.enqueue(echo, { args: ['unsigned'] });
    const signedQueue = await DuckQueue.open(file, {
      serialization: 'json',
      policy: { signingKey: 'worker-test-signing-key-0123456789' },
    });
    try {
      const { logger, lines } = recordingLogger();
      const worker = new Worker(signedQueue, { pollMs: 5, logger });
      await worker.run({ untilEmpty: true });
      const job = await signedQueue.getJob(unsigned);
      expect(job.status).toBe('failed');
      expect(job.lastError?.name).toBe('SignatureError');
      const line = lines.find((l) => l.includes(`"jobId":"${unsigned}"`));
      expect(line).toMatch(/job failed: the load policy refused it/);
      expect(line).toMatch(/"fix":"give producer and worker the same signing key/);
    } finally {
      await signedQueue.close();
    }
  });
});

describe('stopping', () => {
  it('lets running jobs finish and claims nothing after stop()', async () => {
    const running = await q.enqueue(blocked, { args: ['finish me'] });
    const waiting = await q.enqueue(echo, { args: ['later'] });
    const worker = new Worker(q, { prefetch: 0, pollMs: 5 });
    const run = worker.run();
    await waitFor('the job to start', () => active === 1);
    const stopped = worker.stop();
    blocker.open();
    expect(await stopped).toEqual({ done: 1, failed: 0, released: 0 });
    await run;
    expect(await q.result(running)).toBe('finish me');
    expect(await q.getJob(waiting)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('releases jobs still running after the grace period', async () => {
    const id = await q.enqueue(blocked, { args: ['too slow'] });
    const { logger, lines } = recordingLogger();
    const worker = new Worker(q, { graceMs: 20, pollMs: 5, logger });
    const released: string[] = [];
    worker.on('job:released', (e) => released.push(e.job.id));
    const run = worker.run();
    await waitFor('the job to start', () => active === 1);
    expect(await worker.stop()).toEqual({ done: 0, failed: 0, released: 1 });
    await run;
    expect(released).toEqual([id]);
    // Back to pending, the attempt not counted; finishing later stores
    // nothing.
    expect(await q.getJob(id)).toMatchObject({ status: 'pending', attempts: 0 });
    blocker.open();
    await new Promise((r) => setImmediate(r));
    expect((await q.getJob(id)).status).toBe('pending');
    expect(lines.some((l) => l.includes('released for another worker'))).toBe(true);
  });

  it('leaves no claim behind, even for jobs claimed ahead', async () => {
    // Quick jobs first, so the worker starts claiming ahead of its slot;
    // then jobs that hold it up while it is asked to stop.
    await q.enqueueBatch(
      Array.from({ length: 20 }, (_, i) => ({ fn: echo, args: [i] })),
    );
    const ids = await q.enqueueBatch(
      Array.from({ length: 10 }, () => ({ fn: blocked, args: ['x'] })),
    );
    const worker = new Worker(q, { prefetch: 8, pollMs: 5 });
    const run = worker.run();
    await waitFor('a blocking job to start', () => active === 1);
    const stopping = worker.stop();
    blocker.open();
    await stopping;
    await run;
    expect((await q.stats()).claimed).toBe(0);
    for (const id of ids) {
      const job = await q.getJob(id);
      // Never started: back to pending with no attempt counted.
      expect(job.attempts).toBe(job.status === 'done' ? 1 : 0);
    }
  });
});

describe('events, logs and options', () => {
  it('emits start/done/failed and logs for an operator', async () => {
    await q.enqueue(echo, { args: [1] });
    await q.enqueue(flaky, { args: ['once', 5], maxAttempts: 1 });
    const { logger, lines } = recordingLogger();
    const worker = new Worker(q, { pollMs: 5, logger, workerId: 'w-test' });
    const events: string[] = [];
    worker.on('job:start', (e) => events.push(`start ${e.job.fnName}`));
    worker.on('job:done', (e) => events.push(`done ${e.job.fnName} ${String(e.result)}`));
    worker.on('job:failed', (e) => events.push(`failed ${e.job.fnName} ${e.outcome?.status}`));
    worker.on('idle', () => events.push('idle'));
    await worker.run({ untilEmpty: true });
    expect(events).toContain('start echo');
    expect(events).toContain('done echo 1');
    expect(events).toContain('failed flaky dead');
    expect(lines[0]).toMatch(/^info worker started .*"workerId":"w-test"/);
    expect(lines.some((l) => /^error job is dead.*"attempt":"1\/1".*failure 1 of once/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^info worker stopped .*"done":1,"failed":1/);
  });

  it('rejects bad worker options by name', () => {
    expect(() => new Worker(q, { concurency: 2 } as never)).toThrow(
      /concurency: unknown option \(did you mean 'concurrency'\?\)/,
    );
    expect(() => new Worker(q, { concurrency: 0 })).toThrow(InvalidOptionError);
    expect(() => new Worker(q, { queues: { high: 0 } })).toThrow(
      /queues.high: a queue weight is a whole number from 1 to 1000/,
    );
    expect(() => new Worker(q, { queues: [] })).toThrow(/name at least one queue/);
  });

  it('refuses to run twice at once', async () => {
    const worker = new Worker(q, { pollMs: 5 });
    const run = worker.run();
    expect(() => worker.run()).toThrow(/already running/);
    await worker.stop();
    await run;
  });
});
