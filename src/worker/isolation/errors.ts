// Errors a job gets when its isolate (thread or child process) ends under
// it. Each has a stable `code`; the timeout case reuses JobTimeoutError.

import { QueueError } from '../../queue/errors.js';
import type { IsolationMode } from './options.js';

/** The job used more heap than the isolate's memoryLimitMb. */
export class IsolateMemoryError extends QueueError {
  override readonly code = 'DQ_ISOLATE_MEMORY';
  override name = 'IsolateMemoryError';
  constructor(
    readonly jobId: string,
    readonly mode: IsolationMode,
    readonly memoryLimitMb: number | null,
  ) {
    const limit =
      memoryLimitMb === null
        ? "V8's default heap limit"
        : `memoryLimitMb ${memoryLimitMb}`;
    super(
      `job ${jobId} ran out of memory in its ${mode} isolate (${limit}); ` +
        'the isolate was stopped and replaced. Raise memoryLimitMb or make ' +
        'the job hold less data at once',
    );
  }
}

/** The job ended its isolate: process.exit(), or the isolate died. */
export class IsolateExitError extends QueueError {
  override readonly code = 'DQ_ISOLATE_EXIT';
  override name = 'IsolateExitError';
  constructor(
    readonly jobId: string,
    readonly mode: IsolationMode,
    readonly exitCode: number | null,
    readonly signal: string | null,
    detail = '',
  ) {
    const how =
      signal !== null
        ? `was killed by ${signal}`
        : `exited with code ${exitCode} (process.exit() in the job?)`;
    super(
      `job ${jobId}: its ${mode} isolate ${how} before the job settled; ` +
        'the isolate was replaced. A job must return or throw, not exit' +
        (detail ? `. Last output: ${detail}` : ''),
    );
  }
}

/**
 * The job threw outside its own promise chain: in a timer or callback,
 * or a promise rejection nobody handled. `cause` is what was thrown.
 */
export class IsolateCrashError extends QueueError {
  override readonly code = 'DQ_ISOLATE_CRASH';
  override name = 'IsolateCrashError';
  constructor(
    readonly jobId: string,
    readonly mode: IsolationMode,
    cause: unknown,
  ) {
    super(
      `job ${jobId} threw asynchronously (an uncaught exception in a ` +
        'callback or an unhandled promise rejection): ' +
        `${describeThrown(cause)}; its ${mode} isolate was replaced. ` +
        'Await the work the job starts, or catch inside the callback',
      { cause },
    );
  }
}

/** An isolate could not start (bad preload module, missing loader...). */
export class IsolateStartError extends QueueError {
  override readonly code = 'DQ_ISOLATE_START';
  override name = 'IsolateStartError';
  constructor(
    readonly mode: IsolationMode,
    reason: string,
  ) {
    super(
      `a ${mode} isolate failed to start: ${reason}. Check the worker's ` +
        'preload modules and sandbox read paths',
    );
  }
}

function describeThrown(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
