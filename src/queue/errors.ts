// Errors the queue and the worker raise. Each is a named class with a stable
// `code`, so callers branch with `instanceof` or `code`, never on message
// text. Messages name the bad value, the rule and the fix.

import type { JobStatus } from '../store/types.js';

/** An error as kept in the store: readable without decoding anything. */
export interface StoredErrorInfo {
  name: string;
  message: string;
  stack: string | null;
}

export class QueueError extends Error {
  readonly code: string = 'DQ_QUEUE';
  override name = 'QueueError';
}

/** A bad option or argument. `option` is the path to it, e.g. 'priority'. */
export class InvalidOptionError extends QueueError {
  override readonly code = 'DQ_INVALID_OPTION';
  override name = 'InvalidOptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

/** A store name that is not shipped or whose module cannot be loaded. */
export class UnknownStoreError extends QueueError {
  override readonly code = 'DQ_UNKNOWN_STORE';
  override name = 'UnknownStoreError';
  constructor(
    readonly store: string,
    reason: string,
    known: readonly string[],
  ) {
    super(
      `store '${store}' cannot be opened: ${reason}. Use one of ` +
        `${known.map((n) => `'${n}'`).join(', ')} or pass a Store instance.`,
    );
  }
}

/** Enqueue refused: the queue holds `maxPending` waiting jobs already. */
export class QueueFullError extends QueueError {
  override readonly code = 'DQ_QUEUE_FULL';
  override name = 'QueueFullError';
  constructor(
    readonly queue: string,
    readonly count: number,
    readonly limit: number,
  ) {
    super(
      `queue '${queue}' is full: ${count} jobs waiting, limit maxPending ` +
        `${limit}. Add workers, wait for the backlog to drain, or raise ` +
        'maxPending.',
    );
  }
}

export class JobNotFoundError extends QueueError {
  override readonly code = 'DQ_JOB_NOT_FOUND';
  override name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super(`no job with id '${jobId}' (purged, or from another database?)`);
  }
}

/**
 * `result()` on a job that ended `failed` or `dead`. `stored` is the error
 * as kept in the store; `cause` is the decoded thrown value when it could
 * be decoded.
 */
export class JobFailedError extends QueueError {
  override readonly code = 'DQ_JOB_FAILED';
  override name = 'JobFailedError';
  constructor(
    readonly jobId: string,
    readonly status: 'failed' | 'dead',
    readonly stored: StoredErrorInfo,
    options?: { cause?: unknown },
  ) {
    super(
      `job ${jobId} ${status === 'dead' ? 'is dead (retries exhausted)' : 'failed'}: ` +
        `${stored.name}: ${stored.message}`,
      options,
    );
  }
}

/** An attempt that did not settle within the job's `timeoutMs`. */
export class JobTimeoutError extends QueueError {
  override readonly code = 'DQ_JOB_TIMEOUT';
  override name = 'JobTimeoutError';
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
  ) {
    super(
      `job ${jobId} did not finish within timeoutMs ${timeoutMs}; ` +
        'raise timeoutMs or make the job faster',
    );
  }
}

/**
 * A claimed job's row holds a value duckqueue never writes, such as a
 * timeout no timer can wait: the row was changed outside duckqueue. The
 * worker fails the job without running it.
 */
export class InvalidJobRowError extends QueueError {
  override readonly code = 'DQ_INVALID_JOB_ROW';
  override name = 'InvalidJobRowError';
  constructor(
    readonly jobId: string,
    /** The job field, e.g. 'timeoutMs'. */
    readonly field: string,
    readonly value: unknown,
    rule: string,
  ) {
    super(
      `job ${jobId} has ${field} ${String(value)} in its row, but ${rule}; ` +
        'the row was changed outside duckqueue. The job was not run: ' +
        `enqueue it again with a valid ${field} if it should run`,
    );
  }
}

/** `result(id, { waitMs })` gave up while the job was still unfinished. */
export class ResultTimeoutError extends QueueError {
  override readonly code = 'DQ_RESULT_TIMEOUT';
  override name = 'ResultTimeoutError';
  constructor(
    readonly jobId: string,
    readonly waitMs: number,
    readonly status: JobStatus,
  ) {
    super(
      `job ${jobId} is still ${status} after waiting ${waitMs} ms; ` +
        'is a worker running for its queue?',
    );
  }
}

/** Stored on a job whose claim lapsed (worker died or hung). */
export class ClaimExpiredError extends QueueError {
  override readonly code = 'DQ_CLAIM_EXPIRED';
  override name = 'ClaimExpiredError';
  constructor(visibilityTimeoutMs: number) {
    super(
      'the worker holding this job stopped reporting (killed or hung) and ' +
        `its claim lapsed (visibilityTimeoutMs ${visibilityTimeoutMs})`,
    );
  }
}

/** A job returned a value that node:v8 cannot encode. */
/** A stored result's bytes are damaged and cannot be read back. */
export class ResultDecodingError extends QueueError {
  override readonly code = 'DQ_RESULT_DECODING';
  override name = 'ResultDecodingError';
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(
      `the stored result of job ${jobId} cannot be read (${reason}); the ` +
        'row was changed outside duckqueue or the file is damaged. The job ' +
        'ran; re-run it with q.retry() only if it is safe to run again',
    );
  }
}

export class ResultEncodingError extends QueueError {
  override readonly code = 'DQ_RESULT_ENCODING';
  override name = 'ResultEncodingError';
  constructor(
    readonly jobId: string,
    reason: string,
  ) {
    super(
      `job ${jobId} returned a value that cannot be stored (${reason}); ` +
        'return plain data: objects, arrays, Date, Map, Set, BigInt, typed ' +
        'arrays, but no functions, symbols or class instances with methods',
    );
  }
}

/** A call on a queue after `close()`. */
export class QueueClosedError extends QueueError {
  override readonly code = 'DQ_QUEUE_CLOSED';
  override name = 'QueueClosedError';
  constructor(operation: string) {
    super(`${operation}() called on a closed DuckQueue; open a new one`);
  }
}

/**
 * Thrown by a job to fail at once, without retries: the job ends `failed`.
 * For errors that no later attempt can fix (bad input, missing record).
 */
export class PermanentJobError extends QueueError {
  override readonly code = 'DQ_PERMANENT';
  override name = 'PermanentJobError';
}

/** An operation that needs the job in another status. */
export class JobStateError extends QueueError {
  override readonly code = 'DQ_JOB_STATE';
  override name = 'JobStateError';
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
    operation: string,
    allowed: readonly JobStatus[],
  ) {
    super(
      `job ${jobId} is ${status}; ${operation}() applies only to ` +
        `${allowed.join(' or ')} jobs`,
    );
  }
}
