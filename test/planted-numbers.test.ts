// Numbers planted in a real SQLite row behind the queue's back: a
// max_attempts, attempts or priority duckqueue never writes must end the
// job `failed` with InvalidJobRowError before its function runs, instead
// of retrying it forever or running it with a clamped value. And the retry
// schedule stays a whole number of ms however many attempts a job has had.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DuckQueue,
  InvalidJobRowError,
  InvalidOptionError,
  Worker,
} from '../src/index.js';
import { backoffDelay, QUEUE_DEFAULTS } from '../src/queue/options.js';
import { registerTask } from '../src/serialize/index.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const runs: string[] = [];
function failing(label: string): never {
  runs.push(label);
  throw new Error(`failing job ${label} ran`);
}
registerTask('planted-numbers.failing', failing);
function ok(label: string): string {
  runs.push(label);
  return label;
}
registerTask('planted-numbers.ok', ok);

let dir: string;
let q: DuckQueue;

beforeEach(async () => {
  dir = tempDir('dq-planted-numbers-');
  runs.length = 0;
  q = await DuckQueue.open(join(dir, 'jobs.db'), {
    serialization: 'json',
    backoff: { baseMs: 0 },
  });
});
afterEach(() => q.close());
afterAll(removeTempDirs);

function plant(id: string, column: string, value: unknown): void {
  const db = new Database(join(dir, 'jobs.db'));
  try {
    db.prepare(`UPDATE jobs SET ${column} = ? WHERE id = ?`).run(value, Number(id));
  } finally {
    db.close();
  }
}

describe('a planted number the worker acts on', () => {
  it.each([
    ['max_attempts', 'text', 'abc', 'maxAttempts', 'abc'],
    ['max_attempts', '1e300', 1e300, 'maxAttempts', '1e+300'],
    ['max_attempts', 'zero', 0, 'maxAttempts', '0'],
    ['max_attempts', 'negative', -5, 'maxAttempts', '-5'],
    ['max_attempts', 'fractional', 2.5, 'maxAttempts', '2.5'],
    ['max_attempts', 'over MAX_ATTEMPTS', 2_000_000, 'maxAttempts', '2000000'],
    ['attempts', '1e300', 1e300, 'attempts', '1e+300'],
    ['attempts', 'past maxAttempts', 7, 'attempts', '8'],
    ['attempts', 'negative', -5, 'attempts', '-4'],
    ['priority', 'text', 'abc', 'priority', 'abc'],
    ['priority', 'over 100', 1e9, 'priority', '1000000000'],
    ['priority', 'negative', -1, 'priority', '-1'],
    ['priority', 'fractional', 2.5, 'priority', '2.5'],
  ])(
    'fails the job without running it: %s %s',
    async (column, _, value, field, shown) => {
      const planted = await q.enqueue(failing, { args: ['planted'] });
      const fine = await q.enqueue(ok, { args: ['fine'] });
      plant(planted, column, value);
      const failed: unknown[] = [];
      const worker = new Worker(q, { pollMs: 5 });
      worker.on('job:failed', (e) => failed.push(e.error));
      await worker.run({ untilEmpty: true });

      expect(runs).toEqual(['fine']);
      const job = await q.getJob(planted);
      expect(job.status).toBe('failed');
      expect(job.lastError?.name).toBe('InvalidJobRowError');
      expect(job.lastError?.message).toContain(
        `job ${planted} has ${field} ${shown} in its row`,
      );
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBeInstanceOf(InvalidJobRowError);
      expect(failed[0]).toMatchObject({ jobId: planted, field });
      expect(await q.result(fine)).toBe('fine');
    },
  );

  it('still retries a valid job up to its maxAttempts', async () => {
    const id = await q.enqueue(failing, { args: ['valid'], maxAttempts: 3 });
    await new Worker(q, { pollMs: 5 }).run({ untilEmpty: true });
    expect(runs).toEqual(['valid', 'valid', 'valid']);
    expect((await q.getJob(id)).status).toBe('dead');
  });
});

describe('a planted run_at', () => {
  it('leaves stats, listJobs and getJob readable', async () => {
    const id = await q.enqueue(ok, { args: ['later'] });
    plant(id, 'run_at', 'soon');
    const stats = await q.stats();
    expect(stats.pending + stats.delayed).toBe(1);
    const listed = await q.listJobs();
    expect(listed.map((j) => j.id)).toEqual([id]);
    expect((await q.getJob(id)).runAt).toBe('soon');
  });
});

describe('backoffDelay', () => {
  const backoff = { ...QUEUE_DEFAULTS.backoff };

  it.each([
    ['baseMs 0, factor 10, 400 attempts', { baseMs: 0, factor: 10 }, 400, 0],
    ['baseMs 0, factor 2, 2000 attempts', { baseMs: 0, factor: 2 }, 2000, 0],
    ['the default, 2000 attempts', {}, 2000, backoff.capMs],
    ['the default, 1,000,000 attempts', {}, 1_000_000, backoff.capMs],
    ['the default, NaN attempts', {}, NaN, backoff.baseMs],
    ['the default, 3 attempts', {}, 3, 4_000],
    ['factor 1 (a fixed delay)', { factor: 1 }, 50, backoff.baseMs],
  ])('is whole ms within capMs: %s', (_, own, attempts, expected) => {
    const delay = backoffDelay({ ...backoff, ...own }, attempts);
    expect(delay).toBe(expected);
  });

  it('stays within [capMs / 2, capMs] with jitter, whatever random gives', () => {
    const b = { ...backoff, baseMs: 10, jitter: true };
    for (const pick of [0, 0.5, 1, NaN, Infinity, -3]) {
      const delay = backoffDelay(b, 5_000, () => pick);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(b.capMs / 2);
      expect(delay).toBeLessThanOrEqual(b.capMs);
    }
  });

  it('lets a job with thousands of failed attempts retry and keep its error', async () => {
    const id = await q.enqueue(failing, {
      args: ['many'],
      maxAttempts: 1_000_000,
    });
    plant(id, 'attempts', 1_999);
    const job = (await q.claim({ workerId: 'w' }))!;
    expect(job.attempt).toBe(2_000);
    const outcome = await q.nack(job, new Error('the real failure'));
    expect(outcome).toEqual({ status: 'pending', retryInMs: 0 });
    const record = await q.getJob(id);
    expect(record.status).toBe('pending');
    expect(record.lastError?.message).toBe('the real failure');
  });

  it.each([11, 1000, 0.5, NaN])('refuses backoff.factor %s', async (factor) => {
    const err = await DuckQueue.open(join(dir, 'other.db'), {
      backoff: { factor },
    }).then(
      (opened) => opened.close().then(() => null),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe('backoff.factor');
    expect((err as Error).message).toMatch(/from 1 to 10/);
  });
});
