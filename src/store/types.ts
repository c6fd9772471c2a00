// The contract between the queue and a storage backend. A store keeps plain
// rows: bytes in, bytes out. It knows nothing about serializers, retries
// policy or events; the queue decides, the store makes each decision atomic.
//
// Every store (SQLite, DuckDB, PostgreSQL) implements this interface and is
// checked by the one contract suite in test/store-contract.test.ts.

import type { DagStore } from '../dag/store.js';

/**
 * Where a job is in its life.
 * - `pending`: ready to run now.
 * - `delayed`: waiting for its run time (first run or retry backoff).
 * - `claimed`: a worker holds it.
 * - `done`: finished, result stored.
 * - `failed`: terminal without retry (permanent error, e.g. a payload that
 *   cannot be turned back into a function).
 * - `dead`: retries exhausted (dead letter).
 *
 * Stores may keep `pending` and `delayed` as one stored state and tell them
 * apart by `runAt`; every method that reports a status must report the
 * derived one.
 */
export type JobStatus =
  | 'pending'
  | 'delayed'
  | 'claimed'
  | 'done'
  | 'failed'
  | 'dead';

export const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'delayed',
  'claimed',
  'done',
  'failed',
  'dead',
];

/** An error as stored: readable text plus, optionally, the encoded value. */
export interface ErrorRow {
  name: string;
  message: string;
  stack: string | null;
  /** The thrown value encoded by the queue (node:v8), if it could be. */
  value: Uint8Array | null;
}

/** What the queue hands a store to insert. Times are epoch milliseconds. */
export interface NewJobRow {
  queue: string;
  payload: Uint8Array;
  /** Serializer format read from the payload header, e.g. 'v8'. */
  format: string;
  /** Function name read from the payload header ('' when anonymous). */
  fnName: string;
  /** 0..100, higher runs first. */
  priority: number;
  /** Earliest time the job may be claimed. */
  runAt: number;
  maxAttempts: number;
  /** Per-attempt time limit, or null for none. */
  timeoutMs: number | null;
  createdAt: number;
}

/** A stored job. */
export interface JobRow {
  /** Store-assigned id, unique within the store. */
  id: string;
  queue: string;
  status: JobStatus;
  payload: Uint8Array;
  format: string;
  fnName: string;
  priority: number;
  /** Attempts started so far (a claim starts an attempt). */
  attempts: number;
  maxAttempts: number;
  timeoutMs: number | null;
  runAt: number;
  createdAt: number;
  updatedAt: number;
  claimedAt: number | null;
  claimedBy: string | null;
  /** When the current claim lapses unless extended. */
  claimExpiresAt: number | null;
  finishedAt: number | null;
  /** Encoded result of a `done` job (null when the job returned nothing). */
  result: Uint8Array | null;
  /** The error of the last failed attempt, if any. */
  lastError: ErrorRow | null;
}

export interface ClaimRequest {
  queue: string;
  workerId: string;
  now: number;
  /**
   * How long the claim holds before recovery may take the job back. A job
   * with a longer `timeoutMs` holds its claim for that long instead.
   */
  visibilityTimeoutMs: number;
}

/**
 * Identifies one claim of a job. Updates that carry a fence apply only if
 * the job is still held by that claim, so a worker whose claim lapsed and
 * was taken over cannot overwrite the new holder's outcome.
 */
export interface ClaimFence {
  workerId: string;
  attempt: number;
}

export interface AckRequest {
  id: string;
  result: Uint8Array | null;
  fence?: ClaimFence;
}

export interface RetryUpdate {
  error: ErrorRow;
  /** When the next attempt may start. */
  runAt: number;
  now: number;
}

export interface FailUpdate {
  error: ErrorRow;
  /** `failed` for permanent errors, `dead` when retries are exhausted. */
  status: 'failed' | 'dead';
  now: number;
}

export interface RecoverRequest {
  now: number;
  /** Stored as the lastError of jobs whose claim lapsed. */
  error: ErrorRow;
  /** Limit to one queue; all queues when omitted. */
  queue?: string;
}

export interface RecoverResult {
  /** Claims that went back to pending for another attempt. */
  requeued: number;
  /** Claims whose last attempt lapsed: now `dead`. */
  dead: number;
}

export type StatusCounts = Record<JobStatus, number>;

export interface ListRequest {
  status?: JobStatus;
  queue?: string;
  /** At most this many rows (store default 100). */
  limit?: number;
  /** Rows to skip, for paging. */
  offset?: number;
  /** Needed to tell `pending` from `delayed`. */
  now: number;
}

export interface PurgeRequest {
  /** Only terminal statuses can be purged. */
  status: 'done' | 'failed' | 'dead';
  /** Remove jobs finished at or before this time. */
  finishedBefore: number;
  queue?: string;
}

export interface Store {
  /** Backend name, e.g. 'sqlite'. */
  readonly name: string;

  /**
   * DAG runs kept by this store, if it supports them (src/dag/store.ts,
   * which also states what ack, fail and recoverExpired must do for DAG
   * jobs).
   */
  readonly dag?: DagStore;

  /**
   * Create or upgrade the schema. Idempotent, safe to run from several
   * processes at once. `openStore` calls it; features that need more
   * tables (e.g. DAGs) add their own migrations to the store's list.
   */
  migrate(): Promise<void>;

  /** Insert one job, returning its id. */
  enqueue(job: NewJobRow): Promise<string>;
  /** Insert several jobs atomically, ids in input order. */
  enqueueMany(jobs: NewJobRow[]): Promise<string[]>;

  /**
   * Atomically take the best ready job of a queue: highest priority first,
   * then earliest runAt, then insertion order. Counts an attempt. No two
   * callers, in any process, ever receive the same claim.
   */
  claim(req: ClaimRequest): Promise<JobRow | null>;
  /** Same as claim, up to `max` jobs in claim order, in one transaction. */
  claimMany(req: ClaimRequest, max: number): Promise<JobRow[]>;

  /** Claimed -> done with the result. False if the claim no longer holds. */
  ack(
    id: string,
    result: Uint8Array | null,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean>;
  /**
   * Optional: ack several jobs in one transaction, results in input order.
   * Workers use it to spread one commit over many short jobs; without it
   * they call ack() once per job.
   */
  ackMany?(acks: AckRequest[], now: number): Promise<boolean[]>;
  /** Claimed -> pending (or delayed) for another attempt. */
  retry(id: string, update: RetryUpdate, fence?: ClaimFence): Promise<boolean>;
  /** Claimed -> failed or dead. */
  fail(id: string, update: FailUpdate, fence?: ClaimFence): Promise<boolean>;
  /**
   * Claimed -> pending without counting the attempt, e.g. a job still
   * running when a worker had to stop.
   */
  release(id: string, now: number, fence?: ClaimFence): Promise<boolean>;
  /** Push a claim's expiry forward while its job is still running. */
  extendClaim(
    id: string,
    expiresAt: number,
    now: number,
    fence?: ClaimFence,
  ): Promise<boolean>;

  /**
   * Claims whose expiry has passed go back to pending, or become `dead`
   * when that attempt was the last one.
   */
  recoverExpired(req: RecoverRequest): Promise<RecoverResult>;

  /** Count of jobs in each status, for one queue or all. */
  stats(queue: string | undefined, now: number): Promise<StatusCounts>;
  /**
   * Jobs waiting in a queue (pending + delayed, not claimed). The queue
   * calls this now and then for backpressure, not on every enqueue.
   */
  countWaiting(queue: string): Promise<number>;
  /** Names of the queues that have any job. */
  queues(): Promise<string[]>;

  getJob(id: string, now: number): Promise<JobRow | null>;
  /** Newest first. */
  listJobs(req: ListRequest): Promise<JobRow[]>;

  /** Delete finished jobs; returns how many went. */
  purge(req: PurgeRequest): Promise<number>;
  /**
   * failed/dead -> pending with attempts reset to 0, error kept until the
   * next attempt. False when the job is not failed or dead.
   */
  requeue(id: string, now: number): Promise<boolean>;

  /**
   * Optional: resolve true as soon as a job may be ready in one of
   * `queues` (any queue when empty), false after `timeoutMs`. True can be
   * a false alarm; it means "claim now". Stores that can be told when jobs
   * arrive (PostgreSQL: LISTEN/NOTIFY) implement it so idle workers need
   * not poll hard; workers poll every pollMs when it is missing.
   */
  waitForJobs?(queues: readonly string[], timeoutMs: number): Promise<boolean>;

  close(): Promise<void>;
}

/** Options any store accepts from `DuckQueue.open`. */
export interface StoreOptions {
  /** How long a write waits on another process's lock (ms). */
  busyTimeoutMs?: number;
}

/**
 * What a store module (src/store/<name>.ts) exports so `openStore` can load
 * it by name. The returned store has already been migrated.
 */
export type OpenStore = (
  location: string,
  options?: StoreOptions,
) => Promise<Store>;
