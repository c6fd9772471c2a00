// What the storage suite times: a store through the Store interface, and
// the same queue operations written straight against the database driver
// ("raw"), on the same table. Raw is the limit a store can approach: it
// skips option objects, row conversion and the interface, nothing else.

import Database from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { duckdbCoreMigrations } from '../../src/store/duckdb/migrations.js';
import { openStore as openDuckDBStore } from '../../src/store/duckdb.js';
import { sqliteCoreMigrations } from '../../src/store/sqlite-migrations.js';
import { openStore as openSqliteStore } from '../../src/store/sqlite.js';
import type { NewJobRow, Store } from '../../src/store/types.js';

/** The operations every workload uses, for a store and for raw SQL. */
export interface QueueDriver {
  enqueue(job: NewJobRow): Promise<string>;
  enqueueMany(jobs: NewJobRow[]): Promise<string[]>;
  /** Claim up to `max` ready jobs of `queue`; ids in claim order. */
  claim(queue: string, now: number, max: number): Promise<string[]>;
  ack(id: string, result: Uint8Array | null, now: number): Promise<boolean>;
  /** Ack several claimed jobs with one commit; how many were acked. */
  ackMany(ids: string[], now: number): Promise<number>;
  close(): Promise<void>;
}

export interface Backend {
  /** 'sqlite', 'duckdb', ... as in `store:`. */
  name: string;
  /** Database files the backend writes for a location (for disk size). */
  files(location: string): string[];
  fileName: string;
  /**
   * Bytes inside the closed file that hold no data: pages or blocks freed
   * and kept for reuse rather than returned to the file system.
   */
  freeBytes?(location: string): Promise<number>;
  openStore(location: string): Promise<QueueDriver>;
  openRaw(location: string): Promise<QueueDriver>;
}

const VISIBILITY_MS = 60_000;

// What a worker needs from a claimed job to run it; the raw claim returns
// this much (id first), the store returns the whole row.
const CLAIMED = `id, payload, format, fn_name, attempts, max_attempts,
  timeout_ms`;

/** A Store seen as a QueueDriver: exactly what the queue calls. */
export function storeDriver(store: Store, workerId = 'bench'): QueueDriver {
  return {
    enqueue: (job) => store.enqueue(job),
    enqueueMany: (jobs) => store.enqueueMany(jobs),
    async claim(queue, now, max) {
      const req = { queue, workerId, now, visibilityTimeoutMs: VISIBILITY_MS };
      if (max === 1) {
        const job = await store.claim(req);
        return job ? [job.id] : [];
      }
      return (await store.claimMany(req, max)).map((j) => j.id);
    },
    ack: (id, result, now) => store.ack(id, result, now),
    async ackMany(ids, now) {
      if (!store.ackMany) {
        let n = 0;
        for (const id of ids) if (await store.ack(id, null, now)) n++;
        return n;
      }
      const done = await store.ackMany(
        ids.map((id) => ({ id, result: null })),
        now,
      );
      return done.filter(Boolean).length;
    },
    close: () => store.close(),
  };
}

export function fileBytes(files: string[]): number {
  let total = 0;
  for (const f of files) {
    try {
      total += statSync(f).size;
    } catch {
      // A WAL that was folded in and removed counts as nothing.
    }
  }
  return total;
}

// --- SQLite -----------------------------------------------------------

export async function openRawSqlite(
  location: string,
  synchronous: 'NORMAL' | 'FULL' = 'NORMAL',
  /** Rows per INSERT statement in enqueueMany (1 = one per row). */
  rowsPerInsert = 1,
): Promise<QueueDriver> {
  const db = new Database(location);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  for (const m of sqliteCoreMigrations) db.exec(m.sql);
  const insert = db.prepare(`INSERT INTO jobs (queue, status, payload,
    format, fn_name, priority, max_attempts, timeout_ms, run_at, created_at,
    updated_at) VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const add = (j: NewJobRow) =>
    String(
      insert.run(
        j.queue,
        j.payload,
        j.format,
        j.fnName,
        j.priority,
        j.maxAttempts,
        j.timeoutMs,
        j.runAt,
        j.createdAt,
        j.createdAt,
      ).lastInsertRowid,
    );
  const columns = `INSERT INTO jobs (queue, status, payload, format, fn_name,
    priority, max_attempts, timeout_ms, run_at, created_at, updated_at)
    VALUES `;
  const row = `(?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
  const insertRows = db
    .prepare(`${columns}${Array(rowsPerInsert).fill(row).join(', ')}
      RETURNING id`)
    .pluck();
  const values: unknown[] = [];
  // Several rows per statement: one step through SQLite instead of many.
  const addChunk = (jobs: NewJobRow[], from: number): string[] => {
    values.length = 0;
    for (let i = from; i < from + rowsPerInsert; i++) {
      const j = jobs[i]!;
      values.push(j.queue, j.payload, j.format, j.fnName, j.priority,
        j.maxAttempts, j.timeoutMs, j.runAt, j.createdAt, j.createdAt);
    }
    const ids = insertRows.all(values) as number[];
    return ids.sort((a, b) => a - b).map(String);
  };
  const addMany = db.transaction((jobs: NewJobRow[]) => {
    if (rowsPerInsert === 1) return jobs.map(add);
    const ids: string[] = [];
    let i = 0;
    for (; i + rowsPerInsert <= jobs.length; i += rowsPerInsert) {
      ids.push(...addChunk(jobs, i));
    }
    for (; i < jobs.length; i++) ids.push(add(jobs[i]!));
    return ids;
  });
  // better-sqlite3 binds anonymous parameters fastest; values repeat.
  const claim = db
    .prepare(`UPDATE jobs SET status = 'claimed', attempts = attempts + 1,
      claimed_at = ?, claimed_by = 'raw', claim_expires_at = ? + 60000,
      updated_at = ?
      WHERE id IN (SELECT id FROM jobs WHERE queue = ?
        AND status = 'pending' AND run_at <= ?
        ORDER BY priority DESC, run_at, id LIMIT ?)
      RETURNING ${CLAIMED}`)
    .raw();
  const claimIds = (queue: string, now: number, max: number) =>
    (claim.all(now, now, now, queue, now, max) as [number][]).map((r) => r[0]);
  const claimMany = db.transaction(
    (queue: string, now: number, max: number) =>
      claimIds(queue, now, max).sort((a, b) => a - b),
  );
  const ack = db.prepare(`UPDATE jobs SET status = 'done', result = ?,
    finished_at = ?, updated_at = ? WHERE id = ? AND status = 'claimed'`);
  const ackAll = db.transaction((ids: string[], now: number) => {
    let n = 0;
    for (const id of ids) n += ack.run(null, now, now, Number(id)).changes;
    return n;
  });
  return {
    enqueue: async (job) => add(job),
    enqueueMany: async (jobs) => addMany.immediate(jobs),
    async claim(queue, now, max) {
      const ids =
        max === 1 ? claimIds(queue, now, 1) : claimMany.immediate(queue, now, max);
      return ids.map(String);
    },
    ack: async (id, result, now) =>
      ack.run(result, now, now, Number(id)).changes === 1,
    ackMany: async (ids, now) => ackAll.immediate(ids, now),
    close: async () => {
      db.close();
    },
  };
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  fileName: 'jobs.db',
  files: (location) => [location, `${location}-wal`, `${location}-shm`],
  async freeBytes(location) {
    const db = new Database(location, { readonly: true });
    try {
      const pages = db.pragma('freelist_count', { simple: true }) as number;
      const size = db.pragma('page_size', { simple: true }) as number;
      return pages * size;
    } finally {
      db.close();
    }
  },
  openStore: async (location) => storeDriver(await openSqliteStore(location)),
  openRaw: (location) => openRawSqlite(location),
};

// --- DuckDB -----------------------------------------------------------

async function openRawDuckDB(location: string): Promise<QueueDriver> {
  const instance = await DuckDBInstance.create(location, {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const c: DuckDBConnection = await instance.connect();
  for (const m of duckdbCoreMigrations) await c.run(m.sql);
  const insert = await c.prepare(`INSERT INTO jobs (id, queue, status,
    payload, format, fn_name, priority, max_attempts, timeout_ms, run_at,
    created_at, updated_at) VALUES (nextval('duckqueue_job_ids'), $1,
    'pending', $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`);
  const reserve = await c.prepare(`SELECT nextval('duckqueue_job_ids') AS id
    FROM range($1) ORDER BY id`);
  const claim = await c.prepare(`UPDATE jobs SET status = 'claimed',
      attempts = attempts + 1, claimed_at = $1, claimed_by = 'raw',
      claim_expires_at = $1 + 60000, updated_at = $1
    WHERE id IN (SELECT id FROM jobs WHERE queue = $2
      AND status = 'pending' AND run_at <= $1
      ORDER BY priority DESC, run_at, id LIMIT $3)
    RETURNING ${CLAIMED}`);
  const ack = await c.prepare(`UPDATE jobs SET status = 'done', result = $1,
    finished_at = $2, updated_at = $2 WHERE id = $3 AND status = 'claimed'`);
  await c.run('CREATE TEMP TABLE raw_ack_batch (id BIGINT)');
  const ackAll = await c.prepare(`UPDATE jobs SET status = 'done',
      finished_at = $1, updated_at = $1
    FROM raw_ack_batch b WHERE jobs.id = b.id AND jobs.status = 'claimed'`);
  return {
    async enqueue(j) {
      insert.bindVarchar(1, j.queue);
      insert.bindBlob(2, j.payload);
      insert.bindVarchar(3, j.format);
      insert.bindVarchar(4, j.fnName);
      insert.bindInteger(5, j.priority);
      insert.bindInteger(6, j.maxAttempts);
      if (j.timeoutMs === null) insert.bindNull(7);
      else insert.bindBigInt(7, BigInt(j.timeoutMs));
      insert.bindBigInt(8, BigInt(j.runAt));
      insert.bindBigInt(9, BigInt(j.createdAt));
      const rows = (await insert.runAndReadAll()).getRows();
      return String(rows[0]![0]);
    },
    async enqueueMany(jobs) {
      await c.run('BEGIN TRANSACTION');
      reserve.bindBigInt(1, BigInt(jobs.length));
      const reserved = await reserve.runAndReadAll();
      const ids = reserved.getRows().map((r) => r[0] as bigint);
      const a = await c.createAppender('jobs');
      for (let i = 0; i < jobs.length; i++) {
        const j = jobs[i]!;
        a.appendBigInt(ids[i]!);
        a.appendVarchar(j.queue);
        a.appendVarchar('pending');
        a.appendBlob(j.payload);
        a.appendVarchar(j.format);
        a.appendVarchar(j.fnName);
        a.appendInteger(j.priority);
        a.appendInteger(0);
        a.appendInteger(j.maxAttempts);
        a.appendNull();
        a.appendBigInt(BigInt(j.runAt));
        a.appendBigInt(BigInt(j.createdAt));
        a.appendBigInt(BigInt(j.createdAt));
        for (let k = 0; k < 9; k++) a.appendNull();
        a.endRow();
      }
      a.flushSync();
      a.closeSync();
      await c.run('COMMIT');
      return ids.map(String);
    },
    async claim(queue, now, max) {
      claim.bindBigInt(1, BigInt(now));
      claim.bindVarchar(2, queue);
      claim.bindBigInt(3, BigInt(max));
      const rows = (await claim.runAndReadAll()).getRows();
      return rows
        .map((r) => r[0] as bigint)
        .sort((a, b) => (a < b ? -1 : 1))
        .map(String);
    },
    async ack(id, result, now) {
      if (result === null) ack.bindNull(1);
      else ack.bindBlob(1, result);
      ack.bindBigInt(2, BigInt(now));
      ack.bindBigInt(3, BigInt(id));
      return (await ack.run()).rowsChanged === 1;
    },
    // Set-based, as the store does it: append the ids, join them in.
    async ackMany(ids, now) {
      await c.run('BEGIN TRANSACTION');
      const a = await c.createAppender('raw_ack_batch', null, 'temp');
      for (const id of ids) {
        a.appendBigInt(BigInt(id));
        a.endRow();
      }
      a.flushSync();
      a.closeSync();
      ackAll.bindBigInt(1, BigInt(now));
      const n = Number((await ackAll.run()).rowsChanged);
      await c.run('DELETE FROM raw_ack_batch');
      await c.run('COMMIT');
      return n;
    },
    async close() {
      for (const s of [insert, reserve, claim, ack, ackAll]) s.destroySync();
      await c.run('CHECKPOINT');
      c.closeSync();
      instance.closeSync();
    },
  };
}

export const duckdbBackend: Backend = {
  name: 'duckdb',
  fileName: 'jobs.duckdb',
  files: (location) => [location, `${location}.wal`],
  async freeBytes(location) {
    const instance = await DuckDBInstance.create(location, {
      access_mode: 'READ_ONLY',
    });
    const c = await instance.connect();
    try {
      const reader = await c.runAndReadAll(
        'SELECT free_blocks * block_size FROM pragma_database_size()',
      );
      return Number(reader.getRows()[0]![0]);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  },
  openStore: async (location) => storeDriver(await openDuckDBStore(location)),
  openRaw: openRawDuckDB,
};

export const BACKENDS: readonly Backend[] = [sqliteBackend, duckdbBackend];

export function locationIn(dir: string, backend: Backend): string {
  return join(dir, backend.fileName);
}
