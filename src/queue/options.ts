// Every option of DuckQueue.open and enqueue, each default documented here
// and applied here, plus the checks that turn bad input into an
// InvalidOptionError naming the option, the rule and the value.

import type { PolicyOptions } from '../serialize/policy.js';
import type { SerializationName, Serializer } from '../serialize/types.js';
import type { Store, StoreOptions } from '../store/types.js';
import { InvalidOptionError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { resolveAcceptFormats } from './accept-formats.js';

export interface BackoffOptions {
  /** Delay before the second attempt, in ms. Default 1000. */
  baseMs?: number;
  /** Each later retry waits `factor` times longer. Default 2. */
  factor?: number;
  /** No retry waits longer than this, in ms. Default 3_600_000 (1 h). */
  capMs?: number;
  /**
   * Spread retries so failed jobs do not come back in lockstep: the delay
   * becomes a uniform pick between half and all of itself. Default false,
   * so schedules are exact.
   */
  jitter?: boolean;
}

/** Defaults for jobs that do not set their own. */
export interface JobDefaults {
  /** Default 'default'. */
  queue?: string;
  /** 0..100, higher first. Default 50. */
  priority?: number;
  /** Default 3. */
  maxAttempts?: number;
  /** Per-attempt limit in ms; default none. */
  timeoutMs?: number | null;
}

export interface DuckQueueOptions {
  /**
   * How job functions are turned into bytes: 'auto' (default), 'v8',
   * 'json', 'source', the aliases 'pickle' (v8) and 'cloudpickle'
   * (source), or a Serializer instance.
   */
  serialization?: SerializationName | Serializer;
  /** Passed unchanged to createSerializer. Default {}. */
  serializerOptions?: Record<string, unknown>;
  /**
   * What this queue's serializers agree to write and load (signing,
   * allowed modules, strict mode, limits): see PolicyOptions. Applies to
   * every format the queue loads. Default: the serializer defaults.
   */
  policy?: PolicyOptions;
  /**
   * Payload formats this queue loads; any other row ends `failed` with a
   * PolicyViolationError before its body is decoded. Default: what the
   * serialization can write ('json' → json only; 'v8' → v8, json;
   * 'source' and 'auto' → v8, source, json), so a row planted with a
   * code-carrying format is never run by a queue that does not use one.
   */
  acceptFormats?: string[];
  /**
   * 'sqlite' (default), 'duckdb', 'postgres', or an opened Store. For a
   * Store instance the location is only a label.
   */
  store?: string | Store;
  /** Passed unchanged to the store. Default {}. */
  storeOptions?: StoreOptions;
  /**
   * A claim not finished or extended within this many ms is taken back
   * (its worker is presumed dead) and counts as an attempt. Jobs with a
   * timeoutMs hold their claim that much longer. Running workers extend
   * their claims, so this only bounds how long a dead worker's jobs wait.
   * Default 30_000.
   */
  visibilityTimeoutMs?: number;
  /**
   * claim() also recovers lapsed claims, at most once per this many ms.
   * Default 1000.
   */
  recoverIntervalMs?: number;
  /** Retry schedule after a failed attempt. */
  backoff?: BackoffOptions;
  /**
   * Emit 'backpressure' when a queue's waiting jobs (pending + delayed)
   * reach this count; once per crossing. Default: never.
   */
  warnPendingAt?: number;
  /**
   * Refuse enqueues with QueueFullError that would take a queue's waiting
   * jobs past this count. Default: no limit.
   */
  maxPending?: number;
  /**
   * How often the waiting count behind warnPendingAt/maxPending is read
   * from the store; between reads it is estimated locally, so the limits
   * are approximate when several processes enqueue. Default 1000.
   */
  pendingRefreshMs?: number;
  /** Defaults for enqueue options. */
  jobDefaults?: JobDefaults;
  /** Handed to workers of this queue. The queue itself never logs. */
  logger?: Logger;
  /** Time source in epoch ms. Default Date.now. For tests/simulation. */
  clock?: () => number;
}

export interface ResolvedQueueOptions {
  serialization: SerializationName | Serializer;
  serializerOptions: Record<string, unknown>;
  acceptFormats: readonly string[];
  store: string | Store;
  storeOptions: StoreOptions;
  visibilityTimeoutMs: number;
  recoverIntervalMs: number;
  backoff: Required<BackoffOptions>;
  warnPendingAt: number;
  maxPending: number;
  pendingRefreshMs: number;
  jobDefaults: Required<JobDefaults>;
  logger: Logger;
  clock: () => number;
}

export const QUEUE_DEFAULTS = {
  serialization: 'auto',
  store: 'sqlite',
  visibilityTimeoutMs: 30_000,
  recoverIntervalMs: 1_000,
  backoff: { baseMs: 1_000, factor: 2, capMs: 3_600_000, jitter: false },
  pendingRefreshMs: 1_000,
  jobDefaults: {
    queue: 'default',
    priority: 50,
    maxAttempts: 3,
    timeoutMs: null,
  },
} as const;

const QUEUE_OPTION_NAMES = [
  'serialization',
  'serializerOptions',
  'policy',
  'acceptFormats',
  'store',
  'storeOptions',
  'visibilityTimeoutMs',
  'recoverIntervalMs',
  'backoff',
  'warnPendingAt',
  'maxPending',
  'pendingRefreshMs',
  'jobDefaults',
  'logger',
  'clock',
] as const;

export interface EnqueueOptions {
  /** Arguments the function is called with. Default []. */
  args?: unknown[];
  /** Queue name: letters, digits, '_', '-', '.', ':'. */
  queue?: string;
  /** 0..100, higher runs first. */
  priority?: number;
  /** Wait at least this many ms before the first attempt. Default 0. */
  delayMs?: number;
  /** Attempts before the job is dead. At least 1. */
  maxAttempts?: number;
  /**
   * Per-attempt time limit in ms; null for none. An attempt that has not
   * settled in time fails with JobTimeoutError (and is retried like any
   * failure). Caveat: jobs run in the worker's process, so the timeout
   * frees the worker's slot but cannot stop the job's code; a synchronous
   * infinite loop blocks the worker outright.
   */
  timeoutMs?: number | null;
}

export const ENQUEUE_OPTION_NAMES = [
  'args',
  'queue',
  'priority',
  'delayMs',
  'maxAttempts',
  'timeoutMs',
] as const;

// setTimeout cannot wait longer than this.
const MAX_TIMER_MS = 2 ** 31 - 1;
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export function checkKnownKeys(
  where: string,
  value: unknown,
  known: readonly string[],
): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      where,
      `expected an options object, got ${describe(value)}`,
    );
  }
  for (const key in value) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(
        `${where}.${key}`,
        `unknown option${suggest(key, known)}; valid options are ` +
          known.join(', '),
      );
    }
  }
}

function suggest(key: string, known: readonly string[]): string {
  const lower = key.toLowerCase();
  const near = known.find(
    (k) => k.toLowerCase() === lower || editDistance(k, key) <= 2,
  );
  return near ? ` (did you mean '${near}'?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function checkQueueName(option: string, name: unknown): string {
  if (typeof name !== 'string' || !QUEUE_NAME.test(name)) {
    throw new InvalidOptionError(
      option,
      'a queue name is 1-100 characters: letters, digits, and _ - . : ' +
        `(not first), got ${describe(name)}`,
    );
  }
  return name;
}

export function checkPriority(option: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 100) {
    throw new InvalidOptionError(
      option,
      `priority must be an integer from 0 (lowest) to 100 (highest), ` +
        `got ${describe(value)}`,
    );
  }
  return value as number;
}

export function checkMaxAttempts(option: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) {
    throw new InvalidOptionError(
      option,
      `maxAttempts must be an integer of at least 1 (1 = no retries), ` +
        `got ${describe(value)}`,
    );
  }
  return value as number;
}

export function checkTimeout(option: string, value: unknown): number | null {
  if (value === null) return null;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    value > MAX_TIMER_MS
  ) {
    throw new InvalidOptionError(
      option,
      `timeoutMs must be null (no limit) or milliseconds from 1 to ` +
        `${MAX_TIMER_MS}, got ${describe(value)}`,
    );
  }
  return Math.ceil(value);
}

export function checkBoolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidOptionError(
      option,
      `must be true or false, got ${describe(value)}`,
    );
  }
  return value;
}

/** A whole number within [min, max]. */
export function checkWholeNumber(
  option: string,
  value: unknown,
  min: number,
  max: number,
): number {
  checkNumber(option, value, min, max);
  if (!Number.isInteger(value)) {
    throw new InvalidOptionError(
      option,
      `must be a whole number from ${min} to ${max}, got ${describe(value)}`,
    );
  }
  return value as number;
}

/** A count or duration: a finite number within [min, max]. */
export function checkNumber(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  unit = '',
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max
  ) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidOptionError(
      option,
      `must be a number ${range}${unit ? ` (${unit})` : ''}, ` +
        `got ${describe(value)}`,
    );
  }
  return value;
}

export function resolveQueueOptions(
  options: DuckQueueOptions = {},
): ResolvedQueueOptions {
  checkKnownKeys('DuckQueue.open options', options, QUEUE_OPTION_NAMES);
  const o = options ?? {};
  checkKnownKeys('backoff', o.backoff, ['baseMs', 'factor', 'capMs', 'jitter']);
  checkKnownKeys('jobDefaults', o.jobDefaults, [
    'queue',
    'priority',
    'maxAttempts',
    'timeoutMs',
  ]);
  const b = { ...QUEUE_DEFAULTS.backoff, ...o.backoff };
  const d = { ...QUEUE_DEFAULTS.jobDefaults, ...o.jobDefaults };
  const serialization = o.serialization ?? QUEUE_DEFAULTS.serialization;
  if (
    typeof serialization !== 'string' &&
    (typeof serialization !== 'object' ||
      serialization === null ||
      typeof serialization.serialize !== 'function')
  ) {
    throw new InvalidOptionError(
      'serialization',
      `expected a serializer name ('auto', 'v8', 'json', 'source') or a ` +
        `Serializer, got ${describe(serialization)}`,
    );
  }
  const store = o.store ?? QUEUE_DEFAULTS.store;
  if (
    typeof store !== 'string' &&
    (typeof store !== 'object' || store === null)
  ) {
    throw new InvalidOptionError(
      'store',
      "expected 'sqlite', 'duckdb', 'postgres' or a Store, got " +
        describe(store),
    );
  }
  const clock = o.clock ?? Date.now;
  if (typeof clock !== 'function') {
    throw new InvalidOptionError(
      'clock',
      `expected a function returning epoch ms, got ${describe(clock)}`,
    );
  }
  checkBoolean('backoff.jitter', b.jitter);
  const warn = o.warnPendingAt ?? Infinity;
  const max = o.maxPending ?? Infinity;
  if (o.warnPendingAt !== undefined) checkNumber('warnPendingAt', warn, 1);
  if (o.maxPending !== undefined) checkNumber('maxPending', max, 1);
  return {
    serialization,
    serializerOptions: withPolicy(o, serialization),
    acceptFormats: resolveAcceptFormats(o.acceptFormats, serialization),
    store,
    storeOptions: o.storeOptions ?? {},
    visibilityTimeoutMs: checkNumber(
      'visibilityTimeoutMs',
      o.visibilityTimeoutMs ?? QUEUE_DEFAULTS.visibilityTimeoutMs,
      1,
      MAX_TIMER_MS,
      'ms',
    ),
    recoverIntervalMs: checkNumber(
      'recoverIntervalMs',
      o.recoverIntervalMs ?? QUEUE_DEFAULTS.recoverIntervalMs,
      0,
      MAX_TIMER_MS,
      'ms',
    ),
    backoff: {
      baseMs: checkNumber('backoff.baseMs', b.baseMs, 0, MAX_TIMER_MS, 'ms'),
      factor: checkNumber('backoff.factor', b.factor, 1, 1000),
      capMs: checkNumber('backoff.capMs', b.capMs, 0, Number.MAX_SAFE_INTEGER, 'ms'),
      jitter: b.jitter,
    },
    warnPendingAt: warn,
    maxPending: max,
    pendingRefreshMs: checkNumber(
      'pendingRefreshMs',
      o.pendingRefreshMs ?? QUEUE_DEFAULTS.pendingRefreshMs,
      0,
      MAX_TIMER_MS,
      'ms',
    ),
    jobDefaults: {
      queue: checkQueueName('jobDefaults.queue', d.queue),
      priority: checkPriority('jobDefaults.priority', d.priority),
      maxAttempts: checkMaxAttempts('jobDefaults.maxAttempts', d.maxAttempts),
      timeoutMs: checkTimeout('jobDefaults.timeoutMs', d.timeoutMs),
    },
    logger: o.logger ?? silentLogger,
    clock,
  };
}

/** A job's options with defaults applied, ready for the store. */
export interface ResolvedJob {
  args: unknown[];
  queue: string;
  priority: number;
  delayMs: number;
  maxAttempts: number;
  timeoutMs: number | null;
}

/**
 * Validate one enqueue call. `where` names it in messages, e.g.
 * 'enqueue' or 'enqueueBatch[3]'.
 */
export function resolveJob(
  where: string,
  fn: unknown,
  options: EnqueueOptions | undefined,
  defaults: Required<JobDefaults>,
): ResolvedJob {
  if (typeof fn !== 'function') {
    throw new InvalidOptionError(
      `${where} fn`,
      `expected the job function, got ${describe(fn)}`,
    );
  }
  checkKnownKeys(`${where} options`, options, ENQUEUE_OPTION_NAMES);
  const o = options ?? {};
  const args = o.args ?? [];
  if (!Array.isArray(args)) {
    throw new InvalidOptionError(
      `${where} options.args`,
      `expected an array of arguments, got ${describe(args)}`,
    );
  }
  return {
    args,
    queue:
      o.queue === undefined
        ? defaults.queue
        : checkQueueName(`${where} options.queue`, o.queue),
    priority:
      o.priority === undefined
        ? defaults.priority
        : checkPriority(`${where} options.priority`, o.priority),
    delayMs:
      o.delayMs === undefined || o.delayMs === 0
        ? 0
        : checkNumber(
            `${where} options.delayMs`,
            o.delayMs,
            0,
            Number.MAX_SAFE_INTEGER,
            'ms, not negative',
          ),
    maxAttempts:
      o.maxAttempts === undefined
        ? defaults.maxAttempts
        : checkMaxAttempts(`${where} options.maxAttempts`, o.maxAttempts),
    timeoutMs:
      o.timeoutMs === undefined
        ? defaults.timeoutMs
        : checkTimeout(`${where} options.timeoutMs`, o.timeoutMs),
  };
}

/** Delay before the next attempt after `attempts` attempts have failed. */
export function backoffDelay(
  backoff: Required<BackoffOptions>,
  attempts: number,
  random: () => number = Math.random,
): number {
  const exact = Math.min(
    backoff.capMs,
    backoff.baseMs * backoff.factor ** Math.max(0, attempts - 1),
  );
  if (!backoff.jitter) return Math.round(exact);
  return Math.round(exact / 2 + random() * (exact / 2));
}

/** serializerOptions with the queue-level `policy` folded in. */
function withPolicy(
  o: DuckQueueOptions,
  serialization: SerializationName | Serializer,
): Record<string, unknown> {
  const base = o.serializerOptions ?? {};
  if (o.policy === undefined) return base;
  if (typeof serialization !== 'string') {
    throw new InvalidOptionError(
      'policy',
      'a Serializer instance carries its own policy; create it with ' +
        'createSerializer(name, { policy }) instead of passing both',
    );
  }
  if (base.policy !== undefined) {
    throw new InvalidOptionError(
      'policy',
      'given both as an option and in serializerOptions; keep one',
    );
  }
  return { ...base, policy: o.policy };
}
