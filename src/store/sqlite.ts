// The SQLite store: one database file shared by any number of processes.
// WAL lets readers run beside the single writer; every state change is one
// statement or one IMMEDIATE transaction, so two processes can never take
// the same claim. All statements are prepared once, at open.

import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { sqliteCoreMigrations, type SqlMigration } from './sqlite-migrations.js';
import { SqliteDagStore, sqliteDagMigrations } from '../dag/sqlite.js';
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
import { errorFromColumns } from './error-columns.js';
import { checkStoreDirectory } from './location.js';

export interface SqliteStoreOptions extends StoreOptions {
  /** How long a write waits for another process's lock. Default 10000. */
  busyTimeoutMs?: number;
  /** Extra migrations run after the core ones (e.g. DAG tables). */
  migrations?: readonly SqlMigration[];
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
const DEFAULT_LIST_LIMIT = 100;

/** The row as SQLite returns it. */
interface SqlJob {
  id: number;
  queue: string;
  status: JobStatus;
  payload: Buffer;
  format: string;
  fn_name: string;
  priority: number;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  run_at: number;
  created_at: number;
  updated_at: number;
  claimed_at: number | null;
  claimed_by: string | null;
  claim_expires_at: number | null;
  finished_at: number | null;
  result: Buffer | null;
  error_name: string | null;
  error_message: string | null;
  error_stack: string | null;
  error_value: Buffer | null;
}

// The status a reader sees: stored 'pending' with a future run_at is
// 'delayed'. Bound parameter @now.
const SHOWN_STATUS = `CASE WHEN status = 'pending' AND run_at > @now
  THEN 'delayed' ELSE status END`;
const COLUMNS = `id, queue, ${SHOWN_STATUS} AS status, payload, format,
  fn_name, priority, attempts, max_attempts, timeout_ms, run_at, created_at,
  updated_at, claimed_at, claimed_by, claim_expires_at, finished_at, result,
  error_name, error_message, error_stack, error_value`;

// Applies only while the job is still held by the fenced claim (if given).
const HELD = `status = 'claimed' AND (@worker IS NULL OR
  (claimed_by = @worker AND attempts = @attempt))`;

const SET_ERROR = `error_name = @errorName, error_message = @errorMessage,
  error_stack = @errorStack, error_value = @errorValue`;

/** Named parameters of a statement that may settle DAG nodes. */
type SettleParams = { id?: number; now: number; [name: string]: unknown };

// Claims return rows as arrays (better-sqlite3's raw mode): building a
// 22-property object per row took about a third of a claim's time.
type SqlJobArray = [
  number, string, JobStatus, Buffer, string, string, number, number,
  number, number | null, number, number, number, number | null,
  string | null, number | null, number | null, Buffer | null,
  string | null, string | null, string | null, Buffer | null,
];

/** toRow for a row in COLUMNS order, as raw mode returns it. */
function arrayToRow(r: SqlJobArray): JobRow {
  return {
    id: String(r[0]),
    queue: r[1],
    status: r[2],
    payload: r[3],
    format: r[4],
    fnName: r[5],
    priority: r[6],
    attempts: r[7],
    maxAttempts: r[8],
    timeoutMs: r[9],
    runAt: r[10],
    createdAt: r[11],
    updatedAt: r[12],
    claimedAt: r[13],
    claimedBy: r[14],
    claimExpiresAt: r[15],
    finishedAt: r[16],
    result: r[17],
    lastError:
      r[18] === null
        ? null
        : { name: r[18], message: r[19] ?? '', stack: r[20], value: r[21] },
  };
}

function toRow(r: SqlJob): JobRow {
  return {
    id: String(r.id),
    queue: r.queue,
    status: r.status,
    payload: r.payload,
    format: r.format,
    fnName: r.fn_name,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    timeoutMs: r.timeout_ms,
    runAt: r.run_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    claimedAt: r.claimed_at,
    claimedBy: r.claimed_by,
    claimExpiresAt: r.claim_expires_at,
    finishedAt: r.finished_at,
    result: r.result,
    lastError: errorFromColumns(r),
  };
}

function errorParams(e: ErrorRow) {
  return {
    errorName: e.name,
    errorMessage: e.message,
    errorStack: e.stack,
    errorValue: e.value,
  };
}

function fenceParams(fence: ClaimFence | undefined) {
  return {
    worker: fence?.workerId ?? null,
    attempt: fence?.attempt ?? null,
  };
}

/** Ids are SQLite integer keys; anything else names no job. */
function parseId(id: string): number | null {
  if (!/^[1-9][0-9]{0,15}$/.test(id)) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : null;
}

function emptyCounts(): StatusCounts {
  return {
    pending: 0,
    delayed: 0,
    claimed: 0,
    done: 0,
    failed: 0,
    dead: 0,
  };
}

export class SqliteStore implements Store {
  readonly name = 'sqlite';
  readonly db: Database.Database;
  private readonly extraMigrations: readonly SqlMigration[];
  private statements: ReturnType<SqliteStore['prepare']> | undefined;
  private readonly listCache = new Map<string, Statement>();

  constructor(location: string, options: SqliteStoreOptions = {}) {
    if (location !== ':memory:') checkStoreDirectory(location, 'SQLite');
    this.db = new Database(location);
    const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.db.pragma(`busy_timeout = ${Math.trunc(busy)}`);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode is durable against process crashes; only an OS
    // crash or power loss can drop the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.extraMigrations = options.migrations ?? [];
  }

  async migrate(): Promise<void> {
    this.migrateSync();
  }

  /** Names of the migrations applied to this database, in order. */
  appliedMigrations(): string[] {
    return this.db
      .prepare('SELECT name FROM duckqueue_migrations ORDER BY seq')
      .pluck()
      .all() as string[];
  }

  private migrateSync(): void {
    const all = [
      ...sqliteCoreMigrations,
      ...sqliteDagMigrations,
      ...this.extraMigrations,
    ];
    const apply = this.db.transaction(() => {
      this.db.exec(`CREATE TABLE IF NOT EXISTS duckqueue_migrations (
        seq INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        applied_at INTEGER NOT NULL)`);
      const done = new Set(
        this.db
          .prepare('SELECT name FROM duckqueue_migrations')
          .pluck()
          .all() as string[],
      );
      const record = this.db.prepare(
        'INSERT INTO duckqueue_migrations (name, applied_at) VALUES (?, ?)',
      );
      for (const m of all) {
        if (done.has(m.name)) continue;
        this.db.exec(m.sql);
        record.run(m.name, Date.now());
      }
    });
    // IMMEDIATE: two processes opening a new file at once must not both
    // decide to create the tables.
    apply.immediate();
    this.statements = this.prepare();
  }

  private prepare() {
    const db = this.db;
    const insert = db.prepare(`INSERT INTO jobs (queue, status, payload,
      format, fn_name, priority, max_attempts, timeout_ms, run_at,
      created_at, updated_at)
      VALUES (@queue, 'pending', @payload, @format, @fnName, @priority,
      @maxAttempts, @timeoutMs, @runAt, @createdAt, @createdAt)`);
    const takeClaim = `UPDATE jobs SET status = 'claimed',
        attempts = attempts + 1, claimed_at = @now, claimed_by = @worker,
        claim_expires_at = @now + @visibility + COALESCE(timeout_ms, 0),
        updated_at = @now`;
    const ready = `SELECT id FROM jobs
        WHERE queue = @queue AND status = 'pending' AND run_at <= @now
        ORDER BY priority DESC, run_at, id`;
    // '= (... LIMIT 1)' runs about twice as fast as 'IN (... LIMIT n)'.
    const claimOne = db
      .prepare(`${takeClaim}
      WHERE id = (${ready} LIMIT 1) RETURNING ${COLUMNS}`)
      .raw(true);
    const claim = db
      .prepare(`${takeClaim}
      WHERE id IN (${ready} LIMIT @max) RETURNING ${COLUMNS}`)
      .raw(true);
    // DAG nodes settle in the transaction that finishes their job.
    const dag = new SqliteDagStore(db, (job) =>
      String(insert.run(job).lastInsertRowid),
    );
    const ack = db.prepare(`UPDATE jobs SET status = 'done', result = @result,
        finished_at = @now, updated_at = @now, claim_expires_at = NULL
        WHERE id = @id AND ${HELD}`);
    const fail = db.prepare(`UPDATE jobs SET status = @status,
        finished_at = @now, updated_at = @now, claim_expires_at = NULL,
        ${SET_ERROR}
        WHERE id = @id AND ${HELD}`);
    const recover = db.prepare(`UPDATE jobs SET
        status = CASE WHEN attempts >= max_attempts THEN 'dead'
          ELSE 'pending' END,
        finished_at = CASE WHEN attempts >= max_attempts THEN @now
          ELSE NULL END,
        run_at = @now, updated_at = @now, claim_expires_at = NULL,
        ${SET_ERROR}
        WHERE status = 'claimed' AND claim_expires_at <= @now
          AND (@queue IS NULL OR queue = @queue)
        RETURNING id, status`);
    return {
      dag,
      insert,
      insertMany: db.transaction((jobs: NewJobRow[]) =>
        jobs.map((j) => String(insert.run(j).lastInsertRowid)),
      ),
      claimOne,
      claimMany: db.transaction((params: Record<string, unknown>) =>
        (claim.all(params) as SqlJobArray[]).map(arrayToRow),
      ),
      ack: db.transaction((params: SettleParams) => {
        const done = ack.run(params).changes === 1;
        if (done) dag.settle(params.id!, 'done', params.now);
        return done;
      }),
      ackMany: db.transaction((all: SettleParams[]) =>
        all.map((params) => {
          const done = ack.run(params).changes === 1;
          if (done) dag.settle(params.id!, 'done', params.now);
          return done;
        }),
      ),
      retry: db.prepare(`UPDATE jobs SET status = 'pending', run_at = @runAt,
        updated_at = @now, claim_expires_at = NULL, ${SET_ERROR}
        WHERE id = @id AND ${HELD}`),
      fail: db.transaction((params: SettleParams) => {
        const failed = fail.run(params).changes === 1;
        if (failed) dag.settle(params.id!, 'failed', params.now);
        return failed;
      }),
      release: db.prepare(`UPDATE jobs SET status = 'pending',
        attempts = attempts - 1, run_at = @now, updated_at = @now,
        claim_expires_at = NULL
        WHERE id = @id AND ${HELD}`),
      extend: db.prepare(`UPDATE jobs SET claim_expires_at = @expiresAt,
        updated_at = @now WHERE id = @id AND ${HELD}`),
      recover: db.transaction((params: SettleParams) => {
        const rows = recover.all(params) as { id: number; status: string }[];
        for (const r of rows) {
          if (r.status === 'dead') dag.settle(r.id, 'failed', params.now);
        }
        return rows.map((r) => r.status);
      }),
      statsQueue: db.prepare(statsSql('AND queue = @queue')),
      statsAll: db.prepare(statsSql('')),
      countWaiting: db
        .prepare(`SELECT COUNT(*) FROM jobs
          WHERE queue = ? AND status = 'pending'`)
        .pluck(),
      queues: db
        .prepare(`SELECT queue FROM jobs WHERE status = 'pending'
          UNION SELECT queue FROM jobs WHERE status = 'claimed'
          UNION SELECT queue FROM jobs
            WHERE status IN ('done', 'failed', 'dead')
          ORDER BY 1`)
        .pluck(),
      get: db.prepare(`SELECT ${COLUMNS} FROM jobs WHERE id = @id`),
      purge: db.prepare(`DELETE FROM jobs WHERE status = @status
        AND finished_at <= @before AND (@queue IS NULL OR queue = @queue)`),
      requeue: db.prepare(`UPDATE jobs SET status = 'pending', attempts = 0,
        run_at = @now, updated_at = @now, finished_at = NULL,
        claimed_at = NULL, claimed_by = NULL, claim_expires_at = NULL
        WHERE id = @id AND status IN ('failed', 'dead')`),
    };
  }

  /** DAG runs kept in this database (src/dag/sqlite.ts). */
  get dag(): SqliteDagStore {
    return this.s.dag;
  }

  private get s() {
    if (!this.statements) {
      throw new Error('SqliteStore used before migrate(); use openStore()');
    }
    return this.statements;
  }

  async enqueue(job: NewJobRow): Promise<string> {
    return String(this.s.insert.run(job).lastInsertRowid);
  }

  async enqueueMany(jobs: NewJobRow[]): Promise<string[]> {
    if (jobs.length === 0) return [];
    return this.s.insertMany.immediate(jobs);
  }

  async claim(req: ClaimRequest): Promise<JobRow | null> {
    const { max: _, ...params } = claimParams(req, 1);
    const row = this.s.claimOne.get(params) as SqlJobArray | undefined;
    return row ? arrayToRow(row) : null;
  }

  async claimMany(req: ClaimRequest, max: number): Promise<JobRow[]> {
    if (max < 1) return [];
    const rows = this.s.claimMany.immediate(claimParams(req, max));
    // RETURNING gives no order guarantee; hand jobs out in claim order.
    return rows.sort(claimOrder);
  }

  async ack(
    id: string,
    result: Uint8Array | null,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    return this.s.ack.immediate({
      id: key,
      result,
      now,
      ...fenceParams(fence),
    });
  }

  async ackMany(acks: AckRequest[], now: number): Promise<boolean[]> {
    const params: SettleParams[] = [];
    const at: number[] = [];
    const out = acks.map(() => false);
    acks.forEach((a, i) => {
      const key = parseId(a.id);
      if (key === null) return;
      at.push(i);
      params.push({ id: key, result: a.result, now, ...fenceParams(a.fence) });
    });
    if (params.length === 0) return out;
    const done = this.s.ackMany.immediate(params);
    done.forEach((ok, j) => (out[at[j]!] = ok));
    return out;
  }

  async retry(
    id: string,
    u: RetryUpdate,
    fence?: ClaimFence,
  ): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const info = this.s.retry.run({
      id: key,
      runAt: u.runAt,
      now: u.now,
      ...errorParams(u.error),
      ...fenceParams(fence),
    });
    return info.changes === 1;
  }

  async fail(id: string, u: FailUpdate, fence?: ClaimFence): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    return this.s.fail.immediate({
      id: key,
      status: u.status,
      now: u.now,
      ...errorParams(u.error),
      ...fenceParams(fence),
    });
  }

  async release(id: string, now: number, fence?: ClaimFence): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const info = this.s.release.run({ id: key, now, ...fenceParams(fence) });
    return info.changes === 1;
  }

  async extendClaim(
    id: string,
    expiresAt: number,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const info = this.s.extend.run({
      id: key,
      expiresAt,
      now,
      ...fenceParams(fence),
    });
    return info.changes === 1;
  }

  async recoverExpired(req: RecoverRequest): Promise<RecoverResult> {
    const statuses = this.s.recover.immediate({
      now: req.now,
      queue: req.queue ?? null,
      ...errorParams(req.error),
    });
    let dead = 0;
    for (const s of statuses) if (s === 'dead') dead++;
    return { requeued: statuses.length - dead, dead };
  }

  async stats(queue: string | undefined, now: number): Promise<StatusCounts> {
    const rows = (
      queue === undefined
        ? this.s.statsAll.all({ now })
        : this.s.statsQueue.all({ queue, now })
    ) as { status: JobStatus; n: number }[];
    const counts = emptyCounts();
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  async countWaiting(queue: string): Promise<number> {
    return this.s.countWaiting.get(queue) as number;
  }

  async queues(): Promise<string[]> {
    return this.s.queues.all() as string[];
  }

  async getJob(id: string, now: number): Promise<JobRow | null> {
    const key = parseId(id);
    if (key === null) return null;
    const row = this.s.get.get({ id: key, now }) as SqlJob | undefined;
    return row ? toRow(row) : null;
  }

  async listJobs(req: ListRequest): Promise<JobRow[]> {
    if (req.status !== undefined && !JOB_STATUSES.includes(req.status)) {
      return [];
    }
    const stmt = this.listStatement(req.status, req.queue !== undefined);
    const rows = stmt.all({
      now: req.now,
      queue: req.queue ?? null,
      status: req.status ?? null,
      limit: req.limit ?? DEFAULT_LIST_LIMIT,
      offset: req.offset ?? 0,
    }) as SqlJob[];
    return rows.map(toRow);
  }

  private listStatement(status: JobStatus | undefined, byQueue: boolean) {
    const key = `${status ?? '*'}|${byQueue}`;
    let stmt = this.listCache.get(key);
    if (stmt) return stmt;
    const where: string[] = [];
    if (byQueue) where.push('queue = @queue');
    if (status === 'pending') {
      where.push(`status = 'pending' AND run_at <= @now`);
    } else if (status === 'delayed') {
      where.push(`status = 'pending' AND run_at > @now`);
    } else if (status !== undefined) {
      where.push('status = @status');
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    stmt = this.db.prepare(`SELECT ${COLUMNS} FROM jobs ${filter}
      ORDER BY id DESC LIMIT @limit OFFSET @offset`);
    this.listCache.set(key, stmt);
    return stmt;
  }

  async purge(req: PurgeRequest): Promise<number> {
    return this.s.purge.run({
      status: req.status,
      before: req.finishedBefore,
      queue: req.queue ?? null,
    }).changes;
  }

  async requeue(id: string, now: number): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    return this.s.requeue.run({ id: key, now }).changes === 1;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

// One count per status, each read from the index that covers it.
function statsSql(queueFilter: string): string {
  return `SELECT CASE WHEN run_at > @now THEN 'delayed' ELSE 'pending' END
      AS status, COUNT(*) AS n
    FROM jobs WHERE status = 'pending' ${queueFilter} GROUP BY 1
    UNION ALL
    SELECT 'claimed', COUNT(*) FROM jobs
    WHERE status = 'claimed' ${queueFilter}
    UNION ALL
    SELECT status, COUNT(*) FROM jobs
    WHERE status IN ('done', 'failed', 'dead') ${queueFilter} GROUP BY 1`;
}

function claimParams(req: ClaimRequest, max: number) {
  return {
    queue: req.queue,
    worker: req.workerId,
    now: req.now,
    visibility: req.visibilityTimeoutMs,
    max,
  };
}

function claimOrder(a: JobRow, b: JobRow): number {
  return (
    b.priority - a.priority ||
    a.runAt - b.runAt ||
    Number(a.id) - Number(b.id)
  );
}

/** Open (creating if needed) and migrate a SQLite job store. */
export async function openStore(
  location: string,
  options: SqliteStoreOptions = {},
): Promise<SqliteStore> {
  const store = new SqliteStore(location, options);
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
