// The `duckqueue worker` and `duckqueue stats` commands as an operator
// runs them: arguments, --import of task modules, weighted --queue, exit
// codes and messages.

import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckQueue } from '../src/index.js';
import { UnservedQueueWatch } from '../src/worker/unserved-queues.js';
import { double } from './fixtures/json-tasks.js';
import { ROOT, runChild, startChild, waitFor } from './helpers/children.js';
import { recordingLogger } from './helpers/logging.js';
import { plantRow } from './helpers/plant-row.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const CLI = 'src/cli.ts';
const JOB_CHILD = 'test/fixtures/queue-child.ts';
let db: string;

beforeEach(() => {
  db = join(tempDir(), 'jobs.db');
});
afterAll(removeTempDirs);

async function cli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const child = startChild(CLI, args, options);
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
    expect(unknown.err).toMatch(
      /^duckqueue worker: unknown option --concurency \(did you mean --concurrency\?\)\nusage: duckqueue worker/,
    );
    expect(unknown.err).not.toMatch(/positional argument/);
    const bare = await cli(['worker', db, '--queue']);
    expect(bare.code, bare.err).toBe(2);
    expect(bare.err).toMatch(/^duckqueue worker: option --queue needs a value\n/);
  });

  it('refuses a --queue weight that is not a whole number >= 1', async () => {
    for (const spec of ['mail:x', 'mail:0', 'mail:1.5', 'mail:', 'mail:1001']) {
      const run = await cli([
        'worker',
        db,
        '--queue',
        spec,
        '--create',
        '--until-empty',
      ]);
      expect(run.code, run.err).toBe(2);
      expect(run.err).toContain(`--queue ${spec}: the weight after the last ':'`);
    }
    // A name with ':' in it is served when its weight is given.
    const q = await DuckQueue.open(db, { serialization: 'json' });
    const id = await q.enqueue(double, { args: [4], queue: 'mail:x' });
    await q.close();
    const run = await cli([
      'worker',
      db,
      '--serialization',
      'json',
      '--import',
      './test/fixtures/json-tasks.ts',
      '--queue',
      'mail:x:1',
      '--until-empty',
    ]);
    expect(run.code, run.err).toBe(0);
    const check = await DuckQueue.open(db, { serialization: 'json' });
    expect(await check.result(id)).toBe(8);
    await check.close();
  });

  it('turns a bad option value into a usage error, not a stack trace', async () => {
    const run = await cli(['worker', db, '--concurrency', '0']);
    expect(run.code, run.err).toBe(2);
    expect(run.err).toMatch(/^duckqueue: concurrency: must be a number from 1/m);
    expect(run.err).not.toMatch(/\n\s+at /);
  });

  it('reports a bad serializer or signing key in one line, creating nothing', async () => {
    const typo = await cli(['worker', db, '--serialization', 'pickel', '--create']);
    expect(typo.code, typo.err).toBe(2);
    expect(typo.err).toMatch(/^duckqueue: unknown serializer 'pickel'; registered: .*'pickle'/);
    expect(typo.err.trim().split('\n')).toHaveLength(1);
    const short = await cli(['worker', db, '--create'], {
      env: { DUCKQUEUE_SIGNING_KEY: 'too-short' },
    });
    expect(short.code, short.err).toBe(2);
    expect(short.err).toMatch(
      /^duckqueue: DUCKQUEUE_SIGNING_KEY: signing key has 9 bytes; use at least 16/,
    );
    expect(short.err.trim().split('\n')).toHaveLength(1);
    // Flags are checked before the database is looked at or created.
    expect(existsSync(db)).toBe(false);
    const wrongStore = await cli(['stats', db, '--store', 'postgres']);
    expect(wrongStore.code, wrongStore.err).toBe(2);
    expect(wrongStore.err).toMatch(/^duckqueue: postgres store option 'connectionString'/);
    expect(wrongStore.err).not.toMatch(/\n\s+at /);
  });

  it('warns while running about jobs in queues it does not serve', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    await q.enqueue(double, { args: [3], queue: 'mail' });
    await q.close();
    // No --until-empty: a long-running worker must say so too.
    const worker = startChild(CLI, [
      'worker',
      db,
      '--serialization',
      'json',
      '--queue',
      'high',
      '--poll-ms',
      '20',
    ]);
    const warning = new RegExp(
      'WARN \\[worker\\] jobs are waiting in a queue this worker does not ' +
        'serve queue=mail pending=1 delayed=0 fix="add --queue mail ',
    );
    try {
      await waitFor('the unserved-queue warning', () =>
        warning.test(worker.stderr()),
      );
    } finally {
      worker.proc.kill('SIGTERM');
    }
    expect(await worker.exited, worker.stderr()).toBe(0);
    const warnings = worker.stderr().split('\n').filter((l) => warning.test(l));
    expect(warnings).toHaveLength(1);
    const check = await DuckQueue.open(db, { serialization: 'json' });
    expect((await check.stats('mail')).pending).toBe(1);
    await check.close();
  });

  it('runs jobs from another working directory with --root', async () => {
    const { ids } = JSON.parse(
      await runChild(JOB_CHILD, ['enqueue', db, 'add', '[2, 40]']),
    ) as { ids: string[] };
    const elsewhere = tempDir();
    const run = await cli(['worker', db, '--root', ROOT, '--until-empty'], {
      cwd: elsewhere,
    });
    expect(run.code, run.err).toBe(0);
    const q = await DuckQueue.open(db);
    expect(await q.result(ids[0]!)).toBe(42);
    // Without --root the same worker looks for the module under its cwd.
    const { ids: more } = JSON.parse(
      await runChild(JOB_CHILD, ['enqueue', db, 'add', '[1, 1]']),
    ) as { ids: string[] };
    const lost = await cli(['worker', db, '--until-empty'], { cwd: elsewhere });
    expect(lost.code, lost.err).toBe(0);
    const job = await q.getJob(more[0]!);
    expect(job.lastError?.message).toMatch(/cannot import module/);
    await q.close();
    const missing = await cli(['worker', db, '--root', join(elsewhere, 'nope')]);
    expect(missing.code, missing.err).toBe(2);
    expect(missing.err).toMatch(/--root .*nope: no such directory/);
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

  it('adds no queue to another database without --create, and never to a directory', async () => {
    const dir = tempDir();
    const other = join(dir, 'notes.db');
    const sqlite = new Database(other);
    sqlite.exec('CREATE TABLE notes (x)');
    sqlite.close();
    const before = readFileSync(other);
    const refused = await cli(['worker', other, '--until-empty']);
    expect(refused.code, refused.err).toBe(1);
    expect(refused.err).toMatch(/without a job queue.*Pass --create/);
    expect(readFileSync(other).equals(before)).toBe(true);
    const folder = await cli(['worker', dir, '--until-empty']);
    expect(folder.code, folder.err).toBe(1);
    expect(folder.err).toMatch(/cannot be opened as a SQLite database/);
    expect(folder.err).not.toMatch(/\n\s+at /);
    const added = await cli(['worker', other, '--create', '--until-empty']);
    expect(added.code, added.err).toBe(0);
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

describe('unserved-queue warnings', () => {
  it('warns once per queue with waiting jobs, again only after repeatMs', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    await q.enqueue(double, { args: [1], queue: 'mail' });
    await q.enqueue(double, { args: [1], queue: 'bulk', delayMs: 60_000 });
    await q.enqueue(double, { args: [1], queue: 'high' });
    await q.enqueue(double, { args: [1], queue: 'old' });
    await q.ack((await q.claim({ queue: 'old', workerId: 'w' }))!, 2);
    let now = 1_000_000;
    const { logger, entries: lines } = recordingLogger();
    const watch = new UnservedQueueWatch(q, {
      served: ['high'],
      logger,
      repeatMs: 300_000,
      minCheckMs: 30_000,
      clock: () => now,
    });
    const warned = () =>
      lines
        .filter((l) => l.level === 'warn')
        .map((l) => (l.meta as { queue: string }).queue);
    await watch.check();
    // Served queues and queues with only finished jobs stay quiet.
    expect(warned().sort()).toEqual(['bulk', 'mail']);
    expect(lines[0]!.meta).toMatchObject({ fix: expect.stringMatching(/--queue/) });
    // Idle again soon after: the check itself is skipped...
    now += 1_000;
    await q.enqueue(double, { args: [1], queue: 'late' });
    await watch.check();
    expect(warned()).toHaveLength(2);
    // ...and a forced one reports only the queue not warned about yet.
    await watch.check({ force: true });
    expect(warned().slice(2)).toEqual(['late']);
    now += 60_000;
    await watch.check();
    expect(warned()).toHaveLength(3);
    now += 300_000;
    await watch.check();
    expect(warned().slice(3).sort()).toEqual(['bulk', 'late', 'mail']);
    // A name with ':' is spelt with its weight, or --queue would split it.
    await q.enqueue(double, { args: [1], queue: 'mail:3' });
    await watch.check({ force: true });
    const colon = lines.find(
      (l) => (l.meta as { queue?: string } | undefined)?.queue === 'mail:3',
    );
    expect(colon?.meta).toMatchObject({
      fix: expect.stringMatching(/add --queue mail:3:1 to/),
    });
    await q.close();
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

  it('never turns another database or a missing path into a queue', async () => {
    const dir = tempDir();
    const other = join(dir, 'notes.db');
    const sqlite = new Database(other);
    sqlite.exec('CREATE TABLE notes (x)');
    sqlite.close();
    const before = readFileSync(other);
    const run = await cli(['stats', other]);
    expect(run.code, run.err).toBe(1);
    expect(run.err).toMatch(/without a job queue .*nothing was changed/);
    expect(readFileSync(other).equals(before)).toBe(true);
    expect(existsSync(`${other}-wal`)).toBe(false);

    const duck = join(dir, 'typo.duckdb');
    const missing = await cli(['stats', duck, '--store', 'duckdb']);
    expect(missing.code, missing.err).toBe(1);
    expect(missing.err).toMatch(/no database at/);
    expect(existsSync(duck)).toBe(false);
  });

  it('prints messages from job rows without their control sequences', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    await q.enqueue(double, { args: [1] });
    const job = await q.claim({ workerId: 'w' });
    await q.fail(job!, new Error('boom\u001b]0;owned\u0007\u001b[2J'));
    await q.close();
    const run = await cli(['stats', db]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(run.out.replace(/[│\s]/g, '')).toContain('\\u001b]0;owned');
    // Planted bytes where text belongs, and a C1 control JSON leaves raw.
    const sqlite = new Database(db);
    sqlite
      .prepare(`UPDATE jobs SET fn_name = X'1b5b324a', queue = 'q\u009b1m',
        error_message = 'csi \u009b2J'`)
      .run();
    sqlite.close();
    for (const args of [['stats', db], ['stats', db, '--json']]) {
      const again = await cli(args);
      expect(again.code, again.err).toBe(0);
      expect(again.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    }
    const json = JSON.parse((await cli(['stats', db, '--json'])).out);
    expect(json.recentFailures[0].error).toContain('csi \u009b2J');
    const nosuch = await cli(['stats', db, '--queue', 'nosuch']);
    expect(nosuch.err).toContain('q\\u009b1m');
    expect(nosuch.err).not.toMatch(/[\u007f-\u009f\u001b]/);
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

  it('wraps failure messages between words, splitting only overlong words', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    await q.enqueue(double, { args: [1] });
    const job = await q.claim({ workerId: 'w' });
    const path = '/srv/app/' + 'nested/'.repeat(12) + 'mail-templates.js';
    const message =
      'the template renderer could not find its configuration because ' +
      `the deployment skipped ${path} entirely; redeploy, then retry`;
    await q.fail(job!, new Error(message));
    await q.close();
    const run = await cli(['stats', db]);
    expect(run.code, run.err).toBe(0);
    const cells = run.out
      .split('\n')
      .map((line) => line.split('│')[6]?.trim())
      .filter((cell): cell is string => cell !== undefined && cell !== '');
    const column = cells.slice(cells.indexOf('error') + 1).join('\n');
    // Every ordinary word sits whole on one line...
    for (const word of message.split(' ').filter((w) => w !== path)) {
      expect(column.split(/\s+/)).toContain(word);
    }
    // ...and the path, wider than the column, is split but kept whole.
    expect(column.replace(/\s/g, '')).toContain(path);
  });

  it('says when a --queue has no jobs and lists the queues that do', async () => {
    const q = await DuckQueue.open(db, { serialization: 'json' });
    await q.enqueue(double, { args: [1], queue: 'mail' });
    await q.enqueue(double, { args: [1], queue: 'bulk' });
    await q.close();
    const run = await cli(['stats', db, '--queue', 'mial', '--json']);
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out).queues.mial.pending).toBe(0);
    expect(run.err).toMatch(
      /no job is stored in queue 'mial' .*Queues with jobs: bulk, mail/,
    );
    const known = await cli(['stats', db, '--queue', 'mail']);
    expect(known.err).toBe('');
  });

  it('names an unknown flag and the one it resembles', async () => {
    const run = await cli(['stats', db, '--queues', 'mail']);
    expect(run.code, run.err).toBe(2);
    expect(run.err).toMatch(
      /^duckqueue stats: unknown option --queues \(did you mean --queue\?\)\nusage: duckqueue stats/,
    );
  });
});
