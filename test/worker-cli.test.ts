// The `duckqueue worker` and `duckqueue stats` commands as an operator
// runs them: arguments, --import of task modules, weighted --queue, exit
// codes and messages.

import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckQueue } from '../src/index.js';
import { double } from './fixtures/json-tasks.js';
import { runChild, startChild } from './helpers/children.js';
import { plantRow } from './helpers/plant-row.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const CLI = 'src/cli.ts';
const JOB_CHILD = 'test/fixtures/queue-child.ts';
let db: string;

beforeEach(() => {
  db = join(tempDir(), 'jobs.db');
});
afterAll(removeTempDirs);

async function cli(args: string[]) {
  const child = startChild(CLI, args);
  const code = await child.exited;
  return { code, out: child.stdout(), err: child.stderr() };
}

describe('duckqueue worker', () => {
  it('runs json tasks from an --import module on weighted queues', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    const high = await q.enqueue(double, { args: [21], queue: 'high' });
    const low = await q.enqueue(double, { args: [5], queue: 'low' });
    await q.close();
    const run = await cli([
      'worker',
      db,
      '--serialization',
      'json',
      '--import',
      './test/fixtures/json-tasks.ts',
      '--queue',
      'high:3',
      '--queue',
      'low',
      '--concurrency',
      '2',
      '--until-empty',
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.err).toMatch(/worker started .*queues={"high":3,"low":1} concurrency=2/);
    const check = await DuckQueue.open(db, { serialization: 'json' });
    expect(await check.result(high)).toBe(42);
    expect(await check.result(low)).toBe(10);
    await check.close();
  });

  it('warns about jobs left in queues it does not serve', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    const served = await q.enqueue(double, { args: [2], queue: 'high' });
    await q.enqueue(double, { args: [3], queue: 'mail' });
    await q.close();
    const run = await cli([
      'worker',
      db,
      '--serialization',
      'json',
      '--import',
      './test/fixtures/json-tasks.ts',
      '--queue',
      'high',
      '--until-empty',
    ]);
    expect(run.code, run.err).toBe(0);
    expect(run.err).toMatch(
      /jobs are waiting in a queue this worker does not serve .*queue=mail pending=1/,
    );
    expect(run.err).not.toMatch(/queue=high pending/);
    const check = await DuckQueue.open(db, { serialization: 'json' });
    expect(await check.result(served)).toBe(4);
    await check.close();
  });

  it('explains bad arguments with exit code 2', async () => {
    const missing = await cli(['worker']);
    expect(missing.code, missing.err).toBe(2);
    expect(missing.err).toMatch(/expected one database argument[\s\S]*usage: duckqueue worker/);
    const bad = await cli(['worker', db, '--concurrency', 'many']);
    expect(bad.code, bad.err).toBe(2);
    expect(bad.err).toMatch(/--concurrency must be a number, got 'many'/);
    const unknown = await cli(['worker', db, '--concurency', '2']);
    expect(unknown.code, unknown.err).toBe(2);
    expect(unknown.err).toMatch(/Unknown option '--concurency'/);
  });

  it('turns a bad option value into a usage error, not a stack trace', async () => {
    const run = await cli(['worker', db, '--concurrency', '0']);
    expect(run.code, run.err).toBe(2);
    expect(run.err).toMatch(/^duckqueue: concurrency: must be a number from 1/m);
    expect(run.err).not.toMatch(/\n\s+at /);
  });

  it('refuses a database that does not exist, creating nothing', async () => {
    const dir = tempDir();
    const missing = join(dir, 'typo', 'jobs.db');
    const run = await cli(['worker', missing, '--until-empty']);
    expect(run.code, run.err).toBe(1);
    expect(run.err).toMatch(/no database at .*typo\/jobs\.db.*--create/);
    expect(existsSync(join(dir, 'typo'))).toBe(false);
    // --create makes a new file, but never a missing directory.
    const created = await cli(['worker', missing, '--create', '--until-empty']);
    expect(created.code, created.err).toBe(1);
    expect(created.err).toMatch(/directory .*typo does not exist/);
    expect(existsSync(join(dir, 'typo'))).toBe(false);
    const fresh = join(dir, 'new.db');
    const ok = await cli(['worker', fresh, '--create', '--until-empty']);
    expect(ok.code, ok.err).toBe(0);
    expect(existsSync(fresh)).toBe(true);
  });

  it('applies --allow-module and --strict to the jobs it loads', async () => {
    const { ids } = JSON.parse(
      await runChild(JOB_CHILD, ['enqueue', db, 'add', '[2, 3]']),
    ) as { ids: string[] };
    const refused = await cli([
      'worker',
      db,
      '--allow-module',
      'src/**',
      '--until-empty',
    ]);
    expect(refused.code, refused.err).toBe(0);
    const q = await DuckQueue.open(db);
    const byModule = await q.getJob(ids[0]!);
    expect(byModule.status).toBe('failed');
    expect(byModule.lastError?.message).toMatch(/allowModules/);
    await q.retry(ids[0]!);
    await q.close();
    const source = plantRow(
      db,
      readFileSync('test/fixtures/payloads/v1-source.bin'),
      'source',
    );
    const strict = await cli([
      'worker',
      db,
      '--strict',
      '--allow-module',
      'test/fixtures/**',
      '--until-empty',
    ]);
    expect(strict.code, strict.err).toBe(0);
    const check = await DuckQueue.open(db);
    expect(await check.result(ids[0]!)).toBe(5);
    const planted = await check.getJob(source);
    expect(planted.status).toBe('failed');
    expect(planted.lastError?.message).toMatch(/strict/);
    await check.close();
  });

  it('runs jobs in worker threads with --isolation thread', async () => {
    const { ids } = JSON.parse(
      await runChild(JOB_CHILD, ['enqueue', db, 'add', '[20, 22]']),
    ) as { ids: string[] };
    const run = await cli([
      'worker',
      db,
      '--isolation',
      'thread',
      '--memory-limit-mb',
      '64',
      '--until-empty',
    ]);
    expect(run.code, run.err).toBe(0);
    const q = await DuckQueue.open(db);
    expect(await q.result(ids[0]!)).toBe(42);
    await q.close();
  });

  it('reports an --import that cannot be loaded', async () => {
    const run = await cli(['worker', db, '--import', './test/fixtures/missing.ts']);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/cannot import --import .\/test\/fixtures\/missing.ts/);
  });
});

describe('duckqueue stats', () => {
  it('shows counts for one queue, and refuses a missing file', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    await q.enqueue(double, { args: [1], queue: 'a' });
    await q.enqueue(double, { args: [1], queue: 'b', delayMs: 60_000 });
    await q.close();
    const a = await cli(['stats', db, '--queue', 'a', '--json']);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out).queues).toEqual({
      a: { pending: 1, delayed: 0, claimed: 0, done: 0, failed: 0, dead: 0 },
    });
    const all = await cli(['stats', db]);
    expect(all.out).toMatch(/b\s*│\s*0\s*│\s*1/);
    const none = await cli(['stats', join(tempDir(), 'nothing.db')]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no database at/);
  });

  it('lists recent failures with their whole error message', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    await q.enqueue(double, { args: [1] });
    const job = await q.claim({ workerId: 'w' });
    const message =
      'module ./jobs/mail.js could not be imported from /srv/app: the ' +
      'file is missing; deploy jobs/mail.js to the worker, then retry';
    await q.fail(job!, new Error(message));
    await q.close();
    const run = await cli(['stats', db]);
    expect(run.code, run.err).toBe(0);
    // Wrapped across lines and cells; compare without the table's drawing.
    const text = run.out.replace(/[│┌┐└┘├┤┬┴┼─\s]/g, '');
    expect(text).toContain(`Error:${message}`.replace(/\s/g, ''));
  });
});
