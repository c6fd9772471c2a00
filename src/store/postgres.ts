// The PostgreSQL store: one database shared by workers on any number of
// machines. Claims lock the rows they take with FOR UPDATE SKIP LOCKED, so
// concurrent claimers pass over each other's rows instead of queueing
// behind them, and no two ever get the same job. Writers that make a job
// ready send a NOTIFY that wakes idle workers (see postgres/listener.ts).
//
// Connection loss: reads, claims and fenced updates (ack, retry, fail,
// release, extendClaim) are repeated once on a fresh connection. A claim
// that committed before its connection dropped leaves its jobs claimed by
// nobody who knows it; they lapse and recoverExpired() puts them back, so
// nothing is lost and nothing runs twice at once. A fenced update whose
// first try committed is recognised on the repeat. Writes that cannot be
// repeated safely (enqueue, purge, requeue) raise
// PostgresConnectionLostError instead of guessing.
//
// Caveat: the Store contract hands every time in from the caller's clock.
// Workers on several machines must keep their clocks in sync (NTP); a
// clock running ahead recovers other workers' claims early.
// Caveat: needs PostgreSQL 12 or later (MATERIALIZED common table
// expressions), and a session-level connection: behind a transaction-
// pooling proxy such as PgBouncer in transaction mode, LISTEN does not
// work (set notify: false; workers then poll).

import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { isConnectionLost, clientConfig } from './postgres/connection.js';
import { loadDriver, type PgDriver } from './postgres/driver.js';
import {
  PostgresConnectError,
  PostgresConnectionLostError,
} from './postgres/errors.js';
import { JobListener } from './postgres/listener.js';
import { statements, type Statements } from './postgres/statements.js';
import { PostgresDagStore, postgresDagMigrations } from '../dag/postgres.js';
import {
  postgresCoreMigrations,
  runMigrations,
  type SqlMigration,
} from './postgres/migrations.js';
import {
  redact,
  resolvePostgresOptions,
  type PostgresStoreOptions,
  type ResolvedPostgresOptions,
} from './postgres/options.js';
import {
  errorValues,
  jobColumns,
  parseId,
  toJobRow,
  type PgJob,
} from './postgres/rows.js';
import type {
  AckRequest,
  ClaimFence,
  ClaimRequest,
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
} from './types.js';
import { JOB_STATUSES } from './types.js';
import { NotAQueueError } from './location.js';

export {
  PostgresConnectError,
  PostgresConnectionLostError,
  PostgresDriverMissingError,
  PostgresOptionError,
  PostgresStoreError,
} from './postgres/errors.js';
export type { PostgresStoreOptions } from './postgres/options.js';

const DEFAULT_LIST_LIMIT = 100;
/** Rows per INSERT in enqueueMany; bounds one statement's size. */
const INSERT_CHUNK = 5_000;

/** What the row must look like if a fenced update already took effect. */
type Outcome = (row: {
  status: string;
  claimed_by: string | null;
  attempts: number;
  claim_expires_at: string | null;
}) => boolean;

function emptyCounts(): StatusCounts {
  return { pending: 0, delayed: 0, claimed: 0, done: 0, failed: 0, dead: 0 };
}

function fenceValues(fence: ClaimFence | undefined): unknown[] {
  return [fence?.workerId ?? null, fence?.attempt ?? null];
}

function claimOrder(a: JobRow, b: JobRow): number {
  return (
    b.priority - a.priority ||
    a.runAt - b.runAt ||
    (BigInt(a.id) < BigInt(b.id) ? -1 : 1)
  );
}

/**
 * Events (the store never logs):
 * - 'connectionError' (err): a connection dropped, idle or in use. The
 *   store recovers by itself; a steady stream means the server or the
 *   network needs attention.
 */
export class PostgresStore extends EventEmitter implements Store {
  readonly name = 'postgres';
  /** The store's connections; for features that add their own tables. */
  readonly pool: pg.Pool;
  readonly schema: string;
  private readonly options: ResolvedPostgresOptions;
  private readonly sql: Statements;
  private readonly listener: JobListener;
  private closed = false;
  /**
   * Wait until a job may be ready in one of `queues` (any queue when
   * empty), or `timeoutMs` passes. True means "claim now"; it can be a
   * false alarm. The first call opens the listening connection and returns
   * true at once, since notifications sent before it were missed. Absent
   * with `notify: false`, so workers poll every pollMs instead.
   */
  readonly waitForJobs?: (
    queues: readonly string[],
    timeoutMs: number,
  ) => Promise<boolean>;
  /**
   * DAG runs kept in this schema (src/dag/postgres.ts). A trigger on jobs
   * settles them, so ack, fail and recovery need no DAG code here.
   */
  readonly dag: PostgresDagStore = new PostgresDagStore(this);

  /** Use openStore(): it connects and migrates before handing it out. */
  constructor(options: ResolvedPostgresOptions, driver: PgDriver) {
    super();
    this.options = options;
    this.schema = options.schema;
    this.sql = statements(options.schema, options.notify);
    this.pool = new driver.Pool({
      ...clientConfig(options),
      max: options.poolSize,
      // An idle store must not keep a finished script alive.
      allowExitOnIdle: true,
    });
    // Idle connections that die (server restart, pg_terminate_backend)
    // are dropped by the pool; without a listener the error would crash
    // the process.
    this.pool.on('error', (err) => this.connectionError(err));
    this.listener = new JobListener(
      driver,
      clientConfig(options),
      options.schema,
      (err) => this.connectionError(err),
    );
    if (options.notify) {
      this.waitForJobs = async (queues, timeoutMs) =>
        this.closed ? false : this.listener.wait(queues, timeoutMs);
    }
  }

  /** The schema-qualified name of a table of this store. */
  table(name: string): string {
    return `${this.schema}.${name}`;
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await runMigrations(client, this.schema, [
        ...postgresCoreMigrations,
        ...postgresDagMigrations,
        ...this.options.migrations,
      ]);
    } finally {
      client.release();
    }
  }

  /** True when this schema already holds the queue's tables. */
  async holdsQueue(): Promise<boolean> {
    const { rows } = await this.pool.query<{ found: string | null }>(
      'SELECT to_regclass($1) AS found',
      [this.table('duckqueue_migrations')],
    );
    return rows[0]?.found != null;
  }

  /** Names of the migrations applied to this schema, in order. */
  async appliedMigrations(): Promise<string[]> {
    const { rows } = await this.query<{ name: string }>(
      `SELECT name FROM ${this.table('duckqueue_migrations')} ORDER BY seq`,
    );
    return rows.map((r) => r.name);
  }

  async enqueue(job: NewJobRow): Promise<string> {
    const text = this.options.notify ? this.sql.insertNotify : this.sql.insert;
    try {
      const { rows } = await this.pool.query<{ id: string }>(text, [
        job.queue,
        job.payload,
        job.format,
        job.fnName,
        job.priority,
        job.maxAttempts,
        job.timeoutMs,
        job.runAt,
        job.createdAt,
      ]);
      return rows[0]!.id;
    } catch (err) {
      throw this.lostOr(err, 'enqueue');
    }
  }

  async enqueueMany(jobs: NewJobRow[]): Promise<string[]> {
    if (jobs.length === 0) return [];
    try {
      return await this.insertMany(jobs);
    } catch (err) {
      if (!isConnectionLost(err)) throw err;
      this.connectionError(err as Error);
      // Nothing was committed unless COMMIT itself was cut off; insertMany
      // marks that case, which must not be repeated.
      if ((err as CommitLost).commitSent) {
        throw new PostgresConnectionLostError('enqueueMany', { cause: err });
      }
    }
    try {
      return await this.insertMany(jobs);
    } catch (again) {
      if (isConnectionLost(again) && (again as CommitLost).commitSent) {
        throw new PostgresConnectionLostError('enqueueMany', { cause: again });
      }
      throw again;
    }
  }

  private async insertMany(jobs: NewJobRow[]): Promise<string[]> {
    const client = await this.pool.connect();
    let commitSent = false;
    try {
      await client.query('BEGIN');
      // Ids are drawn first and assigned in input order, so ids (the FIFO
      // tie-break) follow the order the caller gave.
      const reserved = await client.query<{ id: string }>(
        this.sql.reserveIds,
        [jobs.length],
      );
      const ids = reserved.rows
        .map((r) => r.id)
        .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (let start = 0; start < jobs.length; start += INSERT_CHUNK) {
        const chunk = jobs.slice(start, start + INSERT_CHUNK);
        await client.query(this.sql.insertMany, [
          ids.slice(start, start + chunk.length),
          chunk.map((j) => j.queue),
          chunk.map((j) => j.payload),
          chunk.map((j) => j.format),
          chunk.map((j) => j.fnName),
          chunk.map((j) => j.priority),
          chunk.map((j) => j.maxAttempts),
          chunk.map((j) => j.timeoutMs),
          chunk.map((j) => j.runAt),
          chunk.map((j) => j.createdAt),
        ]);
      }
      if (this.options.notify) {
        const ready = new Set<string>();
        for (const j of jobs) if (j.runAt <= j.createdAt) ready.add(j.queue);
        if (ready.size) {
          await client.query(this.sql.notifyQueues, [[...ready]]);
        }
      }
      commitSent = true;
      await client.query('COMMIT');
      client.release();
      return ids;
    } catch (err) {
      if (isConnectionLost(err)) {
        client.release(err as Error);
        if (commitSent) (err as CommitLost).commitSent = true;
      } else {
        await client.query('ROLLBACK').catch(() => undefined);
        client.release();
      }
      throw err;
    }
  }

  async claim(req: ClaimRequest): Promise<JobRow | null> {
    const [job] = await this.claimMany(req, 1);
    return job ?? null;
  }

  async claimMany(req: ClaimRequest, max: number): Promise<JobRow[]> {
    if (max < 1) return [];
    this.listener.markClaim(req.queue);
    const { rows } = await this.repeatable<PgJob>(this.sql.claim, [
      req.queue,
      req.now,
      req.workerId,
      req.visibilityTimeoutMs,
      max,
    ]);
    return rows.map(toJobRow).sort(claimOrder);
  }

  async ack(
    id: string,
    result: Uint8Array | null,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean> {
    return this.fenced(
      id,
      this.sql.ack,
      [result, now],
      fence,
      (r) => r.status === 'done',
    );
  }

  /**
   * Ack a batch in one statement. If the connection drops, the statement
   * is repeated; jobs the repeat finds no longer claimed count as acked
   * when the row shows this claim's outcome (fenced acks only).
   */
  async ackMany(acks: AckRequest[], now: number): Promise<boolean[]> {
    const out = acks.map(() => false);
    const wanted = new Map<string, number>();
    acks.forEach((a, i) => {
      const key = parseId(a.id);
      if (key !== null && !wanted.has(key)) wanted.set(key, i);
    });
    if (wanted.size === 0) return out;
    const batch = [...wanted.values()].map((i) => acks[i]!);
    const params = [
      now,
      [...wanted.keys()],
      batch.map((a) => a.result),
      batch.map((a) => a.fence?.workerId ?? null),
      batch.map((a) => a.fence?.attempt ?? null),
    ];
    const mark = (rows: { id: string }[]) => {
      for (const r of rows) out[wanted.get(r.id)!] = true;
    };
    try {
      const first = await this.pool.query<{ id: string }>(
        this.sql.ackMany,
        params,
      );
      mark(first.rows);
      return out;
    } catch (err) {
      if (!isConnectionLost(err)) throw err;
      this.connectionError(err as Error);
    }
    mark((await this.repeatable<{ id: string }>(this.sql.ackMany, params)).rows);
    const unsure = [...wanted].filter(
      ([, i]) => !out[i] && acks[i]!.fence !== undefined,
    );
    if (unsure.length === 0) return out;
    const { rows } = await this.repeatable<
      Parameters<Outcome>[0] & { id: string }
    >(this.sql.outcomes, [unsure.map(([key]) => key)]);
    for (const row of rows) {
      const i = wanted.get(row.id)!;
      const fence = acks[i]!.fence!;
      out[i] =
        row.status === 'done' &&
        row.claimed_by === fence.workerId &&
        row.attempts === fence.attempt;
    }
    return out;
  }

  async retry(id: string, u: RetryUpdate, fence?: ClaimFence): Promise<boolean> {
    return this.fenced(
      id,
      this.sql.retry,
      [u.runAt, u.now, ...errorValues(u.error)],
      fence,
      (r) => r.status === 'pending',
    );
  }

  async fail(id: string, u: FailUpdate, fence?: ClaimFence): Promise<boolean> {
    return this.fenced(
      id,
      this.sql.fail,
      [u.status, u.now, ...errorValues(u.error)],
      fence,
      (r) => r.status === u.status,
    );
  }

  async release(id: string, now: number, fence?: ClaimFence): Promise<boolean> {
    // A release takes the attempt back, so the fence's attempt no longer
    // matches the row; the outcome check allows for that.
    return this.fenced(id, this.sql.release, [now], fence, (r) => {
      return r.status === 'pending' && r.attempts === (fence?.attempt ?? 0) - 1;
    }, true);
  }

  async extendClaim(
    id: string,
    expiresAt: number,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean> {
    return this.fenced(
      id,
      this.sql.extend,
      [expiresAt, now],
      fence,
      (r) => r.status === 'claimed' && r.claim_expires_at === String(expiresAt),
    );
  }

  /**
   * Run a fenced single-row update. If the connection drops, repeat it;
   * if the repeat changes nothing, the first try may have committed
   * before the drop, so read the row and tell whether it shows this
   * claim's outcome. Without a fence there is no telling: false.
   */
  private async fenced(
    id: string,
    text: string,
    values: unknown[],
    fence: ClaimFence | undefined,
    applied: Outcome,
    attemptTakenBack = false,
  ): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    const params = [key, ...fenceValues(fence), ...values];
    try {
      return (await this.pool.query(text, params)).rowCount === 1;
    } catch (err) {
      if (!isConnectionLost(err)) throw err;
      this.connectionError(err as Error);
    }
    if ((await this.repeatable(text, params)).rowCount === 1) return true;
    if (!fence) return false;
    const { rows } = await this.repeatable<Parameters<Outcome>[0]>(
      this.sql.outcome,
      [key],
    );
    const row = rows[0];
    if (!row || row.claimed_by !== fence.workerId) return false;
    if (!attemptTakenBack && row.attempts !== fence.attempt) return false;
    return applied(row);
  }

  async recoverExpired(req: RecoverRequest): Promise<RecoverResult> {
    const { rows } = await this.repeatable<{
      status: string;
      queue: string;
      n: number;
    }>(this.sql.recover, [
      req.now,
      ...errorValues(req.error),
      req.queue ?? null,
    ]);
    const result: RecoverResult = { requeued: 0, dead: 0 };
    const requeued: string[] = [];
    for (const r of rows) {
      if (r.status === 'dead') {
        result.dead += r.n;
      } else {
        result.requeued += r.n;
        requeued.push(r.queue);
      }
    }
    if (requeued.length && this.options.notify) {
      // A lost notification costs a wait timeout, not a job.
      await this.pool
        .query(this.sql.notifyQueues, [requeued])
        .catch((err: Error) => this.connectionError(err));
    }
    return result;
  }

  async stats(queue: string | undefined, now: number): Promise<StatusCounts> {
    const { rows } = await this.repeatable<{ status: JobStatus; n: number }>(
      queue === undefined ? this.sql.statsAll : this.sql.statsQueue,
      queue === undefined ? [now] : [now, queue],
    );
    const counts = emptyCounts();
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  async countWaiting(queue: string): Promise<number> {
    const { rows } = await this.repeatable<{ n: number }>(
      this.sql.countWaiting,
      [queue],
    );
    return rows[0]!.n;
  }

  async queues(): Promise<string[]> {
    const { rows } = await this.repeatable<{ queue: string }>(
      this.sql.queues,
      [],
    );
    return rows.map((r) => r.queue);
  }

  async getJob(id: string, now: number): Promise<JobRow | null> {
    const key = parseId(id);
    if (key === null) return null;
    const { rows } = await this.repeatable<PgJob>(this.sql.get, [key, now]);
    return rows[0] ? toJobRow(rows[0]) : null;
  }

  async listJobs(req: ListRequest): Promise<JobRow[]> {
    if (req.status !== undefined && !JOB_STATUSES.includes(req.status)) {
      return [];
    }
    const values: unknown[] = [req.now];
    const where: string[] = [];
    if (req.queue !== undefined) {
      values.push(req.queue);
      where.push(`queue = $${values.length}`);
    }
    if (req.status === 'pending') {
      where.push(`status = 'pending' AND run_at <= $1::bigint`);
    } else if (req.status === 'delayed') {
      where.push(`status = 'pending' AND run_at > $1::bigint`);
    } else if (req.status !== undefined) {
      values.push(req.status);
      where.push(`status = $${values.length}`);
    }
    values.push(req.limit ?? DEFAULT_LIST_LIMIT, req.offset ?? 0);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const { rows } = await this.repeatable<PgJob>(
      `SELECT ${jobColumns('$1::bigint')} FROM ${this.sql.jobs} ${filter}
        ORDER BY id DESC
        LIMIT $${values.length - 1} OFFSET $${values.length}`,
      values,
    );
    return rows.map(toJobRow);
  }

  async purge(req: PurgeRequest): Promise<number> {
    try {
      const r = await this.pool.query(this.sql.purge, [
        req.status,
        req.finishedBefore,
        req.queue ?? null,
      ]);
      return r.rowCount ?? 0;
    } catch (err) {
      throw this.lostOr(err, 'purge');
    }
  }

  async requeue(id: string, now: number): Promise<boolean> {
    const key = parseId(id);
    if (key === null) return false;
    try {
      return (await this.pool.query(this.sql.requeue, [key, now])).rowCount === 1;
    } catch (err) {
      throw this.lostOr(err, 'requeue');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listener.close();
    await this.pool.end();
  }

  /** A query whose repetition is harmless: repeated once if the link drops. */
  private async repeatable<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      if (!isConnectionLost(err) || this.closed) throw err;
      this.connectionError(err as Error);
      return this.pool.query<R>(text, values);
    }
  }

  private query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
    return this.pool.query<R>(text, values);
  }

  /**
   * A write that is not repeated: a connection that dropped with the
   * statement sent leaves its outcome unknown, and the error says so. One
   * that never connected sent nothing and keeps its own error.
   */
  private lostOr(err: unknown, operation: string): unknown {
    if (!isConnectionLost(err) || neverConnected(err)) return err;
    this.connectionError(err as Error);
    return new PostgresConnectionLostError(operation, { cause: err });
  }

  private connectionError(err: Error): void {
    this.emit('connectionError', err);
  }
}

interface CommitLost {
  commitSent?: boolean;
}

/** The pool could not open a connection: no statement went out. */
function neverConnected(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  const message = String((err as { message?: unknown }).message ?? '');
  return (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === '57P03' ||
    message.includes('timeout exceeded when trying to connect')
  );
}

/**
 * Open a PostgreSQL job store: connect, create the schema and tables if
 * needed, and return the store. `location` is the connection string, or
 * pass it as `options.connectionString`.
 */
export async function openStore(
  location: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const resolved = resolvePostgresOptions(location, options);
  const store = new PostgresStore(resolved, await loadDriver());
  let hasQueue = true;
  try {
    if (resolved.existingOnly) hasQueue = await store.holdsQueue();
    if (hasQueue) await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw connectFailure(resolved, err);
  }
  if (!hasQueue) {
    await store.close().catch(() => undefined);
    throw new NotAQueueError(
      redact(resolved.connectionString),
      `schema '${resolved.schema}' of ${redact(resolved.connectionString)} ` +
        'holds no job queue; nothing was created',
    );
  }
  return store;
}

// SQLSTATEs that mean "this server will not have you", as opposed to a
// broken migration: bad password, no such role or database, no access.
const REFUSED = new Set(['28000', '28P01', '3D000', '42501', '53300']);

function connectFailure(o: ResolvedPostgresOptions, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  const refused = typeof code === 'string' && REFUSED.has(code);
  const timedOut = String((err as Error).message).includes('timeout');
  if (!refused && !timedOut && !isConnectionLost(err)) return err;
  return new PostgresConnectError(
    redact(o.connectionString),
    (err as Error).message,
    { cause: err },
  );
}

export type { SqlMigration };
