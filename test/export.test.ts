// `duckqueue export`: real SQLite and DuckDB stores are filled through the
// Store interface, exported to Parquet and CSV, and the files are read back
// through DuckDB.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckQueue } from '../src/queue/queue.js';
import { openStore as openDuckDB } from '../src/store/duckdb.js';
import {
  ExportError,
  exportJobs,
  parseStatuses,
} from '../src/store/export.js';
import { openStore as openSqlite } from '../src/store/sqlite.js';
import type { NewJobRow, Store } from '../src/store/types.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const T0 = 1_700_000_000_000;
const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');

afterAll(removeTempDirs);

const opens = {
  sqlite: (dir: string) => openSqlite(join(dir, 'jobs.db')),
  duckdb: (dir: string) => openDuckDB(join(dir, 'jobs.duckdb')),
};

function job(fnName: string, queue = 'default'): NewJobRow {
  return {
    queue,
    payload: new TextEncoder().encode(`payload of ${fnName}`),
    format: 'v8',
    fnName,
    priority: 50,
    runAt: T0,
    maxAttempts: 2,
    timeoutMs: null,
    createdAt: T0,
  };
}

const error = (message: string) => ({
  name: 'TypeError',
  message,
  stack: `TypeError: ${message}\n    at job`,
  value: null,
});

/**
 * Three done jobs (two in 'default', one in 'mail'), one failed, one
 * dead, one still pending. Returns ids by function name.
 */
async function fill(store: Store): Promise<Record<string, string>> {
  const names = ['ok1', 'ok2', 'okMail', 'broken', 'flaky', 'waiting'];
  const ids = await store.enqueueMany(
    names.map((n) => job(n, n === 'okMail' ? 'mail' : 'default')),
  );
  const byName = Object.fromEntries(names.map((n, i) => [n, ids[i]!]));
  const claim = { workerId: 'w1', now: T0 + 10, visibilityTimeoutMs: 1000 };
  await store.claimMany({ ...claim, queue: 'default' }, 4);
  await store.claim({ ...claim, queue: 'mail' });
  await store.ack(byName.ok1!, new Uint8Array([1, 2, 3]), T0 + 25);
  await store.ack(byName.ok2!, null, T0 + 40);
  await store.ack(byName.okMail!, new Uint8Array([7]), T0 + 30);
  await store.fail(byName.broken!, {
    error: error('cannot load'),
    status: 'failed',
    now: T0 + 50,
  });
  await store.fail(byName.flaky!, {
    error: error('gave up'),
    status: 'dead',
    now: T0 + 60,
  });
  return byName;
}

async function readBack(file: string, reader: string) {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  const result = await c.runAndReadAll(
    `SELECT * FROM ${reader}('${file}') ORDER BY CAST(id AS BIGINT)`,
  );
  const rows = result.getRowObjectsJS();
  c.closeSync();
  instance.closeSync();
  return rows;
}

for (const kind of ['sqlite', 'duckdb'] as const) {
  describe(`export from ${kind}`, () => {
    it('writes finished jobs to Parquet that reads back with the right rows', async () => {
      const dir = tempDir();
      const store = await opens[kind](dir);
      const ids = await fill(store);
      const out = join(dir, 'jobs.parquet');
      const summary = await exportJobs(store, { format: 'parquet', out });
      await store.close();
      expect(summary).toMatchObject({
        rows: 5,
        byStatus: { done: 3, failed: 1, dead: 1 },
      });

      const rows = await readBack(out, 'read_parquet');
      expect(rows.map((r) => r.fn_name)).toEqual([
        'ok1',
        'ok2',
        'okMail',
        'broken',
        'flaky',
      ]);
      const ok1 = rows[0]!;
      expect(ok1).toMatchObject({
        id: ids.ok1,
        queue: 'default',
        status: 'done',
        format: 'v8',
        attempts: 1,
        max_attempts: 2,
        claimed_by: 'w1',
        run_ms: 15n,
        payload_bytes: BigInt('payload of ok1'.length),
        result_bytes: 3n,
        error_name: null,
      });
      expect((ok1.finished_at as Date).getTime()).toBe(T0 + 25);
      expect((ok1.created_at as Date).getTime()).toBe(T0);
      expect(rows[1]!.result_bytes).toBeNull();
      expect(rows[4]).toMatchObject({
        status: 'dead',
        error_name: 'TypeError',
        error_message: 'gave up',
      });
      expect(rows[4]!.error_stack).toContain('at job');
      // Payloads stay out unless asked for.
      expect(Object.keys(ok1)).not.toContain('payload');
    });

    it('filters by status and queue, and exports blobs to CSV when asked', async () => {
      const dir = tempDir();
      const store = await opens[kind](dir);
      const ids = await fill(store);
      const out = join(dir, 'done.csv');
      const summary = await exportJobs(store, {
        format: 'csv',
        out,
        statuses: ['done'],
        queue: 'default',
        blobs: true,
        pageSize: 1,
      });
      await store.close();
      expect(summary).toMatchObject({ rows: 2, byStatus: { done: 2 } });
      expect(readFileSync(out, 'utf8').split('\n')[0]).toContain('fn_name');

      const rows = await readBack(out, 'read_csv_auto');
      expect(rows.map((r) => String(r.id))).toEqual([ids.ok1, ids.ok2]);
      expect(String(rows[0]!.payload)).toBe('payload of ok1');
    });

    it('exports every status with "all", pending included', async () => {
      const dir = tempDir();
      const store = await opens[kind](dir);
      await fill(store);
      const out = join(dir, 'all.parquet');
      const summary = await exportJobs(store, {
        format: 'parquet',
        out,
        statuses: parseStatuses('all'),
        now: T0 + 100,
      });
      await store.close();
      expect(summary.rows).toBe(6);
      expect(summary.byStatus.pending).toBe(1);
      const rows = await readBack(out, 'read_parquet');
      expect(rows.find((r) => r.fn_name === 'waiting')?.status).toBe('pending');
    });

    it('runs as `duckqueue export` on the database file', () => {
      // Filled and closed in a separate step: the CLI is another process.
      const dir = tempDir();
      const fillScript = join(dir, 'fill.mts');
      writeFileSync(
        fillScript,
        `import { openStore } from ${JSON.stringify(
          join(import.meta.dirname, '..', 'src', 'store', `${kind}.ts`),
        )};
        const store = await openStore(process.argv[2]);
        const now = Date.now();
        const ids = await store.enqueueMany([1, 2, 3].map((i) => ({
          queue: 'default', payload: new Uint8Array([i]), format: 'json',
          fnName: 'job' + i, priority: 50, runAt: now, maxAttempts: 1,
          timeoutMs: null, createdAt: now })));
        const claim = { queue: 'default', workerId: 'w', now,
          visibilityTimeoutMs: 1000 };
        await store.claimMany(claim, 2);
        await store.ack(ids[0], null, now);
        await store.ack(ids[1], null, now);
        await store.close();`,
      );
      const db = join(dir, kind === 'sqlite' ? 'q.db' : 'q.duckdb');
      const filled = spawnSync(
        process.execPath,
        ['--import', 'tsx', fillScript, db],
        { encoding: 'utf8' },
      );
      expect(filled.stderr).toBe('');

      const cli = spawnSync(
        process.execPath,
        ['--import', 'tsx', CLI, 'export', db, '--status', 'done'],
        { encoding: 'utf8' },
      );
      expect(cli.stderr).toBe('');
      expect(cli.status).toBe(0);
      const out = join(dir, 'q.parquet');
      expect(cli.stdout).toContain(
        `exported 2 jobs (done 2) from ${db} (${kind}) to ${out}`,
      );
      expect(statSync(out).size).toBeGreaterThan(0);
    });
  });
}

describe('export: bad input', () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', CLI, 'export', ...args], {
      encoding: 'utf8',
    });

  it('rejects unknown statuses and formats with typed errors', async () => {
    expect(() => parseStatuses('done,finsihed')).toThrow(ExportError);
    expect(() => parseStatuses('done,finsihed')).toThrow(/'finsihed'.*pending/);
    const dir = tempDir();
    const store = await opens.sqlite(dir);
    await expect(
      exportJobs(store, { format: 'xlsx' as 'csv', out: join(dir, 'x') }),
    ).rejects.toThrow(/'xlsx'.*'parquet' or 'csv'/);
    await store.close();
  });

  it('exits 2 naming the problem, and never touches a foreign database', () => {
    const dir = tempDir();
    const missing = cli(join(dir, 'nope.db'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no database at');

    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'hello');
    expect(cli(text).stderr).toContain('neither a SQLite nor a DuckDB');

    expect(cli(text, '--format', 'xml').stderr).toContain("--format 'xml'");
    expect(cli(text, '--colour').stderr).toMatch(/--colour.*Options: --format/s);

    const other = join(dir, 'other.db');
    const sqlite = new Database(other);
    sqlite.exec('CREATE TABLE notes (x)');
    sqlite.close();
    const before = readFileSync(other);
    const foreign = cli(other);
    expect(foreign.status).toBe(2);
    expect(foreign.stderr).toContain('without a job queue');
    expect(readFileSync(other).equals(before)).toBe(true);
  });

  it('refuses --out in a missing directory instead of creating it', async () => {
    const dir = tempDir();
    const file = join(dir, 'jobs.db');
    await (await DuckQueue.open(file)).close();
    const run = cli(file, '--out', join(dir, 'typo', 'jobs.parquet'));
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/directory .*typo does not exist/);
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });

  it('exits 1 with the lock advice while a DuckDB file is held', async () => {
    const dir = tempDir();
    const file = join(dir, 'held.duckdb');
    const store = await openDuckDB(file);
    const held = cli(file);
    await store.close();
    expect(held.status).toBe(1);
    expect(held.stderr).toContain('allows one process per database file');
  });
});
