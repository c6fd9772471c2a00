// Real processes on one SQLite file: two workers sharing 10,000 jobs, a
// worker killed with SIGKILL mid-job, a worker stopped with SIGTERM, and
// jobs whose function is gone or whose bytes are damaged. Jobs are
// functions exported from test/fixtures/jobs.ts, stored by reference with
// the 'v8' serializer; workers are the `duckqueue worker` CLI or the
// fixture script test/fixtures/queue-child.ts.

import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { DuckQueue } from '../src/index.js';
import {
  ROOT,
  fileExists,
  runChild,
  startChild,
  waitFor,
} from './helpers/children.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const CHILD = 'test/fixtures/queue-child.ts';
const CLI = 'src/cli.ts';

let dir: string;
let db: string;

beforeEach(() => {
  dir = tempDir();
  db = join(dir, 'jobs.db');
});
afterAll(removeTempDirs);

async function enqueue(fn: string, args: unknown[], count = 1): Promise<string[]> {
  const out = await runChild(CHILD, [
    'enqueue',
    db,
    fn,
    JSON.stringify(args),
    String(count),
  ]);
  return (JSON.parse(out) as { ids: string[] }).ids;
}

async function inspect<T>(read: (q: DuckQueue) => Promise<T>): Promise<T> {
  const q = await DuckQueue.open(db, { serialization: 'json' });
  try {
    return await read(q);
  } finally {
    await q.close();
  }
}

describe('several worker processes on one file', () => {
  it('two processes share 10,000 jobs and run each exactly once', async () => {
    const ids = await enqueue('recordRun', [], 10_000);
    expect(ids).toHaveLength(10_000);
    const workers = ['w-a', 'w-b'].map((id) => startChild(CHILD, ['work', db, id]));
    for (const w of workers) {
      await waitFor('worker ready', () => w.stdout().includes('ready'));
    }
    // Both start claiming at the same moment.
    for (const w of workers) w.send('go');
    const codes = await Promise.all(workers.map((w) => w.exited));
    expect(codes, workers.map((w) => w.stderr()).join('\n')).toEqual([0, 0]);
    const ran = workers.map(
      (w) => (JSON.parse(w.stdout().split('\n')[1]!) as { ran: string[] }).ran,
    );
    const all = ran.flat();
    expect(all).toHaveLength(10_000);
    expect(new Set(all)).toEqual(new Set(ids));
    // Both processes took part.
    expect(ran[0]!.length).toBeGreaterThan(0);
    expect(ran[1]!.length).toBeGreaterThan(0);
    const stats = await inspect((q) => q.stats());
    expect(stats).toMatchObject({ done: 10_000, pending: 0, claimed: 0 });
    // No job was claimed twice.
    const sqlite = new Database(db, { readonly: true });
    const retried = sqlite
      .prepare('SELECT COUNT(*) AS n FROM jobs WHERE attempts <> 1')
      .get() as { n: number };
    sqlite.close();
    expect(retried.n).toBe(0);
  });
});

describe('a worker killed with SIGKILL', () => {
  it('loses nothing: its job is recovered and done by the next worker', async () => {
    const flag = join(dir, 'started');
    const [hung] = await enqueue('hangOnce', [flag]);
    const others = await enqueue('recordRun', [], 5);
    const killed = startChild(CLI, [
      'worker',
      db,
      '--serialization',
      'v8',
      '--visibility-ms',
      '1000',
    ]);
    await waitFor('the job to start', fileExists(flag));
    killed.proc.kill('SIGKILL');
    expect(await killed.exited).toBe('SIGKILL');
    expect(await inspect((q) => q.getJob(hung!))).toMatchObject({
      status: 'claimed',
      attempts: 1,
    });

    const next = startChild(CLI, [
      'worker',
      db,
      '--serialization',
      'v8',
      '--visibility-ms',
      '1000',
      '--poll-ms',
      '50',
      '--until-empty',
    ]);
    expect(await next.exited, next.stderr()).toBe(0);
    const job = await inspect((q) => q.getJob(hung!));
    expect(job).toMatchObject({ status: 'done', attempts: 2, result: 'recovered' });
    expect(job.claimedBy).not.toBe(null);
    const stats = await inspect((q) => q.stats());
    expect(stats).toMatchObject({ done: 1 + others.length, claimed: 0, dead: 0 });
    expect(next.stderr()).toMatch(/took back jobs whose worker stopped reporting/);
  });
});

describe('a worker stopped with SIGTERM', () => {
  it('finishes the running job, stores it done and exits cleanly', async () => {
    const flag = join(dir, 'started');
    const [slow] = await enqueue('slowJob', [flag, 1_500]);
    const [queued] = await enqueue('add', [1, 2]);
    const worker = startChild(CLI, [
      'worker',
      db,
      '--serialization',
      'v8',
      '--grace-ms',
      '60000',
    ]);
    await waitFor('the job to start', fileExists(flag));
    worker.proc.kill('SIGTERM');
    expect(await worker.exited, worker.stderr()).toBe(0);
    const log = worker.stderr();
    expect(log).toMatch(/SIGTERM received: finishing running jobs, then exiting/);
    expect(log).toMatch(/worker stopping: no new claims/);
    expect(log).toMatch(/worker stopped .*done=1/);
    expect(await inspect((q) => q.getJob(slow!))).toMatchObject({
      status: 'done',
      result: 'slept 1500',
    });
    // The job behind it was not started after the signal.
    expect(await inspect((q) => q.getJob(queued!))).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
  });
});

describe('jobs that cannot be loaded', () => {
  it('end failed with a readable error while the worker goes on', async () => {
    // A job whose module is deleted after it was enqueued.
    const moduleDir = join(ROOT, 'tmp', `gone-${randomBytes(4).toString('hex')}`);
    mkdirSync(moduleDir, { recursive: true });
    const modulePath = join(moduleDir, 'vanishing.mjs');
    writeFileSync(modulePath, 'export function vanishing() { return 1; }\n');
    let gone: string;
    try {
      const out = await runChild(CHILD, ['enqueue-from', db, modulePath, 'vanishing']);
      gone = (JSON.parse(out) as { ids: string[] }).ids[0]!;
    } finally {
      rmSync(moduleDir, { recursive: true, force: true });
    }
    // A job whose bytes are damaged in the database.
    const [damaged] = await enqueue('add', [1, 1]);
    const sqlite = new Database(db);
    sqlite
      .prepare('UPDATE jobs SET payload = randomblob(length(payload)) WHERE id = ?')
      .run(Number(damaged));
    sqlite.close();
    const [good] = await enqueue('add', [2, 3]);

    const worker = startChild(CLI, [
      'worker',
      db,
      '--serialization',
      'v8',
      '--until-empty',
    ]);
    expect(await worker.exited, worker.stderr()).toBe(0);

    const missing = await inspect((q) => q.getJob(gone));
    expect(missing).toMatchObject({ status: 'failed', attempts: 1 });
    expect(missing.lastError!.name).toBe('DeserializationError');
    expect(missing.lastError!.message).toMatch(/cannot import module .*vanishing\.mjs/);
    expect(missing.lastError!.stack).toBeTruthy();

    const broken = await inspect((q) => q.getJob(damaged!));
    expect(broken).toMatchObject({ status: 'failed', attempts: 1 });
    expect(broken.lastError!.name).toBe('DeserializationError');
    expect(broken.lastError!.message).toMatch(/not a valid duckqueue payload/);

    expect(await inspect((q) => q.result(good!))).toBe(5);
    const log = worker.stderr();
    expect(log).toMatch(new RegExp(`job failed: its payload cannot be loaded.* jobId=${gone}`));
    expect(log).toMatch(/worker stopped .*done=1 failed=2/);

    // The stats command shows the counts and the failures.
    const stats = await runChild(CLI, ['stats', db]);
    expect(stats).toMatch(/default\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*1\s*│\s*2\s*│\s*0/);
    expect(stats).toContain('recent failures');
    const json = JSON.parse(await runChild(CLI, ['stats', db, '--json']));
    expect(json.queues.default).toMatchObject({ done: 1, failed: 2 });
    expect(json.recentFailures).toHaveLength(2);
  });
});
