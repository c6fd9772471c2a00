// The DuckDB store: the job table in one DuckDB file, for users who want
// their queue next to their analytics.
//
// Caveat: DuckDB lets ONE process open a database file for writing. A
// second process (another worker, or `duckqueue stats` while a worker runs)
// gets StoreLockedError. Run workers inside the queue's process, or use the
// SQLite store (several processes) or PostgreSQL (several machines).
// Inside one process any number of stores on the same file share one
// connection and run their statements in turn (see duckdb/database.ts).
// Caveat: that sharing covers this package's stores only. Do not open the
// queue's file with your own DuckDBInstance in the same process while a
// store has it open (the two would not see each other's writes); read it
// after close(), or export it (`duckqueue export`).
//
// DuckDB is built for scans over many rows, not for many one-row
// transactions: every statement costs about a millisecond here, where
// SQLite needs microseconds. Batch enqueue (the appender) and claimMany
// are where it does well; reports/storage.md has the numbers.

import { appendJobs } from './duckdb/append.js';
import { StoreFileError } from './duckdb/errors.js';
import {
  SharedDatabase,
  type DuckDBConfig,
  type Params,
} from './duckdb/database.js';
import { duckdbCoreMigrations, type SqlMigration } from './duckdb/migrations.js';
import { DuckDBDagStore, duckdbDagMigrations } from '../dag/duckdb.js';
import {
  JOB_COLUMNS,
  SHOWN_STATUS,
  jobColumns,
  num,
  toJobRow,
} from './duckdb/rows.js';
import type {
  AckRequest,
  ClaimFence,
  ClaimRequest,
  ErrorRow,
  FailUpdate,
  JobRow,
  JobStatus,
  ListRequest,
  NewJobRow,
  PurgeRequest,
  RecoverRequest,
  RecoverResult,
  RetryUpdate,
  StatusCounts,
  Store,
  StoreOptions,
} from './types.js';
import { JOB_STATUSES } from './types.js';

export { StoreFileError, StoreLockedError } from './duckdb/errors.js';

/**
 * Options of the DuckDB store. `busyTimeoutMs` has no effect here: DuckDB
 * refuses a second process at once instead of making it wait.
 */
export interface DuckDBStoreOptions extends StoreOptions {
  /**
   * Extra migrations run after the core ones (e.g. DAG tables), in DuckDB
   * SQL. Default none.
   */
  migrations?: readonly SqlMigration[];
  /**
   * DuckDB settings for the database, e.g. `{ threads: '1' }`. Applied
   * only by the first store to open a file in this process. Default none.
   */
  duckdb?: DuckDBConfig;
  /**
   * Refuse a database that holds no job queue yet instead of creating the
   * tables (readers such as `duckqueue export`). Default false.
   */
  existingOnly?: boolean;
}

const DEFAULT_LIST_LIMIT = 100;

// Applies only while the job is still held by the fenced claim (if given).
const HELD = `status = 'claimed' AND ($worker IS NULL OR
  (claimed_by = $worker AND attempts = $attempt))`;

const SET_ERROR = `error_name = $errorName, error_message = $errorMessage,
  error_stack = $errorStack, error_value = $errorValue`;

const SQL = {
  insert: `INSERT INTO jobs (id, queue, status, payload, format, fn_name,
      priority, max_attempts, timeout_ms, run_at, created_at, updated_at)
    VALUES (nextval('duckqueue_job_ids'), $queue, 'pending', $payload,
      $format, $fnName, $priority, $maxAttempts, $timeoutMs, $runAt,
      $createdAt, $createdAt)
    RETURNING id`,
  // Planted out-of-range values must not make the claim itself overflow
  // and stall the queue: the worker fails such rows.
  claim: `UPDATE jobs SET status = 'claimed',
      attempts = LEAST(attempts, 2147483646) + 1,
      claimed_at = $now, claimed_by = $worker,
      claim_expires_at = $now + $visibility + (CASE
        WHEN timeout_ms BETWEEN 1 AND 2147483647 THEN timeout_ms
        ELSE 0 END),
      updated_at = $now
    WHERE id IN (SELECT id FROM jobs
      WHERE queue = $queue AND status = 'pending' AND run_at <= $now
      ORDER BY priority DESC, run_at, id LIMIT $max)
    RETURNING ${jobColumns('status')}`,
  ack: `UPDATE jobs SET status = 'done', result = $result,
      finished_at = $now, updated_at = $now, claim_expires_at = NULL
    WHERE id = $id AND ${HELD}`,
  retry: `UPDATE jobs SET status = 'pending', run_at = $runAt,
      updated_at = $now, claim_expires_at = NULL, ${SET_ERROR}
    WHERE id = $id AND ${HELD}`,
  fail: `UPDATE jobs SET status = $status, finished_at = $now,
      updated_at = $now, claim_expires_at = NULL, ${SET_ERROR}
    WHERE id = $id AND ${HELD}`,
  release: `UPDATE jobs SET status = 'pending', attempts = attempts - 1,
      run_at = $now, updated_at = $now, claim_expires_at = NULL
    WHERE id = $id AND ${HELD}`,
  extend: `UPDATE jobs SET claim_expires_at = $expiresAt, updated_at = $now
    WHERE id = $id AND ${HELD}`,
  recover: `UPDATE jobs SET
      status = CASE WHEN attempts >= max_attempts THEN 'dead'
        ELSE 'pending' END,
      finished_at = CASE WHEN attempts >= max_attempts THEN $now
        ELSE NULL END,
      run_at = $now, updated_at = $now, claim_expires_at = NULL,
      ${SET_ERROR}
    WHERE status = 'claimed' AND claim_expires_at <= $now
      AND ($queue IS NULL OR queue = $queue)
    RETURNING id, status`,
  stats: `SELECT ${SHOWN_STATUS} AS shown, COUNT(*) FROM jobs
    WHERE $queue IS NULL OR queue = $queue GROUP BY shown`,
  countWaiting: `SELECT COUNT(*) FROM jobs
    WHERE queue = $queue AND status = 'pending'`,
  queues: 'SELECT DISTINCT queue FROM jobs ORDER BY queue',
  openDagRuns: `SELECT COUNT(*) FROM dag_runs WHERE state = 'running'`,
  ackBatchTable: `CREATE TEMP TABLE IF NOT EXISTS duckqueue_ack_batch (
    id BIGINT, result BLOB, worker VARCHAR, attempt INTEGER)`,
  ackBatch: `UPDATE jobs SET status = 'done', result = b.result,
      finished_at = $now, updated_at = $now, claim_expires_at = NULL
    FROM duckqueue_ack_batch b
    WHERE jobs.id = b.id AND jobs.status = 'claimed' AND (b.worker IS NULL
      OR (jobs.claimed_by = b.worker AND jobs.attempts = b.attempt))
    RETURNING jobs.id`,
  get: `SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $id`,
  purge: `DELETE FROM jobs WHERE status = $status
    AND finished_at <= $before AND ($queue IS NULL OR queue = $queue)`,
  requeue: `UPDATE jobs SET status = 'pending', attempts = 0,
      run_at = $now, updated_at = $now, finished_at = NULL,
      claimed_at = NULL, claimed_by = NULL, claim_expires_at = NULL
    WHERE id = $id AND status IN ('failed', 'dead')`,
};

export class DuckDBStore implements Store {
  readonly name = 'duckdb';
  private db: SharedDatabase | null;
  private readonly extraMigrations: readonly SqlMigration[];
  /** DAG runs kept in this database (src/dag/duckdb.ts). */
  readonly dag: DuckDBDagStore;

  /** Use openStore(): the database must be acquired asynchronously. */
  constructor(db: SharedDatabase, options: DuckDBStoreOptions = {}) {
    this.db = db;
    this.extraMigrations = options.migrations ?? [];
    this.dag = new DuckDBDagStore(() => this.open);
  }

  private get open(): SharedDatabase {
    if (!this.db) {
      throw new Error('this DuckDB store is closed; open a new one');
    }
    return this.db;
  }

  private all(sql: string, params: Params = {}) {
    const db = this.open;
    return db.exclusive(() => db.all(sql, params));
  }

  private change(sql: string, params: Params) {
    const db = this.open;
    return db.exclusive(() => db.change(sql, params));
  }

  async migrate(): Promise<void> {
    const db = this.open;
    const all = [
      ...duckdbCoreMigrations,
      ...duckdbDagMigrations,
      ...this.extraMigrations,
    ];
    await db.transaction(async () => {
      await db.connection.run(`CREATE TABLE IF NOT EXISTS
        duckqueue_migrations (
          name VARCHAR PRIMARY KEY,
          seq INTEGER NOT NULL,
          applied_at BIGINT NOT NULL)`);
      const rows = await db.all('SELECT name FROM duckqueue_migrations');
      const done = new Set(rows.map((r) => r[0] as string));
      let seq = done.size;
      for (const m of all) {
        if (done.has(m.name)) continue;
        await db.connection.run(m.sql);
        await db.all(
          `INSERT INTO duckqueue_migrations VALUES ($name, $seq, $at)`,
          { name: m.name, seq: ++seq, at: Date.now() },
        );
      }
    });
  }

  /** Names of the migrations applied to this database, in order. */
  async appliedMigrations(): Promise<string[]> {
    const rows = await this.all(
      'SELECT name FROM duckqueue_migrations ORDER BY seq',
    );
    return rows.map((r) => r[0] as string);
  }

  async enqueue(job: NewJobRow): Promise<string> {
    const rows = await this.all(SQL.insert, insertParams(job));
    return String(rows[0]![0]);
  }

  /** One transaction; rows go in through DuckDB's appender. */
  async enqueueMany(jobs: NewJobRow[]): Promise<string[]> {
    if (jobs.length === 0) return [];
    const db = this.open;
    const ids = await db.transaction(() => appendJobs(db, jobs));
    return ids.map(String);
  }

  async claim(req: ClaimRequest): Promise<JobRow | null> {
    const rows = await this.all(SQL.claim, claimParams(req, 1));
    return rows.length ? toJobRow(rows[0]!) : null;
  }

  async claimMany(req: ClaimRequest, max: number): Promise<JobRow[]> {
    if (!(max >= 1)) return [];
    const rows = await this.all(SQL.claim, claimParams(req, Math.floor(max)));
    // RETURNING gives no order guarantee; hand jobs out in claim order.
    return rows.map(toJobRow).sort(claimOrder);
  }

  async ack(
    id: string,
    result: Uint8Array | null,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const params = { id: key, result, now, ...fenceParams(fence) };
    // A DAG node settles in the same transaction as its job.
    return this.dag.finishJobs(now, async (db) => {
      const done = (await db.change(SQL.ack, params)) === 1;
      return { value: done, finished: done ? [[key, 'done']] : [] };
    });
  }

  /**
   * Several acks, one commit: on DuckDB every commit flushes the log to
   * disk, so a worker that finishes many short jobs saves a flush per job.
   * While a DAG run is open each ack goes on its own, so its node settles
   * in its transaction.
   */
  async ackMany(acks: AckRequest[], now: number): Promise<boolean[]> {
    const out = acks.map(() => false);
    const todo: { at: number; params: Params }[] = [];
    acks.forEach((a, at) => {
      const key = parseId(a.id);
      if (key === null) return;
      todo.push({
        at,
        params: { id: key, result: a.result, now, ...fenceParams(a.fence) },
      });
    });
    if (todo.length === 0) return out;
    const db = this.open;
    const batched = await db.exclusive(async () => {
      const open = await db.all(SQL.openDagRuns);
      if (num(open[0]![0])! > 0) return false;
      await db.connection.run('BEGIN TRANSACTION');
      try {
        const batch = todo.map((t) => acks[t.at]!);
        const acked = await this.ackBatch(db, batch, now);
        for (const t of todo) {
          // A job listed twice is acked once: by its first entry.
          const key = String(t.params.id);
          out[t.at] = acked.delete(key);
        }
        await db.connection.run('COMMIT');
      } catch (err) {
        await db.connection.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      return true;
    });
    if (!batched) {
      for (const t of todo) {
        const a = acks[t.at]!;
        out[t.at] = await this.ack(a.id, a.result, now, a.fence);
      }
    }
    return out;
  }

  // One UPDATE for the whole batch: the acks go into a temporary table
  // through the appender and are joined in, since every DuckDB statement
  // costs about as much as a hundred rows of work.
  private async ackBatch(
    db: SharedDatabase,
    acks: AckRequest[],
    now: number,
  ): Promise<Set<string>> {
    await db.connection.run(SQL.ackBatchTable);
    const appender = await db.connection.createAppender(
      'duckqueue_ack_batch',
      null,
      'temp',
    );
    try {
      for (const a of acks) {
        appender.appendBigInt(BigInt(a.id));
        if (a.result === null) appender.appendNull();
        else appender.appendBlob(a.result);
        if (a.fence) {
          appender.appendVarchar(a.fence.workerId);
          appender.appendInteger(a.fence.attempt);
        } else {
          appender.appendNull();
          appender.appendNull();
        }
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    const rows = await db.all(SQL.ackBatch, { now });
    await db.connection.run('DELETE FROM duckqueue_ack_batch');
    return new Set(rows.map((r) => String(r[0])));
  }

  async retry(
    id: string,
    u: RetryUpdate,
    fence?: ClaimFence,
  ): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const params = {
      id: key,
      runAt: u.runAt,
      now: u.now,
      ...errorParams(u.error),
      ...fenceParams(fence),
    };
    return (await this.change(SQL.retry, params)) === 1;
  }

  async fail(id: string, u: FailUpdate, fence?: ClaimFence): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const params = {
      id: key,
      status: u.status,
      now: u.now,
      ...errorParams(u.error),
      ...fenceParams(fence),
    };
    return this.dag.finishJobs(u.now, async (db) => {
      const failed = (await db.change(SQL.fail, params)) === 1;
      return { value: failed, finished: failed ? [[key, 'failed']] : [] };
    });
  }

  async release(id: string, now: number, fence?: ClaimFence): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const params = { id: key, now, ...fenceParams(fence) };
    return (await this.change(SQL.release, params)) === 1;
  }

  async extendClaim(
    id: string,
    expiresAt: number,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const params = { id: key, expiresAt, now, ...fenceParams(fence) };
    return (await this.change(SQL.extend, params)) === 1;
  }

  async recoverExpired(req: RecoverRequest): Promise<RecoverResult> {
    const params = {
      now: req.now,
      queue: req.queue ?? null,
      ...errorParams(req.error),
    };
    const rows = await this.dag.finishJobs(req.now, async (db) => {
      const rows = await db.all(SQL.recover, params);
      const dead = rows.filter((r) => r[1] === 'dead');
      return {
        value: rows,
        finished: dead.map((r) => [r[0] as bigint, 'failed' as const]),
      };
    });
    let dead = 0;
    for (const r of rows) if (r[1] === 'dead') dead++;
    return { requeued: rows.length - dead, dead };
  }

  async stats(queue: string | undefined, now: number): Promise<StatusCounts> {
    const rows = await this.all(SQL.stats, { queue: queue ?? null, now });
    const counts = emptyCounts();
    for (const r of rows) counts[r[0] as JobStatus] = num(r[1])!;
    return counts;
  }

  async countWaiting(queue: string): Promise<number> {
    const rows = await this.all(SQL.countWaiting, { queue });
    return num(rows[0]![0])!;
  }

  async queues(): Promise<string[]> {
    const rows = await this.all(SQL.queues);
    return rows.map((r) => r[0] as string);
  }

  async getJob(id: string, now: number): Promise<JobRow | null> {
    const key = parseId(id);
    if (key === null) return null;
    const rows = await this.all(SQL.get, { id: key, now });
    return rows.length ? toJobRow(rows[0]!) : null;
  }

  async listJobs(req: ListRequest): Promise<JobRow[]> {
    if (req.status !== undefined && !JOB_STATUSES.includes(req.status)) {
      return [];
    }
    const where: string[] = [];
    if (req.queue !== undefined) where.push('queue = $queue');
    if (req.status === 'pending') {
      where.push(`status = 'pending' AND run_at <= $now`);
    } else if (req.status === 'delayed') {
      where.push(`status = 'pending' AND run_at > $now`);
    } else if (req.status !== undefined) {
      where.push('status = $status');
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const sql = `SELECT ${JOB_COLUMNS} FROM jobs ${filter}
      ORDER BY id DESC LIMIT $limit OFFSET $offset`;
    const params: Params = {
      now: req.now,
      limit: req.limit ?? DEFAULT_LIST_LIMIT,
      offset: req.offset ?? 0,
    };
    if (req.queue !== undefined) params.queue = req.queue;
    if (where.length && req.status !== undefined) params.status = req.status;
    const rows = await this.all(sql, params);
    return rows.map(toJobRow);
  }

  async purge(req: PurgeRequest): Promise<number> {
    return this.change(SQL.purge, {
      status: req.status,
      before: req.finishedBefore,
      queue: req.queue ?? null,
    });
  }

  async requeue(id: string, now: number): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    return (await this.change(SQL.requeue, { id: key, now })) === 1;
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = null;
    if (db) await db.release();
  }
}

function insertParams(j: NewJobRow): Params {
  return {
    queue: j.queue,
    payload: j.payload,
    format: j.format,
    fnName: j.fnName,
    priority: j.priority,
    maxAttempts: j.maxAttempts,
    timeoutMs: j.timeoutMs,
    runAt: j.runAt,
    createdAt: j.createdAt,
  };
}

function claimParams(req: ClaimRequest, max: number): Params {
  return {
    queue: req.queue,
    worker: req.workerId,
    now: req.now,
    visibility: req.visibilityTimeoutMs,
    max,
  };
}

function errorParams(e: ErrorRow): Params {
  return {
    errorName: e.name,
    errorMessage: e.message,
    errorStack: e.stack,
    errorValue: e.value,
  };
}

function fenceParams(fence: ClaimFence | undefined): Params {
  return {
    worker: fence?.workerId ?? null,
    attempt: fence?.attempt ?? null,
  };
}

/** Ids are BIGINT keys from a sequence; anything else names no job. */
function parseId(id: string): bigint | null {
  if (typeof id !== 'string' || !/^[1-9][0-9]{0,17}$/.test(id)) return null;
  return BigInt(id);
}

function claimOrder(a: JobRow, b: JobRow): number {
  return (
    b.priority - a.priority ||
    a.runAt - b.runAt ||
    Number(BigInt(a.id) - BigInt(b.id))
  );
}

function emptyCounts(): StatusCounts {
  return { pending: 0, delayed: 0, claimed: 0, done: 0, failed: 0, dead: 0 };
}

async function hasQueue(db: SharedDatabase): Promise<boolean> {
  const rows = await db.exclusive(() =>
    db.all(`SELECT COUNT(*) FROM information_schema.tables
      WHERE table_name = 'duckqueue_migrations'`),
  );
  return num(rows[0]![0])! > 0;
}

/**
 * Open (creating if needed) and migrate a DuckDB job store at `location`
 * (a file path, or ':memory:'). Throws StoreLockedError when another
 * process has the file open, StoreFileError when it is not a DuckDB file.
 */
export async function openStore(
  location: string,
  options: DuckDBStoreOptions = {},
): Promise<DuckDBStore> {
  if (typeof location !== 'string' || location === '') {
    throw new StoreFileError(
      String(location),
      'the location must be a file path or ":memory:"',
    );
  }
  const db = await SharedDatabase.acquire(location, options.duckdb);
  const store = new DuckDBStore(db, options);
  try {
    if (options.existingOnly && !(await hasQueue(db))) {
      throw new StoreFileError(
        location,
        'it holds no job queue (no duckqueue_migrations table)',
      );
    }
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
