// The sandbox of isolation 'process': Node 20's permission model in the
// job's child process. Source payloads are enqueued by a native child
// (so the source serializer reads real function text), then run by a
// worker here. The same jobs without a sandbox are the control: they do
// write and spawn, so the denials below come from the sandbox.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JobFailedError } from '../src/queue/errors.js';
import { DuckQueue } from '../src/queue/queue.js';
import { createSerializer } from '../src/serialize/index.js';
import { Worker } from '../src/worker/worker.js';
import { InvalidOptionError } from '../src/queue/errors.js';
import { ROOT } from './helpers/children.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

afterAll(removeTempDirs);

interface Enqueued {
  dir: string;
  queue: DuckQueue;
  ids: { write: string; exec: string; plain: string };
}

async function enqueueHostile(): Promise<Enqueued> {
  const dir = tempDir();
  const db = join(dir, 'jobs.db');
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/isolation-enqueue.ts', db, dir],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const queue = await DuckQueue.open(db, {
    serialization: 'source',
    policy: { denyNames: [] },
  });
  return { dir, queue, ids: JSON.parse(out) };
}

async function causeOf(queue: DuckQueue, id: string): Promise<unknown> {
  const thrown = await queue.result(id, { waitMs: 0 }).catch((e) => e);
  expect(thrown).toBeInstanceOf(JobFailedError);
  return (thrown as JobFailedError).cause;
}

describe('sandboxed process isolation', () => {
  it('denies fs writes and child processes, and nothing is written', async () => {
    const { dir, queue, ids } = await enqueueHostile();
    try {
      const worker = new Worker(queue, { isolation: 'process', sandbox: {} });
      const summary = await worker.run({ untilEmpty: true });
      expect(summary).toMatchObject({ done: 1, failed: 2 });

      for (const id of [ids.write, ids.exec]) {
        const job = await queue.getJob(id);
        expect(job.status).toBe('dead');
        const cause = (await causeOf(queue, id)) as Record<string, unknown>;
        expect(cause.code).toBe('ERR_ACCESS_DENIED');
      }
      expect(existsSync(join(dir, 'written.txt'))).toBe(false);
      expect(existsSync(join(dir, 'touched.txt'))).toBe(false);
      // A job that stays inside its permissions runs as usual.
      expect(await queue.result(ids.plain, { waitMs: 0 })).toEqual({
        doubled: 42,
        when: new Date(0),
      });
    } finally {
      await queue.close();
    }
  });

  it('allows what the sandbox grants: writes under allowFsWrite', async () => {
    const { dir, queue, ids } = await enqueueHostile();
    try {
      const worker = new Worker(queue, {
        isolation: 'process',
        sandbox: { allowFsWrite: [dir] },
      });
      await worker.run({ untilEmpty: true });
      expect(await queue.result(ids.write, { waitMs: 0 })).toBe('wrote');
      expect(existsSync(join(dir, 'written.txt'))).toBe(true);
      const exec = (await causeOf(queue, ids.exec)) as Record<string, unknown>;
      expect(exec.code).toBe('ERR_ACCESS_DENIED');
      expect(existsSync(join(dir, 'touched.txt'))).toBe(false);
    } finally {
      await queue.close();
    }
  });

  it('without a sandbox the same jobs write and spawn (the control)', async () => {
    const { dir, queue, ids } = await enqueueHostile();
    try {
      const worker = new Worker(queue, { isolation: 'process' });
      await worker.run({ untilEmpty: true });
      expect(await queue.result(ids.write, { waitMs: 0 })).toBe('wrote');
      expect(await queue.result(ids.exec, { waitMs: 0 })).toBe('ran');
      expect(existsSync(join(dir, 'written.txt'))).toBe(true);
      expect(existsSync(join(dir, 'touched.txt'))).toBe(true);
    } finally {
      await queue.close();
    }
  });
});

describe('isolation options', () => {
  it('refuses a sandbox outside process isolation, naming the fix', async () => {
    const queue = await DuckQueue.open(join(tempDir(), 'jobs.db'));
    try {
      expect(
        () => new Worker(queue, { isolation: 'thread', sandbox: {} }),
      ).toThrow(/sandbox: needs isolation 'process'/);
      expect(() => new Worker(queue, { sandbox: {} })).toThrow(
        InvalidOptionError,
      );
    } finally {
      await queue.close();
    }
  });

  it('refuses unknown modes, sandbox keys and tiny memory limits', async () => {
    const queue = await DuckQueue.open(join(tempDir(), 'jobs.db'));
    try {
      const bad = [
        { isolation: 'vm' },
        { isolation: 'process', sandbox: { allowNet: true } },
        { isolation: 'process', sandbox: { allowFsWrite: 'tmp' } },
        { isolation: 'thread', memoryLimitMb: 1 },
        { isolation: 'thread', preload: 'x.js' },
      ];
      for (const options of bad) {
        expect(() => new Worker(queue, options as never)).toThrow(
          InvalidOptionError,
        );
      }
    } finally {
      await queue.close();
    }
  });

  it('refuses a Serializer instance, which cannot cross to an isolate', async () => {
    const queue = await DuckQueue.open(join(tempDir(), 'jobs.db'), {
      serialization: createSerializer('json'),
    });
    try {
      expect(() => new Worker(queue, { isolation: 'thread' })).toThrow(
        /Serializer instance cannot be sent to an isolate/,
      );
      // In-process workers still take it.
      expect(new Worker(queue).options.isolation.mode).toBe('none');
    } finally {
      await queue.close();
    }
  });
});
