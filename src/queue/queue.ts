// DuckQueue: enqueue JavaScript functions, claim them, record outcomes.
// It serializes through the serializer contract, stores through the Store
// contract, and emits events instead of logging.

import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSerializer, inspectPayload } from '../serialize/index.js';
import { Dag, buildAndSubmit } from '../dag/builder.js';
import { DagRun } from '../dag/run.js';
import { DagJobRetryError } from '../dag/errors.js';
import type {
  LoadedCall,
  Serializer,
} from '../serialize/types.js';
import { isStore, openStore } from '../store/index.js';
import {
  assertAcceptedFormat,
  assertPayloadMatchesRow,
} from './accept-formats.js';
import type {
  AckRequest,
  ClaimFence,
  ErrorRow,
  JobStatus,
  NewJobRow,
  RecoverResult,
  StatusCounts,
  Store,
} from '../store/types.js';
import { JOB_STATUSES } from '../store/types.js';
import { BackpressureGauge, type BackpressureEvent } from './backpressure.js';
import { decodeError, decodeResult, encodeResult, errorRow } from './codec.js';
import {
  ClaimExpiredError,
  InvalidOptionError,
  JobFailedError,
  JobNotFoundError,
  JobStateError,
  PermanentJobError,
  QueueClosedError,
  ResultEncodingError,
  ResultTimeoutError,
} from './errors.js';
import { toClaimed, toRecord, type ClaimedJob, type JobRecord } from './job.js';
import {
  backoffDelay,
  checkClaimMax,
  checkKnownKeys,
  checkNumber,
  checkQueueName,
  definedOnly,
  describe,
  ENQUEUE_OPTION_NAMES,
  resolveJob,
  resolveQueueOptions,
  type DuckQueueOptions,
  type EnqueueOptions,
  type ResolvedJob,
  type ResolvedQueueOptions,
} from './options.js';

/** One entry of enqueueBatch: the function plus its own options. */
export interface BatchItem extends EnqueueOptions {
  fn: (...args: any[]) => unknown;
}

export interface ClaimOptions {
  /** Default: the queue's default queue name. */
  queue?: string;
  /** Who holds the claim; shown in getJob and logs. */
  workerId: string;
}

export interface ResultOptions {
  /** How long to wait for the job to finish, in ms. Default 30_000. */
  waitMs?: number;
}

export interface ListJobsOptions {
  status?: JobStatus;
  queue?: string;
  /** Default 100. */
  limit?: number;
  offset?: number;
}

export interface PurgeOptions {
  status: 'done' | 'failed' | 'dead';
  /** Only jobs finished at least this long ago. Default 0 (all). */
  olderThanMs?: number;
  queue?: string;
}

/** What ackMany() did with one job. */
export type AckOutcome = 'done' | 'lapsed' | ResultEncodingError;

/** What became of a job after nack() or fail(). */
export interface SettleOutcome {
  status: 'pending' | 'delayed' | 'failed' | 'dead';
  /** For a retry: ms until the next attempt may start. */
  retryInMs?: number;
}

export interface FormatMetrics {
  jobs: number;
  bytes: number;
  serializeMs: number;
}

export interface QueueMetrics {
  enqueued: number;
  bytes: number;
  /** Time spent in serialize() and reading the payload header. */
  serializeMs: number;
  formats: Record<string, FormatMetrics>;
}

export interface DuckQueueEvents {
  backpressure: [BackpressureEvent];
  /** Forwarded from the serializer. */
  slowSerialization: [unknown];
  /** Forwarded from the serializer ('auto' chose another format). */
  fallback: [unknown];
  /** Lapsed claims were taken back. */
  recovered: [RecoverResult];
}

const DEFAULT_RESULT_WAIT_MS = 30_000;
const RESULT_POLL_MAX_MS = 200;
const RESULT_WAITABLE: readonly string[] = ['waitMs'];
const LIST_KEYS: readonly string[] = ['status', 'queue', 'limit', 'offset'];
const PURGE_KEYS: readonly string[] = ['status', 'olderThanMs', 'queue'];
const CLAIM_KEYS: readonly string[] = ['queue', 'workerId'];
const CLAIM_MANY_KEYS: readonly string[] = [...CLAIM_KEYS, 'max'];
const TERMINAL = ['done', 'failed', 'dead'] as const;

type JobRef = string | ClaimedJob;

export class DuckQueue extends EventEmitter<DuckQueueEvents> {
  readonly options: ResolvedQueueOptions;
  readonly serializer: Serializer;
  private readonly gauge: BackpressureGauge;
  private readonly loaders = new Map<string, Serializer>();
  private readonly settled = new EventEmitter();
  private readonly counters: QueueMetrics = {
    enqueued: 0,
    bytes: 0,
    serializeMs: 0,
    formats: {},
  };
  private lastRecoverAt = -Infinity;
  private closed = false;

  /**
   * Open a queue on `location` (a file path for SQLite and DuckDB, a
   * connection string for PostgreSQL), creating the schema if needed.
   */
  static async open(
    location: string,
    options: DuckQueueOptions = {},
  ): Promise<DuckQueue> {
    const resolved = resolveQueueOptions(options);
    const serializer =
      typeof resolved.serialization === 'string'
        ? createSerializer(resolved.serialization, resolved.serializerOptions)
        : resolved.serialization;
    let store: Store;
    if (typeof resolved.store === 'string') {
      if (typeof location !== 'string' || location === '') {
        throw new InvalidOptionError(
          'location',
          `expected a database path or connection string, got ${describe(location)}`,
        );
      }
      store = await openStore(resolved.store, location, resolved.storeOptions);
    } else if (isStore(resolved.store)) {
      store = resolved.store;
      await store.migrate();
    } else {
      throw new InvalidOptionError(
        'store',
        'expected a store name or an object implementing Store',
      );
    }
    return new DuckQueue(location, store, serializer, resolved);
  }

  private constructor(
    readonly location: string,
    readonly store: Store,
    serializer: Serializer,
    options: ResolvedQueueOptions,
  ) {
    super();
    this.options = options;
    this.serializer = serializer;
    this.settled.setMaxListeners(0);
    this.gauge = new BackpressureGauge(
      options.warnPendingAt,
      options.maxPending,
      options.pendingRefreshMs,
      (queue) => this.store.countWaiting(queue),
      (event) => this.emit('backpressure', event),
    );
    forwardSerializerEvents(serializer, this);
  }

  // ---- producing -------------------------------------------------------

  /** Store a call of `fn` for a worker to run; resolves to the job id. */
  async enqueue(
    fn: (...args: any[]) => unknown,
    options?: EnqueueOptions,
  ): Promise<string> {
    this.assertOpen('enqueue');
    const job = resolveJob('enqueue', fn, options, this.options.jobDefaults);
    const now = this.options.clock();
    const row = this.toNewRow(fn, job, now);
    if (!this.gauge.off) await this.gauge.admit(job.queue, 1, now);
    const id = await this.store.enqueue(row);
    if (!this.gauge.off) this.gauge.added(job.queue, 1);
    return id;
  }

  /**
   * Store many calls in one transaction: all or none. `defaults` apply to
   * every item that does not set the option itself.
   */
  async enqueueBatch(
    items: BatchItem[],
    defaults: EnqueueOptions = {},
  ): Promise<string[]> {
    this.assertOpen('enqueueBatch');
    if (!Array.isArray(items)) {
      throw new InvalidOptionError(
        'enqueueBatch items',
        `expected an array of { fn, ...options }, got ${describe(items)}`,
      );
    }
    checkKnownKeys('enqueueBatch defaults', defaults, [
      'args',
      'queue',
      'priority',
      'delayMs',
      'maxAttempts',
      'timeoutMs',
    ]);
    // forEach skips the holes of a sparse array: refuse them, so every
    // index given is either stored or an error.
    for (let i = 0; i < items.length; i++) {
      if (!(i in items)) {
        throw new InvalidOptionError(
          `enqueueBatch[${i}]`,
          'is a hole in a sparse array; give a { fn, ...options } for ' +
            'every index (build the list with push or map)',
        );
      }
    }
    const now = this.options.clock();
    const rows: NewJobRow[] = [];
    const perQueue = new Map<string, number>();
    items.forEach((item, i) => {
      if (typeof item !== 'object' || item === null) {
        throw new InvalidOptionError(
          `enqueueBatch[${i}]`,
          `expected { fn, ...options }, got ${describe(item)}`,
        );
      }
      const { fn, ...own } = item;
      // An option set to undefined is not given (the batch default
      // applies), but a misspelt one is still refused.
      checkKnownKeys(`enqueueBatch[${i}] options`, own, ENQUEUE_OPTION_NAMES);
      const job = resolveJob(
        `enqueueBatch[${i}]`,
        fn,
        { ...defaults, ...definedOnly(own) },
        this.options.jobDefaults,
      );
      rows.push(this.toNewRow(fn, job, now));
      perQueue.set(job.queue, (perQueue.get(job.queue) ?? 0) + 1);
    });
    if (!this.gauge.off) {
      for (const [queue, n] of perQueue) await this.gauge.admit(queue, n, now);
    }
    const ids = await this.store.enqueueMany(rows);
    if (!this.gauge.off) {
      for (const [queue, n] of perQueue) this.gauge.added(queue, n);
    }
    return ids;
  }

  private toNewRow(
    fn: (...args: any[]) => unknown,
    job: ResolvedJob,
    now: number,
  ): NewJobRow {
    const started = performance.now();
    const payload = this.serializer.serialize({ fn, args: job.args });
    const info = inspectPayload(payload);
    this.count(info.format, payload.byteLength, performance.now() - started);
    return {
      queue: job.queue,
      payload,
      format: info.format,
      fnName: info.fnName,
      priority: job.priority,
      runAt: now + job.delayMs,
      maxAttempts: job.maxAttempts,
      timeoutMs: job.timeoutMs,
      createdAt: now,
    };
  }

  private count(format: string, bytes: number, ms: number): void {
    const c = this.counters;
    c.enqueued += 1;
    c.bytes += bytes;
    c.serializeMs += ms;
    const f = (c.formats[format] ??= { jobs: 0, bytes: 0, serializeMs: 0 });
    f.jobs += 1;
    f.bytes += bytes;
    f.serializeMs += ms;
  }

  /** Jobs, bytes and serialize time per format since open. */
  metrics(): QueueMetrics {
    const formats: Record<string, FormatMetrics> = {};
    for (const [k, v] of Object.entries(this.counters.formats)) {
      formats[k] = { ...v };
    }
    return { ...this.counters, formats };
  }

  // ---- DAG workflows (src/dag) -----------------------------------------

  /**
   * A DAG builder: add tasks with dag.task(fn, { dependsOn }), then
   * dag.submit(). With `build`, runs it on the builder and submits when it
   * resolves; if it throws, nothing is stored.
   */
  dag(name: string): Dag;
  dag(name: string, build: (dag: Dag) => unknown): Promise<DagRun>;
  dag(name: string, build?: (dag: Dag) => unknown): Dag | Promise<DagRun> {
    this.assertOpen('dag');
    if (arguments.length < 2) return new Dag(this, name);
    return buildAndSubmit(this, name, build!);
  }

  /**
   * A handle on a DAG run submitted earlier (by any process), by its id.
   * Throws DagRunNotFoundError for an unknown id.
   */
  async dagRun(id: string): Promise<DagRun> {
    this.assertOpen('dagRun');
    return DagRun.open(this, String(id));
  }

  // ---- consuming -------------------------------------------------------

  /**
   * Take the best ready job of a queue, or null when none is ready. Also
   * takes back lapsed claims, at most once per recoverIntervalMs.
   */
  async claim(options: ClaimOptions): Promise<ClaimedJob | null> {
    this.assertOpen('claim');
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError(
        'claim options',
        `expected { workerId, queue? }, got ${describe(options)}`,
      );
    }
    checkKnownKeys('claim options', options, CLAIM_KEYS);
    const jobs = await this.claimMany({ ...options, max: 1 });
    return jobs[0] ?? null;
  }

  /**
   * Take up to `max` ready jobs (1 to MAX_CLAIM_BATCH, 100_000) in one
   * transaction.
   */
  async claimMany(
    options: ClaimOptions & { max: number },
  ): Promise<ClaimedJob[]> {
    this.assertOpen('claim');
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError(
        'claimMany options',
        `expected { workerId, max, queue? }, got ${describe(options)}`,
      );
    }
    // A misspelt key would otherwise claim from the default queue.
    checkKnownKeys('claimMany options', options, CLAIM_MANY_KEYS);
    const max = checkClaimMax('claimMany max', options.max);
    const queue =
      options.queue === undefined
        ? this.options.jobDefaults.queue
        : checkQueueName('claim queue', options.queue);
    if (typeof options.workerId !== 'string' || options.workerId === '') {
      throw new InvalidOptionError(
        'claim workerId',
        `expected a non-empty string naming the worker, got ${describe(options.workerId)}`,
      );
    }
    const now = this.options.clock();
    if (now - this.lastRecoverAt >= this.options.recoverIntervalMs) {
      await this.recoverExpired();
    }
    const request = {
      queue,
      workerId: options.workerId,
      now,
      visibilityTimeoutMs: this.options.visibilityTimeoutMs,
    };
    const rows =
      max === 1
        ? [await this.store.claim(request)].filter((r) => r !== null)
        : await this.store.claimMany(request, max);
    return rows.map(toClaimed);
  }

  /**
   * Turn a claimed job's payload back into { fn, args }. Throws the
   * serializer's DeserializationError when the bytes are damaged or the
   * function cannot be found; the job should then be fail()ed.
   */
  async load(job: ClaimedJob): Promise<LoadedCall> {
    this.checkFormat(job);
    return this.loaderFor(job.format).deserialize(job.payload);
  }

  /**
   * Throw PolicyViolationError when the job's format is not one this
   * queue loads (see the acceptFormats option). load() checks it; code
   * that decodes payloads elsewhere (an isolate) calls it first.
   */
  checkFormat(job: Pick<ClaimedJob, 'id' | 'format' | 'payload'>): void {
    assertAcceptedFormat(job.format, this.options.acceptFormats);
    assertPayloadMatchesRow(job);
  }

  // A payload is read by a serializer for its own format (one of
  // acceptFormats), so a worker opened with 'v8' still runs 'json' jobs.
  private loaderFor(format: string): Serializer {
    if (typeof this.options.serialization !== 'string') return this.serializer;
    let loader = this.loaders.get(format);
    if (!loader) {
      try {
        loader = createSerializer(format, this.options.serializerOptions);
      } catch {
        loader = this.serializer;
      }
      this.loaders.set(format, loader);
    }
    return loader;
  }

  /**
   * Record a claimed job as done with its result. Resolves false if the
   * claim no longer holds (it lapsed and was recovered). A result node:v8
   * cannot encode fails the job and throws ResultEncodingError.
   */
  async ack(job: JobRef, result?: unknown): Promise<boolean> {
    this.assertOpen('ack');
    const id = jobId(job);
    let bytes: Uint8Array | null;
    try {
      bytes = encodeResult(result);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const failure = new ResultEncodingError(id, reason);
      await this.fail(job, failure);
      throw failure;
    }
    const now = this.options.clock();
    const ok = await this.store.ack(id, bytes, now, fenceOf(job));
    if (ok) this.settled.emit(id);
    return ok;
  }

  /**
   * ack() for many jobs in one store transaction (when the store has
   * ackMany). Per job: 'done', 'lapsed' if its claim no longer holds, or
   * the ResultEncodingError that failed it.
   */
  async ackMany(
    items: { job: JobRef; result?: unknown }[],
  ): Promise<AckOutcome[]> {
    this.assertOpen('ack');
    const out: AckOutcome[] = new Array(items.length);
    const batch: AckRequest[] = [];
    const at: number[] = [];
    for (let i = 0; i < items.length; i++) {
      const { job, result } = items[i]!;
      const id = jobId(job);
      try {
        batch.push({ id, result: encodeResult(result), fence: fenceOf(job) });
        at.push(i);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const failure = new ResultEncodingError(id, reason);
        await this.fail(job, failure);
        out[i] = failure;
      }
    }
    const now = this.options.clock();
    let stored: boolean[];
    if (this.store.ackMany) {
      stored = await this.store.ackMany(batch, now);
    } else {
      stored = [];
      for (const a of batch) {
        stored.push(await this.store.ack(a.id, a.result, now, a.fence));
      }
    }
    stored.forEach((ok, j) => {
      out[at[j]!] = ok ? 'done' : 'lapsed';
      if (ok) this.settled.emit(batch[j]!.id);
    });
    return out;
  }

  /**
   * Record a failed attempt: retry after the backoff delay, or `dead` when
   * it was the last attempt, or `failed` for a PermanentJobError. Resolves
   * null if the claim no longer holds.
   */
  async nack(job: JobRef, error: unknown): Promise<SettleOutcome | null> {
    this.assertOpen('nack');
    if (error instanceof PermanentJobError) return this.fail(job, error);
    const id = jobId(job);
    let attempt: number;
    let maxAttempts: number;
    if (typeof job === 'string') {
      const row = await this.store.getJob(id, this.options.clock());
      if (!row) throw new JobNotFoundError(id);
      if (row.status !== 'claimed') return null;
      attempt = row.attempts;
      maxAttempts = row.maxAttempts;
    } else {
      attempt = job.attempt;
      maxAttempts = job.maxAttempts;
    }
    const row = errorRow(error);
    const now = this.options.clock();
    if (attempt >= maxAttempts) {
      return this.settle(id, row, 'dead', now, fenceOf(job));
    }
    const delay = backoffDelay(this.options.backoff, attempt);
    const fence = fenceOf(job);
    const ok = await this.store.retry(
      id,
      { error: row, runAt: now + delay, now },
      fence,
    );
    if (!ok) return null;
    return { status: delay > 0 ? 'delayed' : 'pending', retryInMs: delay };
  }

  /** End a claimed job as `failed` now, without retries. */
  async fail(job: JobRef, error: unknown): Promise<SettleOutcome | null> {
    this.assertOpen('fail');
    const now = this.options.clock();
    return this.settle(jobId(job), errorRow(error), 'failed', now, fenceOf(job));
  }

  private async settle(
    id: string,
    error: ErrorRow,
    status: 'failed' | 'dead',
    now: number,
    fence: ClaimFence | undefined,
  ): Promise<SettleOutcome | null> {
    const ok = await this.store.fail(id, { error, status, now }, fence);
    if (!ok) return null;
    this.settled.emit(id);
    return { status };
  }

  /** Give a claimed job back without counting the attempt. */
  async release(job: JobRef): Promise<boolean> {
    this.assertOpen('release');
    return this.store.release(jobId(job), this.options.clock(), fenceOf(job));
  }

  /** Keep a running job's claim from lapsing for another timeout period. */
  async extendClaim(job: JobRef): Promise<boolean> {
    this.assertOpen('extendClaim');
    const now = this.options.clock();
    const timeout = typeof job === 'string' ? 0 : (job.timeoutMs ?? 0);
    const expiresAt = now + this.options.visibilityTimeoutMs + timeout;
    return this.store.extendClaim(jobId(job), expiresAt, now, fenceOf(job));
  }

  /**
   * Take back every lapsed claim: to pending for another attempt, or dead
   * when that was the last attempt. claim() calls this on its own.
   */
  async recoverExpired(): Promise<RecoverResult> {
    this.assertOpen('recoverExpired');
    const now = this.options.clock();
    this.lastRecoverAt = now;
    const error = errorRow(new ClaimExpiredError(this.options.visibilityTimeoutMs));
    const result = await this.store.recoverExpired({ now, error });
    if (result.requeued + result.dead > 0) this.emit('recovered', result);
    return result;
  }

  // ---- reading ---------------------------------------------------------

  /** Job counts per status for one queue, or all queues. */
  async stats(queue?: string): Promise<StatusCounts> {
    this.assertOpen('stats');
    if (queue !== undefined) checkQueueName('stats queue', queue);
    return this.store.stats(queue, this.options.clock());
  }

  /** Names of the queues that hold any job. */
  async queues(): Promise<string[]> {
    this.assertOpen('queues');
    return this.store.queues();
  }

  /** A job's full record; throws JobNotFoundError for an unknown id. */
  async getJob(id: string): Promise<JobRecord> {
    this.assertOpen('getJob');
    const row = await this.store.getJob(String(id), this.options.clock());
    if (!row) throw new JobNotFoundError(String(id));
    return toRecord(row);
  }

  /** Jobs newest first, filtered by status and queue. */
  async listJobs(options: ListJobsOptions = {}): Promise<JobRecord[]> {
    this.assertOpen('listJobs');
    checkKnownKeys('listJobs options', options, LIST_KEYS);
    if (options.status !== undefined && !JOB_STATUSES.includes(options.status)) {
      throw new InvalidOptionError(
        'listJobs status',
        `expected one of ${JOB_STATUSES.join(', ')}, got ${describe(options.status)}`,
      );
    }
    if (options.queue !== undefined) checkQueueName('listJobs queue', options.queue);
    const limit = options.limit ?? 100;
    const offset = options.offset ?? 0;
    checkNumber('listJobs limit', limit, 1, 100_000);
    checkNumber('listJobs offset', offset, 0);
    const rows = await this.store.listJobs({
      status: options.status,
      queue: options.queue,
      limit: Math.trunc(limit),
      offset: Math.trunc(offset),
      now: this.options.clock(),
    });
    return rows.map(toRecord);
  }

  /**
   * Wait for a job to finish and return its result. Throws JobFailedError
   * (carrying the stored error) if it ended failed or dead, and
   * ResultTimeoutError if it is still unfinished after `waitMs`.
   */
  async result(id: string, options: ResultOptions = {}): Promise<unknown> {
    this.assertOpen('result');
    checkKnownKeys('result options', options, RESULT_WAITABLE);
    const waitMs = checkNumber(
      'result waitMs',
      options.waitMs ?? DEFAULT_RESULT_WAIT_MS,
      0,
      2 ** 31 - 1,
      'ms',
    );
    const deadline = Date.now() + waitMs;
    let pause = 5;
    for (;;) {
      this.assertOpen('result');
      const row = await this.store.getJob(String(id), this.options.clock());
      if (!row) throw new JobNotFoundError(String(id));
      if (row.status === 'done') return decodeResult(row.result, row.id);
      if (row.status === 'failed' || row.status === 'dead') {
        const stored = row.lastError ?? {
          name: 'Error',
          message: 'no error was recorded',
          stack: null,
          value: null,
        };
        throw new JobFailedError(
          row.id,
          row.status,
          { name: stored.name, message: stored.message, stack: stored.stack },
          { cause: decodeError(stored) },
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new ResultTimeoutError(row.id, waitMs, row.status);
      await this.settledOrTimeout(row.id, Math.min(pause, left));
      pause = Math.min(pause * 2, RESULT_POLL_MAX_MS);
    }
  }

  // Wakes early when this process settles the job; other processes are
  // seen by polling.
  private async settledOrTimeout(id: string, ms: number): Promise<void> {
    const ac = new AbortController();
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.settled.once(id, wake);
    try {
      await Promise.race([
        woken,
        sleep(ms, undefined, { signal: ac.signal }).catch(() => {}),
      ]);
    } finally {
      ac.abort();
      this.settled.off(id, wake);
    }
  }

  // ---- operating -------------------------------------------------------

  /** Move a failed or dead job back to pending, attempts reset. */
  async retry(id: string): Promise<void> {
    this.assertOpen('retry');
    const now = this.options.clock();
    // A DAG task's job is retried through its run, which also reopens the
    // tasks its failure skipped.
    const node = await this.store.dag?.jobNode(String(id));
    if (node) throw new DagJobRetryError(String(id), node.runId, node.node);
    if (await this.store.requeue(String(id), now)) return;
    const row = await this.store.getJob(String(id), now);
    if (!row) throw new JobNotFoundError(String(id));
    throw new JobStateError(row.id, row.status, 'retry', ['failed', 'dead']);
  }

  /** Delete finished jobs; resolves to how many were deleted. */
  async purge(options: PurgeOptions): Promise<number> {
    this.assertOpen('purge');
    checkKnownKeys('purge options', options, PURGE_KEYS);
    if (!options || !(TERMINAL as readonly string[]).includes(options.status)) {
      throw new InvalidOptionError(
        'purge status',
        `expected one of ${TERMINAL.join(', ')} (only finished jobs can be ` +
          `purged), got ${describe(options?.status)}`,
      );
    }
    const olderThan = checkNumber(
      'purge olderThanMs',
      options.olderThanMs ?? 0,
      0,
      Number.MAX_SAFE_INTEGER,
      'ms',
    );
    if (options.queue !== undefined) checkQueueName('purge queue', options.queue);
    return this.store.purge({
      status: options.status,
      finishedBefore: this.options.clock() - olderThan,
      queue: options.queue,
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Close the store. Stop workers first. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.store.close();
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new QueueClosedError(operation);
  }
}

function jobId(job: JobRef): string {
  if (typeof job === 'string') return job;
  if (typeof job === 'object' && job !== null && typeof job.id === 'string') {
    return job.id;
  }
  throw new InvalidOptionError(
    'job',
    `expected a job id or a claimed job, got ${describe(job)}`,
  );
}

function fenceOf(job: JobRef): ClaimFence | undefined {
  return typeof job === 'string'
    ? undefined
    : { workerId: job.claimedBy, attempt: job.attempt };
}

interface EventSource {
  on(event: string, listener: (e: unknown) => void): unknown;
}

function forwardSerializerEvents(serializer: Serializer, queue: DuckQueue) {
  const source = serializer as Partial<EventSource>;
  if (typeof source.on !== 'function') return;
  source.on('slowSerialization', (e) => queue.emit('slowSerialization', e));
  source.on('fallback', (e) => queue.emit('fallback', e));
}
