// The worker: claims jobs from one or more queues, runs them with bounded
// concurrency, records each outcome, keeps its claims alive, and stops
// without losing work.
//
// Short jobs are batched: the worker claims ahead of its free slots while
// jobs finish quickly (see WorkerOptions.prefetch) and stores the results
// of jobs that finish close together in one transaction.
//
// Caveat: with isolation 'none' (the default) jobs run in this process. A
// job that does not settle within its timeoutMs is recorded as failed with
// JobTimeoutError and its slot is freed, but its code may keep running in
// the background; a synchronous infinite loop blocks the whole process, so
// neither the timeout nor a graceful stop can interrupt it (its claim then
// lapses and another worker retries it). With isolation 'thread' or
// 'process' (see ./isolation/) the payload is decoded and run in a pooled
// isolate that is stopped on timeout, so the worker keeps serving.

import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ClaimedJob } from '../queue/job.js';
import {
  InvalidJobRowError,
  JobTimeoutError,
  QueueClosedError,
  QueueError,
} from '../queue/errors.js';
import { isTimerMs, MAX_ATTEMPTS, MAX_TIMER_MS } from '../queue/options.js';
import type { DuckQueue, SettleOutcome } from '../queue/queue.js';
import {
  checkWorkerQueue,
  resolveWorkerOptions,
  type ResolvedWorkerOptions,
  type WorkerOptions,
} from './options.js';
import { unloadableFix, unloadableWhat } from './failure-advice.js';
import { QueuePicker } from './queue-picker.js';
import { withDagContext } from '../dag/context.js';
import { IsolatePool } from './isolation/pool.js';
import { IsolateStartError } from './isolation/errors.js';
import { poolSettings } from './isolation/settings.js';
import type { PoolSettings } from './isolation/pool.js';

export interface JobStartEvent {
  job: ClaimedJob;
}
export interface JobDoneEvent {
  job: ClaimedJob;
  result: unknown;
  durationMs: number;
}
export interface JobFailedEvent {
  job: ClaimedJob;
  error: unknown;
  /** What became of the job; null if its claim had already lapsed. */
  outcome: SettleOutcome | null;
  durationMs: number;
}

export interface WorkerEvents {
  'job:start': [JobStartEvent];
  'job:done': [JobDoneEvent];
  'job:failed': [JobFailedEvent];
  /** A job still running after the grace period went back to pending. */
  'job:released': [{ job: ClaimedJob }];
  /** Every queue was empty on the last poll. */
  idle: [];
  stopping: [{ reason: string; running: number }];
  stopped: [WorkerSummary];
  /** A store or queue failure outside any job; the worker keeps going. */
  error: [unknown];
}

export interface WorkerSummary {
  done: number;
  /** Attempts that failed (retried, dead or failed). */
  failed: number;
  /** Running jobs given back after the grace period. */
  released: number;
}

export interface RunOptions {
  /**
   * Resolve once no job is pending or claimed in the worker's queues
   * (delayed jobs whose time has not come are not waited for).
   */
  untilEmpty?: boolean;
}

/** Longest idle wait when the store wakes workers on new jobs, in ms. */
const NOTIFIED_POLL_MS = 1_000;
/** Results stored per transaction at most. */
const ACK_BATCH = 128;
/** Give timers and signal handlers a turn at least this often, in ms. */
const YIELD_EVERY_MS = 10;
/** Claim ahead only while a batch of jobs finishes within this, in ms. */
const PREFETCH_BATCH_MS = 20;
const ISOLATE_START_FIX =
  'check that every preload module imports without throwing (run it ' +
  "with node), that packages it names are installed, and that a sandbox's " +
  'allowFsRead covers them';

interface Running {
  job: ClaimedJob;
  settled: Promise<void>;
  released: boolean;
}

interface PendingAck {
  job: ClaimedJob;
  result: unknown;
  durationMs: number;
}

export class Worker extends EventEmitter<WorkerEvents> {
  readonly options: ResolvedWorkerOptions;
  private readonly picker: QueuePicker;
  private readonly running = new Map<string, Running>();
  /** Claimed ahead, not started yet. */
  private readonly ready: ClaimedJob[] = [];
  private readonly acks: PendingAck[] = [];
  private ackFlush: Promise<void> | undefined;
  private ackScheduled = false;
  private ahead = 0;
  private batchStartedAt = 0;
  private lastClaimShort = false;
  private lastYield = 0;
  private summary: WorkerSummary = { done: 0, failed: 0, released: 0 };
  private state: 'idle' | 'running' | 'stopping' = 'idle';
  private stopReason = '';
  private graceOverride: number | undefined;
  private wake: (() => void) | undefined;
  private finished: Promise<WorkerSummary> | undefined;
  private storeWait: Promise<unknown> | undefined;
  /** Null when jobs run in this process (isolation 'none'). */
  private readonly isolated: PoolSettings | null;
  /** The threads or processes jobs run in, while run() is active. */
  private isolates: IsolatePool | undefined;
  /** Why run() stops and rejects: an isolate that could not start. */
  private startFailure: IsolateStartError | undefined;

  constructor(
    readonly queue: DuckQueue,
    options?: WorkerOptions,
  ) {
    super();
    checkWorkerQueue(queue);
    this.options = resolveWorkerOptions(options, {
      queue: queue.options.jobDefaults.queue,
      logger: queue.options.logger,
      visibilityTimeoutMs: queue.options.visibilityTimeoutMs,
    });
    this.picker = new QueuePicker(this.options.weights);
    this.isolated = poolSettings(queue, this.options);
  }

  get id(): string {
    return this.options.workerId;
  }

  /** Jobs running right now. */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Run until stop() (or, with untilEmpty, until the queues are drained).
   * Resolves with counts once every running job has settled or been
   * released.
   */
  run(options: RunOptions = {}): Promise<WorkerSummary> {
    if (this.state !== 'idle') {
      throw new QueueError(`worker ${this.id} is already running`);
    }
    this.state = 'running';
    this.summary = { done: 0, failed: 0, released: 0 };
    if (this.isolated) this.isolates = new IsolatePool(this.isolated);
    this.finished = this.loop(options.untilEmpty === true);
    return this.finished;
  }

  /**
   * Stop claiming, let running jobs finish within the grace period, then
   * release the rest. Resolves when run() has resolved.
   */
  async stop(
    options: { graceMs?: number; reason?: string } = {},
  ): Promise<WorkerSummary> {
    if (options.graceMs !== undefined) this.graceOverride = options.graceMs;
    if (this.state === 'running') {
      this.state = 'stopping';
      this.stopReason = options.reason ?? 'stop() called';
    }
    this.wake?.();
    return this.finished ?? this.summary;
  }

  private async loop(untilEmpty: boolean): Promise<WorkerSummary> {
    const log = this.options.logger;
    const removeSignals = this.options.handleSignals
      ? this.installSignals()
      : () => {};
    const heartbeat = setInterval(
      () => void this.heartbeat(),
      this.options.heartbeatMs,
    );
    heartbeat.unref();
    log.info('worker started', {
      workerId: this.id,
      queues: Object.fromEntries(this.options.weights),
      concurrency: this.options.concurrency,
    });
    let idleAnnounced = false;
    try {
      await this.warmIsolates();
      while (this.state === 'running') {
        await this.yieldNow();
        const free = this.options.concurrency - this.running.size;
        if (free > 0) {
          if (this.ready.length === 0) {
            // When the last claim found fewer jobs than it asked for, the
            // next ones may be waiting on our acks (a DAG enqueues the next
            // nodes in the ack's transaction): store them first. So also
            // when claims are one job at a time (jobs too slow to batch):
            // an ack per job costs nothing there. With a full queue of
            // quick jobs, acks keep collecting into larger transactions.
            const batching = this.ahead > 0 && !this.lastClaimShort;
            if (!batching && this.acks.length > 0) {
              await this.flushAcks();
            }
            await this.refill(free);
          }
          if (this.state !== 'running') break;
          if (this.ready.length > 0) {
            idleAnnounced = false;
            for (const job of this.ready.splice(0, free)) this.start(job);
            continue;
          }
          const flushed = this.acks.length > 0;
          await this.flushAcks();
          // Stored results can make jobs ready (a DAG enqueues the next
          // nodes in the ack's transaction): claim again before sleeping.
          if (flushed) continue;
          if (this.running.size === 0) {
            if (!idleAnnounced) {
              idleAnnounced = true;
              this.emit('idle');
            }
            if (untilEmpty && (await this.drained())) break;
          }
        }
        if (this.state !== 'running') break;
        if (free > 0 && this.queue.store.waitForJobs) {
          await this.waitForJobs();
        } else {
          await this.sleep(free > 0 ? this.options.pollMs : Infinity);
        }
      }
      if (this.state === 'stopping') {
        log.info('worker stopping: no new claims', {
          workerId: this.id,
          reason: this.stopReason,
          running: this.running.size,
          graceMs: this.graceOverride ?? this.options.graceMs,
        });
        this.emit('stopping', {
          reason: this.stopReason,
          running: this.running.size,
        });
      }
      // Jobs claimed ahead never started: give them back uncounted.
      for (const job of this.ready.splice(0)) await this.releaseSafely(job);
      await this.drain();
      await this.flushAcks();
    } finally {
      clearInterval(heartbeat);
      removeSignals();
      // Released jobs still running in an isolate are stopped here.
      await this.isolates?.close();
      this.isolates = undefined;
      this.state = 'idle';
      this.graceOverride = undefined;
    }
    log.info('worker stopped', { workerId: this.id, ...this.summary });
    this.emit('stopped', { ...this.summary });
    const startFailure = this.startFailure;
    this.startFailure = undefined;
    if (startFailure) throw startFailure;
    return { ...this.summary };
  }

  // One isolate is started before the first claim: if none can start
  // (a preload module that throws, a package that is not installed), no
  // job is claimed, and run() rejects with the IsolateStartError.
  private async warmIsolates(): Promise<void> {
    if (!this.isolates) return;
    try {
      await this.isolates.warm();
    } catch (err) {
      this.options.logger.error(
        'no job isolate could start; the worker claimed nothing and stops',
        { workerId: this.id, reason: errorText(err), fix: ISOLATE_START_FIX },
      );
      this.state = 'stopping';
      throw err;
    }
  }

  // better-sqlite3 answers synchronously, so a busy loop could run on
  // microtasks alone and starve timers (heartbeats) and signal handlers.
  private async yieldNow(): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < YIELD_EVERY_MS) return;
    this.lastYield = now;
    await nextTurn();
  }

  // Claim the free slots plus some jobs ahead. The lead grows while whole
  // batches finish within PREFETCH_BATCH_MS and collapses as soon as one
  // does not, so a long job holds up at most one batch behind it.
  private async refill(free: number): Promise<void> {
    const now = performance.now();
    if (this.batchStartedAt > 0) {
      const fast = now - this.batchStartedAt < PREFETCH_BATCH_MS;
      this.ahead = fast
        ? Math.min(this.options.prefetch, Math.max(1, this.ahead * 2))
        : 0;
    }
    const wanted = free + this.ahead;
    const jobs = await this.claimSafely(wanted);
    this.lastClaimShort = jobs.length < wanted;
    this.batchStartedAt = jobs.length > 0 ? now : 0;
    if (this.state !== 'running') {
      for (const job of jobs) await this.releaseSafely(job);
      return;
    }
    this.ready.push(...jobs);
  }

  // Weighted split of the slots, then fall through to any queue with work
  // for the slots an empty queue could not fill.
  private async claimSafely(wanted: number): Promise<ClaimedJob[]> {
    try {
      const jobs: ClaimedJob[] = [];
      const empty = new Set<string>();
      let missing = 0;
      for (const [queue, n] of this.picker.plan(wanted)) {
        const got = await this.queue.claimMany({
          queue,
          workerId: this.id,
          max: n,
        });
        jobs.push(...got);
        if (got.length < n) {
          empty.add(queue);
          missing += n - got.length;
        }
      }
      for (const queue of this.picker.byWeight) {
        if (missing === 0) break;
        if (empty.has(queue)) continue;
        const got = await this.queue.claimMany({
          queue,
          workerId: this.id,
          max: missing,
        });
        jobs.push(...got);
        missing -= got.length;
      }
      return jobs;
    } catch (err) {
      if (err instanceof QueueClosedError) {
        // Nothing can be claimed or stored any more: stop rather than
        // retry forever. Jobs already claimed come back after their claims
        // lapse, like a worker that died.
        if (this.state === 'running') {
          this.state = 'stopping';
          this.stopReason = 'the queue was closed';
        }
        return [];
      }
      this.reportError('claiming jobs failed; retrying after pollMs', err);
      return [];
    }
  }

  private async drained(): Promise<boolean> {
    try {
      for (const queue of this.options.weights.keys()) {
        const s = await this.queue.stats(queue);
        if (s.pending > 0 || s.claimed > 0) return false;
      }
      return true;
    } catch (err) {
      this.reportError('reading queue stats failed', err);
      return false;
    }
  }

  private start(job: ClaimedJob): void {
    const entry: Running = { job, settled: Promise.resolve(), released: false };
    this.running.set(job.id, entry);
    entry.settled = this.execute(entry).finally(() => {
      this.running.delete(job.id);
      this.wake?.();
    });
  }

  private async execute(entry: Running): Promise<void> {
    const { job } = entry;
    this.emit('job:start', { job });
    const started = performance.now();
    let result: unknown;
    try {
      const badRow = invalidRow(job);
      if (badRow) return await this.failUnloadable(entry, badRow, started);
      if (this.isolates) {
        // Decoded and run in a thread or child process; the pool stops
        // it at timeoutMs. A payload that cannot load fails at once.
        try {
          this.queue.checkFormat(job);
        } catch (err) {
          return await this.failUnloadable(entry, err, started);
        }
        const outcome = await this.isolates.run(job);
        if (outcome.kind === 'unstarted') {
          return await this.giveBackUnstarted(entry, outcome);
        }
        if (outcome.kind === 'unloadable') {
          return await this.failUnloadable(entry, outcome.error, started);
        }
        if (outcome.kind === 'failed') throw outcome.error;
        result = outcome.result;
      } else {
        let call;
        try {
          call = await this.queue.load(job);
        } catch (err) {
          return await this.failUnloadable(entry, err, started);
        }
        // A DAG task's last argument becomes its DagContext.
        const args = await withDagContext(this.queue, job.id, call.args);
        result = await runWithTimeout(job, () => call.fn(...args));
      }
    } catch (err) {
      if (entry.released) return;
      const outcome = await this.recordFailure(job, err);
      this.summary.failed++;
      this.logFailure(job, err, outcome);
      this.emit('job:failed', {
        job,
        error: err,
        outcome,
        durationMs: performance.now() - started,
      });
      return;
    }
    if (entry.released) return;
    this.acks.push({ job, result, durationMs: performance.now() - started });
    if (this.acks.length >= ACK_BATCH) {
      await this.flushAcks();
    } else if (!this.ackScheduled) {
      // Store everything that finishes in this turn of the event loop
      // together.
      this.ackScheduled = true;
      setImmediate(() => void this.flushAcks());
    }
  }

  // No isolate could take the job: it never ran, so it goes back without
  // an attempt counted. An isolate that cannot start fails every job the
  // same way, so the worker stops, and run() rejects with the reason.
  private async giveBackUnstarted(
    entry: Running,
    outcome: { error: IsolateStartError; fatal: boolean },
  ): Promise<void> {
    const { job } = entry;
    if (entry.released) return;
    entry.released = true;
    await this.releaseSafely(job);
    this.summary.released++;
    this.emit('job:released', { job });
    if (!outcome.fatal || this.startFailure) return;
    this.startFailure = outcome.error;
    this.options.logger.error(
      'a job isolate failed to start; the worker stops and its jobs go ' +
        'back to pending with no attempt counted',
      {
        workerId: this.id,
        jobId: job.id,
        reason: errorText(outcome.error),
        fix: ISOLATE_START_FIX,
      },
    );
    if (this.state === 'running') {
      this.state = 'stopping';
      this.stopReason = 'a job isolate failed to start';
    }
  }

  // The payload cannot become a function again (or its result cannot be
  // stored, or its row holds a value duckqueue never writes): retrying
  // will not help, so the job ends failed with the reason kept.
  private async failUnloadable(
    entry: Running,
    err: unknown,
    started: number,
  ): Promise<void> {
    const { job } = entry;
    if (entry.released) return;
    const outcome = await this.queue.fail(job, err);
    this.summary.failed++;
    this.options.logger.error(
      `job failed: ${unloadableWhat(err)}; it will not be retried`,
      {
        jobId: job.id,
        fn: job.fnName,
        workerId: this.id,
        reason: errorText(err),
        fix: unloadableFix(err),
      },
    );
    this.emit('job:failed', {
      job,
      error: err,
      outcome,
      durationMs: performance.now() - started,
    });
  }

  private async recordFailure(
    job: ClaimedJob,
    err: unknown,
  ): Promise<SettleOutcome | null> {
    try {
      return await this.queue.nack(job, err);
    } catch (storeErr) {
      this.reportError(
        `recording the failure of job ${job.id} failed; its claim will ` +
          'lapse and it will be retried',
        storeErr,
      );
      return null;
    }
  }

  /** Store the results waiting in the ack buffer, after earlier flushes. */
  private flushAcks(): Promise<void> {
    this.ackScheduled = false;
    if (this.acks.length > 0) {
      const batch = this.acks.splice(0);
      this.ackFlush = (this.ackFlush ?? Promise.resolve()).then(() =>
        this.storeAcks(batch),
      );
    }
    return this.ackFlush ?? Promise.resolve();
  }

  private async storeAcks(batch: PendingAck[]): Promise<void> {
    const log = this.options.logger;
    let outcomes;
    try {
      outcomes = await this.queue.ackMany(batch);
    } catch (err) {
      this.reportError(
        `storing the results of ${batch.length} jobs failed; their claims ` +
          'will lapse and they will run again',
        err,
      );
      return;
    }
    outcomes.forEach((outcome, i) => {
      const { job, result, durationMs } = batch[i]!;
      const scope = { jobId: job.id, fn: job.fnName, workerId: this.id };
      if (outcome === 'done') {
        this.summary.done++;
        log.debug('job done', scope);
        this.emit('job:done', { job, result, durationMs });
      } else if (outcome === 'lapsed') {
        log.warn(
          'job finished but its claim had lapsed; its result was not stored',
          { ...scope, fix: 'raise visibilityTimeoutMs or keep the event loop free' },
        );
      } else {
        this.summary.failed++;
        log.error('job failed: its result cannot be stored', {
          ...scope,
          reason: outcome.message,
        });
        this.emit('job:failed', {
          job,
          error: outcome,
          outcome: { status: 'failed' },
          durationMs,
        });
      }
    });
  }

  private logFailure(
    job: ClaimedJob,
    err: unknown,
    outcome: SettleOutcome | null,
  ): void {
    const log = this.options.logger;
    const meta = {
      jobId: job.id,
      fn: job.fnName,
      workerId: this.id,
      attempt: `${job.attempt}/${job.maxAttempts}`,
      reason: errorText(err),
    };
    if (outcome === null) {
      log.warn('job failed after its claim had lapsed; outcome not stored', meta);
    } else if (outcome.status === 'dead') {
      log.error('job is dead: last attempt failed; see getJob() / retry()', meta);
    } else if (outcome.status === 'failed') {
      log.error('job failed permanently; it will not be retried', meta);
    } else {
      log.warn('job attempt failed; will retry', {
        ...meta,
        retryInMs: outcome.retryInMs,
      });
    }
  }

  private async drain(): Promise<void> {
    if (this.running.size === 0) return;
    const graceMs = this.graceOverride ?? this.options.graceMs;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace'>((resolve) => {
      timer = setTimeout(() => resolve('grace'), graceMs);
    });
    const all = Promise.all([...this.running.values()].map((r) => r.settled));
    // A second stop() (e.g. a second SIGTERM) ends the grace period early.
    const hurried = new Promise<'grace'>((resolve) => {
      this.wake = () => {
        if (this.graceOverride === 0) resolve('grace');
      };
    });
    const first = await Promise.race([
      all.then(() => 'all' as const),
      graceOver,
      hurried,
    ]);
    clearTimeout(timer);
    if (first === 'all') return;
    for (const entry of this.running.values()) {
      entry.released = true;
      await this.releaseSafely(entry.job);
      this.summary.released++;
      this.options.logger.warn(
        'job still running after the grace period; released for another worker',
        {
          jobId: entry.job.id,
          fn: entry.job.fnName,
          workerId: this.id,
          graceMs,
        },
      );
      this.emit('job:released', { job: entry.job });
    }
    this.running.clear();
  }

  private async releaseSafely(job: ClaimedJob): Promise<void> {
    try {
      await this.queue.release(job);
    } catch (err) {
      this.reportError(
        `releasing job ${job.id} failed; its claim will lapse and be recovered`,
        err,
      );
    }
  }

  private async heartbeat(): Promise<void> {
    const held = [
      ...[...this.running.values()].filter((r) => !r.released).map((r) => r.job),
      ...this.ready,
    ];
    for (const job of held) {
      try {
        await this.queue.extendClaim(job);
      } catch (err) {
        this.reportError(`extending the claim of job ${job.id} failed`, err);
      }
    }
  }

  // Stores that hear about new jobs (PostgreSQL's LISTEN/NOTIFY) wake an
  // idle worker at once, so it can poll far less often. It still polls
  // every NOTIFIED_POLL_MS (or pollMs, if longer): delayed jobs coming due
  // and lapsed claims send no notification. One store wait at a time.
  private waitForJobs(): Promise<void> {
    const ms = Math.max(this.options.pollMs, NOTIFIED_POLL_MS);
    const sleeping = this.sleep(ms);
    this.storeWait ??= this.queue.store
      .waitForJobs!([...this.options.weights.keys()], ms)
      .catch((err: unknown) => this.reportError('waiting for jobs failed', err))
      .finally(() => {
        this.storeWait = undefined;
        this.wake?.();
      });
    return sleeping;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === Infinity ? undefined : setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private installSignals(): () => void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.state === 'stopping') {
        this.options.logger.warn(`${signal} again: releasing running jobs now`, {
          workerId: this.id,
        });
        void this.stop({ graceMs: 0 });
        return;
      }
      this.options.logger.info(
        `${signal} received: finishing running jobs, then exiting`,
        { workerId: this.id, running: this.running.size },
      );
      void this.stop({ reason: signal });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    return () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  private reportError(what: string, err: unknown): void {
    this.options.logger.error(what, {
      workerId: this.id,
      reason: errorText(err),
    });
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}

/**
 * A row is written by whoever can write the database, so the numbers the
 * worker acts on are checked before the job runs. A timeout out of range
 * would make Node warn and fire at once; a maxAttempts of 'abc' or 1e300
 * would retry a failing job forever, and 0 would still run it. The job
 * fails instead of running with a clamped value, the same as a payload
 * that cannot be loaded: a row duckqueue did not write is not run.
 */
function invalidRow(job: ClaimedJob): InvalidJobRowError | null {
  // Runs for every job: the common case allocates nothing.
  if (!isWhole(job.maxAttempts, 1, MAX_ATTEMPTS)) {
    return new InvalidJobRowError(
      job.id,
      'maxAttempts',
      job.maxAttempts,
      `maxAttempts is a whole number from 1 to ${MAX_ATTEMPTS}`,
    );
  }
  // The claim counted this attempt, so it is at least 1; a claim never
  // takes a job whose attempts are used up.
  if (!isWhole(job.attempt, 1, job.maxAttempts)) {
    return new InvalidJobRowError(
      job.id,
      'attempts',
      job.attempt,
      `attempts count up from 1 to maxAttempts (${job.maxAttempts})`,
    );
  }
  if (!isWhole(job.priority, 0, 100)) {
    return new InvalidJobRowError(
      job.id,
      'priority',
      job.priority,
      'priority is a whole number from 0 to 100',
    );
  }
  if (job.timeoutMs !== null && !isTimerMs(job.timeoutMs)) {
    return new InvalidJobRowError(
      job.id,
      'timeoutMs',
      job.timeoutMs,
      `a timeout is null or whole milliseconds from 1 to ${MAX_TIMER_MS}`,
    );
  }
  return null;
}

function isWhole(value: unknown, min: number, max: number): boolean {
  return (
    typeof value === 'number' &&
    Number.isInteger(value) &&
    value >= min &&
    value <= max
  );
}

/** Run a job, failing it with JobTimeoutError if it has not settled in time. */
async function runWithTimeout(
  job: ClaimedJob,
  run: () => unknown,
): Promise<unknown> {
  const value = run();
  // A synchronous job has already finished: no timer could have fired
  // while it held the event loop, so only promises race the limit.
  if (job.timeoutMs === null || !isThenable(value)) return value;
  const limit = job.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JobTimeoutError(job.id, limit)), limit);
  });
  try {
    return await Promise.race([value, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function errorText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
