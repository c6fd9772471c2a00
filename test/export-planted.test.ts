// `duckqueue export` on a real SQLite file where rows were changed behind
// the queue's back: text or huge numbers in integer and time columns,
// bytes in text columns, a text payload. Every row is exported; the odd
// cells are NULL and the row's row_note names them; the honest row is
// exported as it is. Read back through DuckDB, and through the CLI.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJobs } from '../src/store/export.js';
import { openStore } from '../src/store/sqlite.js';
import type { NewJobRow } from '../src/store/types.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

const T0 = 1_700_000_000_000;
const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');

afterAll(removeTempDirs);

/** Column planted, value, and what row_note must say about it. */
const PLANTED: [string, unknown, RegExp][] = [
  ['priority', 'abc', /priority holds "abc", not a 32-bit integer/],
  ['priority', 1e300, /priority holds 1e\+300, not a 32-bit integer/],
  ['attempts', 2 ** 40, /attempts holds 1099511627776/],
  ['max_attempts', 'many', /max_attempts holds "many"/],
  ['timeout_ms', 'soon', /timeout_ms holds "soon", not whole ms/],
  ['timeout_ms', 1e300, /timeout_ms holds 1e\+300, not whole ms/],
  ['run_at', 'soon', /run_at holds "soon", not a time/],
  ['created_at', 1e300, /created_at holds 1e\+300, not a time/],
  ['finished_at', 9e18, /finished_at holds 9000000000000000000, not a time/],
  ['fn_name', Buffer.from([1, 2, 3]), /fn_name holds 3 bytes/],
  ['error_message', Buffer.from('boom'), /error_message holds 4 bytes/],
  ['payload', 'text payload', /payload holds "text payload", not bytes/],
];

const COLUMN_OF: Record<string, string> = {
  payload: 'payload_bytes',
};

let dir: string;
let db: string;
let ids: string[];

beforeAll(async () => {
  dir = tempDir('dq-export-planted-');
  db = join(dir, 'jobs.db');
  const store = await openStore(db);
  const row = (fnName: string): NewJobRow => ({
    queue: 'default',
    payload: new Uint8Array([1, 2, 3, 4]),
    format: 'json',
    fnName,
    priority: 50,
    runAt: T0,
    maxAttempts: 3,
    timeoutMs: null,
    createdAt: T0,
  });
  const names = ['honest', ...PLANTED.map((_, i) => `planted${i}`)];
  ids = await store.enqueueMany(names.map(row));
  const claim = { queue: 'default', workerId: 'w', now: T0 + 5, visibilityTimeoutMs: 1000 };
  await store.claimMany(claim, names.length);
  for (const id of ids) {
    await store.fail(id, {
      error: { name: 'Error', message: 'failed', stack: null, value: null },
      status: 'failed',
      now: T0 + 20,
    });
  }
  await store.close();
  const raw = new Database(db);
  PLANTED.forEach(([column, value], i) => {
    raw.prepare(`UPDATE jobs SET ${column} = ? WHERE id = ?`).run(value, Number(ids[i + 1]));
  });
  raw.close();
});

async function readBack(file: string, reader: string): Promise<Record<string, unknown>[]> {
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

describe('export of planted rows', () => {
  it.each(['parquet', 'csv'] as const)(
    'writes every row to %s, NULL in the odd cells, named in row_note',
    async (format) => {
      const store = await openStore(db);
      const out = join(dir, `jobs.${format}`);
      const summary = await exportJobs(store, { format, out, blobs: true });
      await store.close();
      expect(summary.rows).toBe(PLANTED.length + 1);
      expect(summary.rowsWithNotes).toBe(PLANTED.length);

      const rows = await readBack(out, format === 'csv' ? 'read_csv' : 'read_parquet');
      expect(rows).toHaveLength(PLANTED.length + 1);
      const honest = rows[0]!;
      expect(honest.fn_name).toBe('honest');
      expect(honest.row_note).toBeNull();
      expect(Number(honest.priority)).toBe(50);
      expect(new Date(honest.finished_at as string).getTime()).toBe(T0 + 20);

      PLANTED.forEach(([column, , note], i) => {
        const row = rows[i + 1]!;
        expect(String(row.id)).toBe(ids[i + 1]);
        expect(row.row_note).toMatch(note);
        expect(row[COLUMN_OF[column] ?? column]).toBeNull();
        expect(row.status).toBe('failed');
      });
    },
  );

  it('runs as `duckqueue export` without a stack trace', () => {
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', CLI, 'export', db, '--out', join(dir, 'cli.parquet')],
      { encoding: 'utf8' },
    );
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain(`exported ${PLANTED.length + 1} jobs (failed`);
    expect(cli.stdout).toContain(
      `${PLANTED.length} rows held values that do not fit their column`,
    );
  });
});
