// Jobs in worker threads and child processes: a real pool of isolates
// runs a table of well-behaved and hostile jobs, one worker run per mode,
// and each case checks what was recorded. No timing is asserted: the
// hostile jobs never finish on their own, so only the isolation can end
// them.

import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckQueue } from '../src/queue/queue.js';
import { JobFailedError, PermanentJobError } from '../src/queue/errors.js';
import type { JobRecord } from '../src/queue/job.js';
import { Worker, type WorkerSummary } from '../src/worker/worker.js';
import * as tasks from './fixtures/isolation-tasks.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';
import { sourcePayload } from './fixtures/hostile/payloads.js';
import { plantRow } from './helpers/plant-row.js';

const PRELOAD = ['test/fixtures/isolation-tasks.ts'];
const MEMORY_LIMIT_MB = 48;

afterAll(removeTempDirs);

interface Ran {
  queue: DuckQueue;
  summary: WorkerSummary;
  ids: Record<string, string>;
  /** What was written to this process's stderr while the worker ran. */
  stderr: string;
  job(name: string): Promise<JobRecord>;
}

async function runTable(mode: 'thread' | 'process'): Promise<Ran> {
  const queue = await DuckQueue.open(join(tempDir(), 'jobs.db'), {
    serialization: 'json',
    backoff: { baseMs: 0 },
  });
  const once = { maxAttempts: 1 };
  // Each hostile job is followed by a plain one, which must still run.
  const ids: Record<string, string> = {};
  const plan: Array<[string, () => Promise<string>]> = [
    ['where1', () => queue.enqueue(tasks.whereAmI)],
    ['where2', () => queue.enqueue(tasks.whereAmI)],
    ['spin', () => queue.enqueue(tasks.spin, { timeoutMs: 500, maxAttempts: 2 })],
    ['afterSpin', () => queue.enqueue(tasks.add, { args: [1, 2] })],
    ['hog', () => queue.enqueue(tasks.hog, once)],
    ['afterHog', () => queue.enqueue(tasks.add, { args: [3, 4] })],
    ['exit', () => queue.enqueue(tasks.exitEarly, once)],
    ['afterExit', () => queue.enqueue(tasks.whereAmI)],
    ['timer', () => queue.enqueue(tasks.throwLater, once)],
    ['afterTimer', () => queue.enqueue(tasks.add, { args: [5, 6] })],
    ['rejection', () => queue.enqueue(tasks.rejectUnhandled, once)],
    ['rich', () => queue.enqueue(tasks.richResult)],
    ['invalid', () => queue.enqueue(tasks.rejectInput, { args: ['email'] })],
    ['permanent', () => queue.enqueue(tasks.giveUp, { maxAttempts: 3 })],
    ['unstorable', () => queue.enqueue(tasks.returnsFunction)],
  ];
  for (const [name, enqueue] of plan) ids[name] = await enqueue();
  const worker = new Worker(queue, {
    isolation: mode,
    memoryLimitMb: MEMORY_LIMIT_MB,
    preload: PRELOAD,
  });
  // What the isolates' stderr adds to ours, passed through as it comes.
  let stderr = '';
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  let summary: WorkerSummary;
  try {
    summary = await worker.run({ untilEmpty: true });
  } finally {
    process.stderr.write = write;
  }
  return {
    queue,
    summary,
    ids,
    stderr,
    job: (name) => queue.getJob(ids[name]!),
  };
}

describe.each(['thread', 'process'] as const)('isolation %s', (mode) => {
  let ran: Ran;
  beforeAll(async () => {
    ran = await runTable(mode);
  }, 180_000);
  afterAll(async () => {
    await ran?.queue.close();
  });

  it('drains the whole table: the worker survives every hostile job', async () => {
    const stats = await ran.queue.stats();
    expect(stats.pending + stats.claimed + stats.delayed).toBe(0);
    // where1, where2, afterSpin, afterHog, afterExit, afterTimer, rich
    expect(ran.summary.done).toBe(7);
  });

  it('runs jobs outside the worker and reuses its isolates', async () => {
    const first = (await ran.job('where1')).result as tasks.Where;
    const second = (await ran.job('where2')).result as tasks.Where;
    expect(second).toEqual(first);
    if (mode === 'thread') {
      expect(first.pid).toBe(process.pid);
      expect(first.threadId).not.toBe(threadId);
    } else {
      expect(first.pid).not.toBe(process.pid);
    }
  });

  it('stops a job stuck in a synchronous loop at timeoutMs and retries it', async () => {
    const spin = await ran.job('spin');
    expect(spin.status).toBe('dead');
    expect(spin.attempts).toBe(2);
    expect(spin.lastError?.name).toBe('JobTimeoutError');
    expect(spin.lastError?.message).toContain('timeoutMs 500');
    expect((await ran.job('afterSpin')).result).toBe(3);
  });

  it('records a job that allocates without bound as out of memory', async () => {
    const hog = await ran.job('hog');
    expect(hog.status).toBe('dead');
    expect(hog.lastError?.name).toBe('IsolateMemoryError');
    expect(hog.lastError?.message).toContain(`memoryLimitMb ${MEMORY_LIMIT_MB}`);
    expect((await ran.job('afterHog')).result).toBe(7);
    // The failure is reported once, as above, not as V8's heap dump.
    expect(ran.stderr).not.toContain('<--- Last few GCs --->');
    expect(ran.stderr).not.toContain('Native stack trace');
  });

  it('fails a job that calls process.exit() and replaces its isolate', async () => {
    const exit = await ran.job('exit');
    expect(exit.status).toBe('dead');
    expect(exit.lastError?.name).toBe('IsolateExitError');
    expect(exit.lastError?.message).toContain('exited with code 3');
    const before = (await ran.job('where1')).result as tasks.Where;
    const after = (await ran.job('afterExit')).result as tasks.Where;
    expect(after).not.toEqual(before);
  });

  it('fails a job that throws in a timer, with what it threw', async () => {
    const timer = await ran.job('timer');
    expect(timer.status).toBe('dead');
    expect(timer.lastError?.name).toBe('IsolateCrashError');
    expect(timer.lastError?.message).toContain('thrown in a timer');
    expect((await ran.job('afterTimer')).result).toBe(11);
  });

  it('fails a job that leaves a promise rejection unhandled', async () => {
    const rejection = await ran.job('rejection');
    expect(rejection.status).toBe('dead');
    expect(rejection.lastError?.name).toBe('IsolateCrashError');
    expect(rejection.lastError?.message).toContain(
      'nobody handles this rejection',
    );
  });

  it('brings results back intact: Date, Map, Set, BigInt', async () => {
    const rich = (await ran.job('rich')).result as Record<string, unknown>;
    expect(rich.when).toBeInstanceOf(Date);
    expect((rich.when as Date).toISOString()).toBe('2024-02-29T12:00:00.000Z');
    expect(rich.counts).toEqual(new Map([['big', 2n ** 70n]]));
    expect(rich.tags).toEqual(new Set(['a', 'b']));
    expect(rich.big).toBe(-(2n ** 65n));
  });

  it('brings errors back with name, message, stack and own properties', async () => {
    const invalid = await ran.job('invalid');
    expect(invalid.status).toBe('dead');
    expect(invalid.attempts).toBe(invalid.maxAttempts);
    expect(invalid.lastError?.name).toBe('ValidationError');
    expect(invalid.lastError?.message).toBe("field 'email' is required");
    expect(invalid.lastError?.stack).toContain('rejectInput');
    const thrown = await ran.queue.result(ran.ids.invalid!).catch((e) => e);
    expect(thrown).toBeInstanceOf(JobFailedError);
    const cause = (thrown as JobFailedError).cause as Record<string, unknown>;
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe('ValidationError');
    expect(cause.code).toBe('E_VALIDATION');
    expect(cause.field).toBe('email');
  });

  it('keeps PermanentJobError permanent across the isolate boundary', async () => {
    const permanent = await ran.job('permanent');
    expect(permanent.status).toBe('failed');
    expect(permanent.attempts).toBe(1);
    expect(permanent.lastError?.name).toBe(new PermanentJobError('').name);
  });

  it('fails a job whose result cannot be stored, without retrying', async () => {
    const unstorable = await ran.job('unstorable');
    expect(unstorable.status).toBe('failed');
    expect(unstorable.attempts).toBe(1);
    expect(unstorable.lastError?.name).toBe('ResultEncodingError');
  });
});

describe('DAG tasks in an isolate', () => {
  it('gets each task its DagContext from the worker over the channel', async () => {
    const queue = await DuckQueue.open(join(tempDir(), 'dag.db'), {
      serialization: 'json',
    });
    try {
      const dag = queue.dag('isolated');
      dag.task(tasks.step, { name: 'a', args: ['a'] });
      dag.task(tasks.step, { name: 'b', args: ['b'] });
      dag.task(tasks.step, { name: 'c', args: ['c'], dependsOn: ['a', 'b'] });
      const run = await dag.submit();
      const worker = new Worker(queue, { isolation: 'thread', preload: PRELOAD });
      await worker.run({ untilEmpty: true });
      const result = await run.wait({ timeoutMs: 60_000, pollMs: 20 });
      expect(result.state).toBe('done');
      const node = result.nodes.c!;
      expect(node.status).toBe('done');
      const last = (node as { result: unknown }).result as {
        path: string;
        threadId: number;
      };
      expect(last.path).toBe('a+b>c');
      expect(last.threadId).not.toBe(threadId);
    } finally {
      await queue.close();
    }
  });
});

describe('a row planted with a format the queue does not load', () => {
  it('fails it before its bytes reach an isolate', async () => {
    const file = join(tempDir(), 'jobs.db');
    const queue = await DuckQueue.open(file, { serialization: 'json' });
    try {
      const planted = plantRow(
        file,
        sourcePayload({ fn: { src: '() => "ran planted code"' } }),
        'source',
        { maxAttempts: 1 },
      );
      const honest = await queue.enqueue(tasks.add, { args: [2, 2] });
      const worker = new Worker(queue, { isolation: 'thread', preload: PRELOAD });
      await worker.run({ untilEmpty: true });
      const job = await queue.getJob(planted);
      expect(job.status).toBe('failed');
      expect(job.lastError?.name).toBe('PolicyViolationError');
      expect(job.lastError?.message).toMatch(/does not load 'source'/);
      expect(await queue.result(honest)).toBe(4);
    } finally {
      await queue.close();
    }
  });
});


describe('an isolate that cannot start', () => {
  it('stops run() with IsolateStartError naming the cause, job untouched', async () => {
    const queue = await DuckQueue.open(join(tempDir(), 'jobs.db'), {
      serialization: 'json',
    });
    try {
      const id = await queue.enqueue(tasks.add, { args: [1, 1], maxAttempts: 1 });
      const worker = new Worker(queue, {
        isolation: 'thread',
        preload: [...PRELOAD, 'test/fixtures/isolation-broken-preload.ts'],
      });
      const err = await worker.run({ untilEmpty: true }).catch((e) => e);
      expect((err as Error).name).toBe('IsolateStartError');
      expect((err as Error).message).toContain('broken on purpose');
      const job = await queue.getJob(id);
      expect(job.status).toBe('pending');
      expect(job.attempts).toBe(0);
    } finally {
      await queue.close();
    }
  });
});

describe('stopping a worker whose job is stuck', () => {
  it('releases the job after the grace period and stops its isolate', async () => {
    const queue = await DuckQueue.open(join(tempDir(), 'jobs.db'), {
      serialization: 'json',
    });
    try {
      const id = await queue.enqueue(tasks.spin);
      const worker = new Worker(queue, { isolation: 'thread', preload: PRELOAD });
      const started = new Promise<void>((resolve) =>
        worker.once('job:start', () => resolve()),
      );
      const running = worker.run();
      await started;
      const summary = await worker.stop({ graceMs: 100 });
      expect(summary).toMatchObject({ done: 0, failed: 0, released: 1 });
      expect(await running).toEqual(summary);
      const job = await queue.getJob(id);
      expect(job.status).toBe('pending');
      expect(job.lastError).toBeNull();
    } finally {
      await queue.close();
    }
  });
});
