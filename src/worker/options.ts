// Worker options, their defaults, and the checks on them.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../queue/errors.js';
import type { Logger } from '../queue/logger.js';
import {
  checkBoolean,
  checkKnownKeys,
  checkLogger,
  checkMs,
  checkWholeNumber,
  checkQueueName,
  describe,
  MAX_TIMER_MS,
} from '../queue/options.js';
import {
  ISOLATION_OPTION_NAMES,
  resolveIsolation,
  type IsolationOptions,
  type ResolvedIsolation,
} from './isolation/options.js';

/**
 * Isolation options (isolation, memoryLimitMb, sandbox, preload) are
 * documented in ./isolation/options.ts.
 */
export interface WorkerOptions extends IsolationOptions {
  /** Jobs run at the same time (async functions overlap). Default 1. */
  concurrency?: number;
  /**
   * Queues to take jobs from: a name, a list (equal weights), or weights
   * like `{ high: 3, low: 1 }` (three claims from high for each from
   * low while both have work; an empty queue's turn goes to the others).
   * Weights are whole numbers from 1 to 1000.
   * Default: the queue's default queue name.
   */
  queues?: string | string[] | Record<string, number>;
  /**
   * Most jobs claimed ahead of free slots. The worker claims ahead only
   * while whole batches finish within 20 ms (short jobs, where one
   * transaction per job would cost more than the jobs), and stops as soon
   * as one does not. Jobs claimed ahead are released on stop; if the
   * process is killed they count an attempt when their claim is
   * recovered. 0 claims only what can start at once. Default 32.
   */
  prefetch?: number;
  /**
   * Wait between polls when every queue is empty, in whole ms, at most
   * 60_000. Default 200.
   */
  pollMs?: number;
  /** Shown as claimedBy and in logs. Default host:pid:random. */
  workerId?: string;
  /**
   * After stop(), running jobs get this long to finish; the ones still
   * running then are released back to pending. Default 10_000.
   */
  graceMs?: number;
  /** Stop gracefully on SIGTERM and SIGINT (a second signal: at once). */
  handleSignals?: boolean;
  /**
   * An object with debug, info, warn and error methods (console fits).
   * Default: the DuckQueue's logger (silent unless given).
   */
  logger?: Logger;
  /**
   * How often running jobs' claims are extended, in whole ms; shorter
   * than the queue's visibilityTimeoutMs, or claims lapse between beats.
   * Default a third of the queue's visibilityTimeoutMs.
   */
  heartbeatMs?: number;
}

export interface ResolvedWorkerOptions {
  concurrency: number;
  prefetch: number;
  weights: Map<string, number>;
  pollMs: number;
  workerId: string;
  graceMs: number;
  handleSignals: boolean;
  logger: Logger;
  heartbeatMs: number;
  isolation: ResolvedIsolation;
}

export const WORKER_DEFAULTS = {
  concurrency: 1,
  prefetch: 32,
  pollMs: 200,
  graceMs: 10_000,
  handleSignals: false,
} as const;

const WORKER_OPTION_NAMES = [
  'concurrency',
  'prefetch',
  'queues',
  'pollMs',
  'workerId',
  'graceMs',
  'handleSignals',
  'logger',
  'heartbeatMs',
  ...ISOLATION_OPTION_NAMES,
] as const;

/**
 * Largest queue weight. Weights are summed and compared per claim; far
 * beyond this the sums lose precision and equal weights stop sharing
 * evenly. A ratio of 1000:1 already means "almost only this queue".
 */
export const MAX_QUEUE_WEIGHT = 1_000;

/**
 * The DuckQueue a Worker serves: checked before its options are read, so
 * `new Worker(undefined)` names the problem instead of failing on a
 * property read.
 */
export function checkWorkerQueue(queue: unknown): void {
  const options = (queue as { options?: unknown } | null)
    ?.options;
  if (
    typeof queue !== 'object' ||
    queue === null ||
    typeof options !== 'object' ||
    options === null ||
    typeof (queue as { claimMany?: unknown }).claimMany !== 'function'
  ) {
    throw new InvalidOptionError(
      'Worker queue',
      `expected an open DuckQueue (from DuckQueue.open()), got ${describe(queue)}`,
    );
  }
}

export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export function resolveWorkerOptions(
  options: WorkerOptions | undefined,
  queueDefaults: {
    queue: string;
    logger: Logger;
    visibilityTimeoutMs: number;
  },
): ResolvedWorkerOptions {
  checkKnownKeys('Worker options', options, WORKER_OPTION_NAMES);
  const o = options ?? {};
  const d = WORKER_DEFAULTS;
  const workerId = o.workerId ?? defaultWorkerId();
  if (typeof workerId !== 'string' || workerId === '') {
    throw new InvalidOptionError(
      'workerId',
      `expected a non-empty string, got ${describe(workerId)}`,
    );
  }
  const heartbeatMs =
    o.heartbeatMs === undefined
      ? Math.max(1, Math.floor(queueDefaults.visibilityTimeoutMs / 3))
      : checkHeartbeat(o.heartbeatMs, queueDefaults.visibilityTimeoutMs);
  return {
    concurrency: checkWholeNumber(
      'concurrency',
      o.concurrency ?? d.concurrency,
      1,
      10_000,
    ),
    prefetch: checkWholeNumber('prefetch', o.prefetch ?? d.prefetch, 0, 10_000),
    weights: resolveWeights(o.queues ?? queueDefaults.queue),
    pollMs: checkMs('pollMs', o.pollMs ?? d.pollMs, 1, 60_000),
    workerId,
    graceMs: checkMs('graceMs', o.graceMs ?? d.graceMs, 0, MAX_TIMER_MS),
    handleSignals: checkBoolean(
      'handleSignals',
      o.handleSignals ?? d.handleSignals,
    ),
    logger:
      o.logger === undefined
        ? queueDefaults.logger
        : checkLogger('logger', o.logger),
    heartbeatMs,
    isolation: resolveWorkerIsolation(o),
  };
}

function checkHeartbeat(value: unknown, visibilityTimeoutMs: number): number {
  const ms = checkMs('heartbeatMs', value, 1, MAX_TIMER_MS);
  if (ms >= visibilityTimeoutMs) {
    throw new InvalidOptionError(
      'heartbeatMs',
      `${ms} is not shorter than the queue's visibilityTimeoutMs ` +
        `(${visibilityTimeoutMs}), so running jobs' claims would lapse ` +
        'between heartbeats and be taken back; leave heartbeatMs unset (a ' +
        'third of visibilityTimeoutMs) or lower it',
    );
  }
  return ms;
}

function resolveWorkerIsolation(o: WorkerOptions): ResolvedIsolation {
  const isolation = resolveIsolation(o);
  // With isolation 'none' jobs share the worker's heap: there is no
  // isolate whose memory could be limited.
  if (isolation.mode === 'none' && isolation.memoryLimitMb !== null) {
    throw new InvalidOptionError(
      'memoryLimitMb',
      `${isolation.memoryLimitMb} has no effect with isolation 'none' (jobs ` +
        "share the worker's heap); set isolation 'thread' or 'process' to " +
        'limit job memory, or drop memoryLimitMb',
    );
  }
  return isolation;
}

function resolveWeights(
  queues: string | string[] | Record<string, number>,
): Map<string, number> {
  const weights = new Map<string, number>();
  if (typeof queues === 'string') {
    weights.set(checkQueueName('queues', queues), 1);
  } else if (Array.isArray(queues)) {
    queues.forEach((q, i) => weights.set(checkQueueName(`queues[${i}]`, q), 1));
  } else if (typeof queues === 'object' && queues !== null) {
    for (const [q, w] of Object.entries(queues)) {
      checkQueueName(`queues.${q}`, q);
      if (!Number.isInteger(w) || w < 1 || w > MAX_QUEUE_WEIGHT) {
        throw new InvalidOptionError(
          `queues.${q}`,
          `a queue weight is a whole number from 1 to ${MAX_QUEUE_WEIGHT} ` +
            `(only the ratio between weights counts), got ${describe(w)}`,
        );
      }
      weights.set(q, w);
    }
  } else {
    throw new InvalidOptionError(
      'queues',
      'expected a queue name, a list of names or { name: weight }, got ' +
        describe(queues),
    );
  }
  if (weights.size === 0) {
    throw new InvalidOptionError('queues', 'name at least one queue to take jobs from');
  }
  return weights;
}
