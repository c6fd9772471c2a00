// Isolates that cannot start, through real worker threads: a preload path
// that names no file is refused when the Worker is created, a preload
// module that throws stops run() before any claim, and an isolate that
// fails to start mid-run gives its job back with no attempt counted and
// stops the worker with IsolateStartError. No job is charged for an
// isolate it never reached.

import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DuckQueue } from '../src/queue/queue.js';
import { InvalidOptionError } from '../src/queue/errors.js';
import { IsolateStartError } from '../src/worker/isolation/errors.js';
import { Worker } from '../src/worker/worker.js';
import * as tasks from './fixtures/isolation-tasks.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const PRELOAD = ['test/fixtures/isolation-tasks.ts'];

let queue: DuckQueue | undefined;
afterEach(async () => {
  await queue?.close();
  queue = undefined;
  delete process.env.DQ_PRELOAD_ONCE_MARKER;
});
afterAll(removeTempDirs);

async function openQueue(): Promise<DuckQueue> {
  queue = await DuckQueue.open(join(tempDir('dq-isolation-start-'), 'jobs.db'), {
    serialization: 'json',
  });
  return queue;
}

function thrown(run: () => unknown): unknown {
  try {
    run();
    return null;
  } catch (err) {
    return err;
  }
}

describe('a preload path that names no file', () => {
  it.each([
    ['./nope.mjs', /no file at .*nope\.mjs.*relative to the working/],
    ['/nowhere/jobs.mjs', /no file at \/nowhere\/jobs\.mjs \([^,]*\); fix/],
    ['file:///nowhere/jobs.mjs', /no file at \/nowhere\/jobs\.mjs/],
    ['./test/fixtures', /is a directory, not a module file/],
  ])('%s is refused when the Worker is created', async (path, message) => {
    const q = await openQueue();
    const err = thrown(
      () => new Worker(q, { isolation: 'thread', preload: [...PRELOAD, path] }),
    );
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as InvalidOptionError).option).toBe('preload[1]');
    expect((err as Error).message).toMatch(message);
  });
});

describe('a preload module that throws', () => {
  it('makes run() reject before claiming, and charges no job', async () => {
    const q = await openQueue();
    const id = await q.enqueue(tasks.add, { args: [1, 1], maxAttempts: 1 });
    const worker = new Worker(q, {
      isolation: 'thread',
      preload: [...PRELOAD, 'test/fixtures/isolation-broken-preload.ts'],
    });
    const err = await worker.run({ untilEmpty: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IsolateStartError);
    expect((err as Error).message).toContain('broken on purpose');
    const job = await q.getJob(id);
    expect(job).toMatchObject({ status: 'pending', attempts: 0, lastError: null });
  });
});

describe('an isolate that fails to start mid-run', () => {
  it('gives the job back uncounted and stops the worker', async () => {
    const q = await openQueue();
    process.env.DQ_PRELOAD_ONCE_MARKER = join(tempDir(), 'started');
    // The first isolate runs exitEarly and dies with it; the next one,
    // needed for `add`, cannot start.
    const exit = await q.enqueue(tasks.exitEarly, { maxAttempts: 1, priority: 90 });
    const add = await q.enqueue(tasks.add, { args: [2, 3], maxAttempts: 1 });
    const worker = new Worker(q, {
      isolation: 'thread',
      prefetch: 0,
      preload: [...PRELOAD, 'test/fixtures/isolation-preload-once.ts'],
    });
    const released: string[] = [];
    worker.on('job:released', (e) => released.push(e.job.id));
    const err = await worker.run({ untilEmpty: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IsolateStartError);
    expect((err as Error).message).toContain('starts only one isolate');
    expect((await q.getJob(exit)).lastError?.name).toBe('IsolateExitError');
    expect(await q.getJob(add)).toMatchObject({
      status: 'pending',
      attempts: 0,
      lastError: null,
    });
    expect(released).toEqual([add]);
  });
});
