// Every option of DuckQueue.open and enqueue, each default documented here
// and applied here, plus the checks that turn bad input into an
// InvalidOptionError naming the option, the rule and the value.
//
// Times are whole milliseconds and counts whole numbers everywhere: the
// stores keep integers, so a fraction is refused, not rounded. Timers are
// capped at 2^31-1 ms, the longest a Node timer can wait.

import type { PolicyOptions } from '../serialize/policy.js';
import type { SerializationName, Serializer } from '../serialize/types.js';
import type { Store, StoreOptions } from '../store/types.js';
import { InvalidOptionError } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { resolveAcceptFormats } from './accept-formats.js';
import { SERIALIZER_OPTION_NAMES } from '../serialize/options.js';
import { registeredSerializerNames } from '../serialize/index.js';

export interface BackoffOptions {
  /** Delay before the second attempt, in ms. Default 1000. */
  baseMs?: number;
  /**
   * Each later retry waits `factor` times longer: 1 (a fixed delay) to
   * MAX_BACKOFF_FACTOR (10). Default 2.
   */
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
  /** 1..1_000_000. Default 3. */
  maxAttempts?: number;
  /** Per-attempt limit in whole ms (see EnqueueOptions); default none. */
  timeoutMs?: number | null;
}

export interface DuckQueueOptions {
  /**
   * How job functions are turned into bytes: 'auto' (default), 'v8',
   * 'json', 'source', the aliases 'pickle' (v8) and 'cloudpickle'
   * (source), or a Serializer instance.
   */
  serialization?: SerializationName | Serializer;
  /**
   * Passed to createSerializer: root, slowSerializationMs, policy (see
   * SerializerOptions); other keys are refused. Default {}.
   */
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
  /**
   * Passed to the named store; each store refuses keys it does not know
   * (see SqliteStoreOptions, DuckDBStoreOptions, PostgresStoreOptions).
   * Not allowed with a Store instance. Default {}.
   */
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
   * reach this count (a whole number); once per crossing. Default: never.
   */
  warnPendingAt?: number;
  /**
   * Refuse enqueues with QueueFullError that would take a queue's waiting
   * jobs past this count (a whole number). Default: no limit.
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
  /**
   * Handed to workers of this queue: an object with debug, info, warn and
   * error methods (console fits). The queue itself never logs.
   */
  logger?: Logger;
  /**
   * Time source in whole epoch ms (its first value is checked when the
   * queue opens). Default Date.now. For tests/simulation.
   */
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
  /**
   * Wait at least this many ms before the first attempt: whole ms, at
   * most MAX_DELAY_MS (about 100 years). Default 0.
   */
  delayMs?: number;
  /** Attempts before the job is dead: 1 to MAX_ATTEMPTS (1_000_000). */
  maxAttempts?: number;
  /**
   * Per-attempt time limit in whole ms, at most 2^31-1 (the longest a
   * Node timer waits); null for none. An attempt that has not
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

/** The longest wait a Node timer supports; longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * The longest delayMs and backoff.capMs: about 100 years. run_at stays a
 * safe integer, which every store can hold exactly.
 */
export const MAX_DELAY_MS = 3_155_760_000_000;
/** Upper bound of maxAttempts: far past any sensible retry budget. */
export const MAX_ATTEMPTS = 1_000_000;
/**
 * Upper bound of backoff.factor. Past 10 the delay reaches capMs within a
 * few retries, so the cap, not the factor, sets the schedule.
 */
export const MAX_BACKOFF_FACTOR = 10;
/**
 * Most jobs one claimMany() takes: one transaction that holds the write
 * lock and every payload in memory. A Worker claims at most concurrency
 * plus prefetch (20_000) at once.
 */
export const MAX_CLAIM_BATCH = 100_000;
const TIMER_NOTE = 'ms; a Node timer cannot wait longer';
const QUEUE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

export function checkKnownKeys(
  where: string,
  value: unknown,
  known: readonly string[],
  kind = 'option',
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
        `unknown ${kind}${suggest(key, known)}; valid options are ` +
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
  if (
    !Number.isInteger(value) ||
    (value as number) < 1 ||
    (value as number) > MAX_ATTEMPTS
  ) {
    throw new InvalidOptionError(
      option,
      `maxAttempts must be an integer of at least 1 (1 = no retries) and ` +
        `at most ${MAX_ATTEMPTS}, got ${describe(value)}`,
    );
  }
  return value as number;
}

export function checkTimeout(option: string, value: unknown): number | null {
  if (value === null) return null;
  if (!isTimerMs(value)) {
    throw new InvalidOptionError(
      option,
      `timeoutMs must be null (no limit) or milliseconds from 1 to ` +
        `${MAX_TIMER_MS} (${TIMER_NOTE}), a whole number, ` +
        `got ${describe(value)}${roundingHint(value, 0, MAX_TIMER_MS)}`,
    );
  }
  return value as number;
}

/**
 * True for whole milliseconds a timer can wait: 1 to MAX_TIMER_MS. Also
 * checks timeouts read back from a row, which anyone can write.
 */
export function isTimerMs(value: unknown): value is number {
  return (
    Number.isInteger(value) &&
    (value as number) >= 1 &&
    (value as number) <= MAX_TIMER_MS
  );
}

/**
 * Whole milliseconds within [min, max]. Every time the stores keep is a
 * whole number of ms, so a fraction is refused rather than rounded.
 */
export function checkMs(
  option: string,
  value: unknown,
  min: number,
  max: number,
): number {
  const unit =
    max === MAX_TIMER_MS
      ? TIMER_NOTE
      : max === MAX_DELAY_MS
        ? 'ms, about 100 years'
        : 'ms';
  checkNumber(option, value, min, max, unit);
  if (!Number.isInteger(value)) {
    throw new InvalidOptionError(
      option,
      `must be whole milliseconds from ${min} to ${max}, ` +
        `got ${describe(value)}${roundingHint(value, min, max)}`,
    );
  }
  return value as number;
}

/** The fix for a fraction between `min` and `max`; '' for other values. */
function roundingHint(value: unknown, min: number, max: number): string {
  return typeof value === 'number' &&
    !Number.isInteger(value) &&
    value > min &&
    value < max
    ? '; round it, e.g. Math.ceil(ms)'
    : '';
}

/**
 * The job count claimMany() may take: a whole number from 1 to
 * MAX_CLAIM_BATCH.
 */
export function checkClaimMax(option: string, value: unknown): number {
  if (
    !Number.isInteger(value) ||
    (value as number) < 1 ||
    (value as number) > MAX_CLAIM_BATCH
  ) {
    throw new InvalidOptionError(
      option,
      `expected a whole number of jobs from 1 to ${MAX_CLAIM_BATCH}, got ` +
        `${describe(value)}; claim larger backlogs in several calls`,
    );
  }
  return value as number;
}

const LOGGER_METHODS = ['debug', 'info', 'warn', 'error'] as const;

/** An object with the four methods the worker and the CLI call. */
export function checkLogger(option: string, value: unknown): Logger {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError(
      option,
      'expected an object with debug, info, warn and error methods ' +
        `(console, pino and winston loggers fit), got ${describe(value)}`,
    );
  }
  const logger = value as Record<string, unknown>;
  const missing = LOGGER_METHODS.filter(
    (m) => typeof logger[m] !== 'function',
  );
  if (missing.length > 0) {
    throw new InvalidOptionError(
      option,
      `the logger has no ${missing.join(', ')} method` +
        `${missing.length > 1 ? 's' : ''}; give an object with debug, info, ` +
        'warn and error methods (console works)',
    );
  }
  return value as Logger;
}

/**
 * The entries of an options object that are not undefined: an explicit
 * `undefined` (what conditional spreads produce) means "not given", so it
 * must not override a default.
 */
export function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
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
      `must be a whole number ${rangeText(min, max)}, got ${describe(value)}`,
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
    throw new InvalidOptionError(
      option,
      `must be a number ${rangeText(min, max)}${unit ? ` (${unit})` : ''}, ` +
        `got ${describe(value)}`,
    );
  }
  return value;
}

function rangeText(min: number, max: number): string {
  return max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
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
  checkKnownKeys(
    'serializerOptions',
    o.serializerOptions,
    SERIALIZER_OPTION_NAMES,
  );
  const b = { ...QUEUE_DEFAULTS.backoff, ...definedOnly(o.backoff) };
  const d = { ...QUEUE_DEFAULTS.jobDefaults, ...definedOnly(o.jobDefaults) };
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
  const storeOptions = o.storeOptions ?? {};
  if (typeof storeOptions !== 'object' || storeOptions === null) {
    throw new InvalidOptionError(
      'storeOptions',
      `expected an options object, got ${describe(storeOptions)}`,
    );
  }
  if (
    typeof store !== 'string' &&
    Object.keys(definedOnly(storeOptions)).length > 0
  ) {
    throw new InvalidOptionError(
      'storeOptions',
      'apply only when store is a name; an opened Store already has its ' +
        "options: pass them to the store's openStore() instead",
    );
  }
  const clock = checkClock(o.clock ?? Date.now);
  checkBoolean('backoff.jitter', b.jitter);
  return {
    serialization,
    serializerOptions: withPolicy(o, serialization),
    acceptFormats: resolveAcceptFormats(
      checkFormatNames(o.acceptFormats, serialization),
      serialization,
    ),
    store,
    storeOptions,
    visibilityTimeoutMs: checkMs(
      'visibilityTimeoutMs',
      o.visibilityTimeoutMs ?? QUEUE_DEFAULTS.visibilityTimeoutMs,
      1,
      MAX_TIMER_MS,
    ),
    recoverIntervalMs: checkMs(
      'recoverIntervalMs',
      o.recoverIntervalMs ?? QUEUE_DEFAULTS.recoverIntervalMs,
      0,
      MAX_TIMER_MS,
    ),
    backoff: {
      baseMs: checkMs('backoff.baseMs', b.baseMs, 0, MAX_TIMER_MS),
      factor: checkNumber(
        'backoff.factor',
        b.factor,
        1,
        MAX_BACKOFF_FACTOR,
        'each retry waits this many times longer; capMs bounds the delay',
      ),
      capMs: checkMs('backoff.capMs', b.capMs, 0, MAX_DELAY_MS),
      jitter: b.jitter,
    },
    // Counts of jobs: whole numbers; unset means no threshold.
    warnPendingAt:
      o.warnPendingAt === undefined
        ? Infinity
        : checkWholeNumber(
            'warnPendingAt',
            o.warnPendingAt,
            1,
            Number.MAX_SAFE_INTEGER,
          ),
    maxPending:
      o.maxPending === undefined
        ? Infinity
        : checkWholeNumber(
            'maxPending',
            o.maxPending,
            1,
            Number.MAX_SAFE_INTEGER,
          ),
    pendingRefreshMs: checkMs(
      'pendingRefreshMs',
      o.pendingRefreshMs ?? QUEUE_DEFAULTS.pendingRefreshMs,
      0,
      MAX_TIMER_MS,
    ),
    jobDefaults: {
      queue: checkQueueName('jobDefaults.queue', d.queue),
      priority: checkPriority('jobDefaults.priority', d.priority),
      maxAttempts: checkMaxAttempts('jobDefaults.maxAttempts', d.maxAttempts),
      timeoutMs: checkTimeout('jobDefaults.timeoutMs', d.timeoutMs),
    },
    logger:
      o.logger === undefined ? silentLogger : checkLogger('logger', o.logger),
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
  // A class cannot be called without `new`: every run would fail.
  if (/^class\b/.test(Function.prototype.toString.call(fn))) {
    const name = fn.name || '(anonymous)';
    throw new InvalidOptionError(
      `${where} fn`,
      `expected the job function, got class ${name}, which cannot be ` +
        'called without new; enqueue a function that uses it instead, ' +
        `e.g. () => new ${fn.name || 'TheClass'}().run()`,
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
        : checkMs(`${where} options.delayMs`, o.delayMs, 0, MAX_DELAY_MS),
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

/**
 * Delay before the next attempt after `attempts` attempts have failed:
 * whole ms from 0 to capMs (and never past MAX_DELAY_MS), for any input.
 * baseMs * factor ** n overflows to Infinity after a few hundred attempts
 * (and 0 * Infinity is NaN), so the cap is applied before that can reach
 * a run_at.
 */
export function backoffDelay(
  backoff: Required<BackoffOptions>,
  attempts: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(finiteOr(backoff.capMs, 0), MAX_DELAY_MS);
  const base = finiteOr(backoff.baseMs, 0);
  const steps = Number.isFinite(attempts) ? Math.max(0, attempts - 1) : 0;
  const growth = backoff.factor ** steps;
  const exact =
    base <= 0 ? 0 : Number.isFinite(growth) ? base * growth : Infinity;
  const capped = Math.max(0, Math.min(cap, exact));
  if (!backoff.jitter) return Math.round(capped);
  const pick = random();
  const share = Number.isFinite(pick) ? Math.min(1, Math.max(0, pick)) : 1;
  return Math.round(capped / 2 + share * (capped / 2));
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

/**
 * The clock's first reading must be whole epoch ms: every time the stores
 * keep is one, and NaN would only fail later, inside a store statement.
 */
function checkClock(clock: unknown): () => number {
  if (typeof clock !== 'function') {
    throw new InvalidOptionError(
      'clock',
      `expected a function returning epoch ms, got ${describe(clock)}`,
    );
  }
  let first: unknown;
  try {
    first = clock();
  } catch (err) {
    throw new InvalidOptionError(
      'clock',
      `threw when read (${err instanceof Error ? err.message : String(err)}); ` +
        'give a function returning epoch ms, such as Date.now',
    );
  }
  if (
    typeof first !== 'number' ||
    !Number.isSafeInteger(first) ||
    first < 0
  ) {
    throw new InvalidOptionError(
      'clock',
      `returned ${describe(first)}, but it must return whole epoch ms (an ` +
        'integer >= 0, like Date.now()); wrap it in Math.floor() if it ' +
        'returns fractions',
    );
  }
  return clock as () => number;
}

/**
 * acceptFormats names payload formats, as rows carry them: 'v8', 'json',
 * 'source', or a custom serializer's name. Names that no payload carries
 * ('auto', an alias, a typo) would refuse every row, so they are refused
 * here. Shape errors are left to resolveAcceptFormats.
 */
function checkFormatNames(
  given: unknown,
  serialization: SerializationName | Serializer,
): unknown {
  if (!Array.isArray(given)) return given;
  const known = new Set(
    registeredSerializerNames().filter(
      (n) => n !== 'auto' && !(n in FORMAT_ALIASES),
    ),
  );
  if (typeof serialization !== 'string' && serialization.name !== 'auto') {
    known.add(serialization.name);
  }
  for (let i = 0; i < given.length; i++) {
    if (!(i in given)) {
      throw new InvalidOptionError(
        `acceptFormats[${i}]`,
        'is a hole in a sparse array; list format names only',
      );
    }
    const name: unknown = given[i];
    if (typeof name !== 'string' || known.has(name)) continue;
    const hint =
      name === 'auto'
        ? " 'auto' is not a format: its payloads are 'v8', 'source' or " +
          "'json', so list those it should load"
        : name in FORMAT_ALIASES
          ? ` '${name}' payloads are stored as '${FORMAT_ALIASES[name]}'; ` +
            'list that'
          : '';
    throw new InvalidOptionError(
      `acceptFormats[${i}]`,
      `${describe(name)} is not a payload format; known formats are ` +
        `${[...known].map((f) => `'${f}'`).join(', ')}.${hint}`,
    );
  }
  return given;
}

/** Serializer aliases and the format their payloads carry. */
const FORMAT_ALIASES: Record<string, string> = {
  pickle: 'v8',
  cloudpickle: 'source',
};

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
