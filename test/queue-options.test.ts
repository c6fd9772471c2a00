// DuckQueue.open, enqueue and claimMany options at their edges: loggers
// without the methods the worker calls, unknown store and serializer keys,
// fractions where the stores keep whole numbers, numbers past what a timer
// or a retry budget can mean, and explicit undefined in nested options.
// Every bad value must end in an InvalidOptionError naming the option and
// the value, before anything is written; real SQLite and DuckDB files.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DuckQueue, InvalidOptionError } from '../src/index.js';
import type { DuckQueueOptions } from '../src/queue/options.js';
import { QUEUE_DEFAULTS } from '../src/queue/options.js';
import { registerTask } from '../src/serialize/index.js';
import { openStore } from '../src/store/sqlite.js';
import { expectOptionError } from './helpers/option-errors.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

function noop(): void {}
registerTask('queue-options.noop', noop);

let dir: string;
let q: DuckQueue;

beforeEach(async () => {
  dir = tempDir('dq-queue-options-');
  q = await DuckQueue.open(join(dir, 'jobs.db'), { serialization: 'json' });
});
afterEach(() => q.close());
afterAll(removeTempDirs);

/**
 * The error DuckQueue.open throws, or null when it opened (the queue is
 * closed again at once).
 */
async function openError(
  options: DuckQueueOptions,
  location = join(dir, 'other.db'),
): Promise<Error | null> {
  try {
    const opened = await DuckQueue.open(location, {
      serialization: 'json',
      ...options,
    });
    await opened.close();
    return null;
  } catch (err) {
    return err as Error;
  }
}


describe('logger', () => {
  const warnOnly = { debug() {}, info() {}, error() {} };
  it.each([
    ['a number', 5, /expected an object with debug, info, warn and error .*got 5/],
    ['a function', console.log, /expected an object with .*got function/],
    ['null', null, /got null/],
    ['an empty object', {}, /has no debug, info, warn, error methods/],
    ['an object without warn', warnOnly, /has no warn method; give an object/],
  ])('refuses %s', async (_, logger, message) => {
    const err = await openError({ logger: logger as never });
    expectOptionError(err, 'logger', message);
  });

  it('takes console and loggers with more methods than these four', async () => {
    expect(await openError({ logger: console })).toBeNull();
    const pinoLike = { ...console, fatal() {}, child() {} };
    expect(await openError({ logger: pinoLike })).toBeNull();
  });
});

describe('storeOptions and serializerOptions keys', () => {
  it('names an unknown serializer option and the one it resembles', async () => {
    const err = await openError({ serializerOptions: { rot: dir } });
    expectOptionError(
      err,
      'serializerOptions.rot',
      /unknown option \(did you mean 'root'\?\); valid options are root, slowSerializationMs, policy/,
    );
  });

  it('names an unknown SQLite store option and lists the valid ones', async () => {
    const err = await openError({ storeOptions: { busyTimeout: 5 } as never });
    expectOptionError(
      err,
      'storeOptions.busyTimeout',
      /unknown sqlite store option \(did you mean 'busyTimeoutMs'\?\); valid options are busyTimeoutMs, migrations$/,
    );
  });

  it('names an unknown DuckDB store option before opening the file', async () => {
    const err = await openError(
      { store: 'duckdb', storeOptions: { existingOnyl: true } as never },
      join(dir, 'jobs.duckdb'),
    );
    expectOptionError(
      err,
      'storeOptions.existingOnyl',
      /unknown duckdb store option \(did you mean 'existingOnly'\?\); valid options are busyTimeoutMs, migrations, duckdb, existingOnly$/,
    );
  });

  it('names an unknown PostgreSQL store option without connecting', async () => {
    // Port 1 has no server: the option is refused before any connection.
    const err = await openError(
      { store: 'postgres', storeOptions: { shema: 'jobs' } as never },
      'postgres://u@127.0.0.1:1/db',
    );
    expectOptionError(
      err,
      'storeOptions.shema',
      /unknown postgres store option \(did you mean 'schema'\?\); valid options are connectionString, schema, /,
    );
  });

  it.each([
    ['busyTimeoutMs', { busyTimeoutMs: 'soon' }, /must be a number from 0 to 2147483647/],
    ['busyTimeoutMs', { busyTimeoutMs: 2.5 }, /must be whole milliseconds/],
    ['migrations', { migrations: 'dag' }, /expected an array of \{ name, sql \}, got "dag"/],
  ])('refuses a wrongly typed SQLite %s', async (option, storeOptions, message) => {
    const err = await openError({ storeOptions: storeOptions as never });
    expectOptionError(err, `storeOptions.${option}`, message);
  });

  it('refuses storeOptions next to an opened Store, which would ignore them', async () => {
    const store = await openStore(join(dir, 'mine.db'));
    try {
      const err = await openError({ store, storeOptions: { busyTimeoutMs: 1 } });
      expectOptionError(err, 'storeOptions', /apply only when store is a name/);
    } finally {
      await store.close();
    }
  });

  it('opens with the options each store documents', async () => {
    expect(await openError({ storeOptions: { busyTimeoutMs: 5_000 } })).toBeNull();
    expect(
      await openError(
        { store: 'duckdb', storeOptions: { existingOnly: false } as never },
        join(dir, 'jobs.duckdb'),
      ),
    ).toBeNull();
  });
});

describe('whole milliseconds and whole counts', () => {
  it.each([
    ['delayMs', { delayMs: 1.5 }],
    ['timeoutMs', { timeoutMs: 2.5 }],
  ])('enqueue refuses a fractional %s', async (option, options) => {
    const err = await q.enqueue(noop, options).catch((e: unknown) => e);
    expectOptionError(err, `enqueue options.${option}`, /whole .*got [12].5/);
    expect((await q.stats()).pending).toBe(0);
  });

  it('names the batch item and the fix for a fractional delay', async () => {
    const err = await q
      .enqueueBatch([{ fn: noop }, { fn: noop, delayMs: 0.5 }])
      .catch((e: unknown) => e);
    expectOptionError(
      err,
      'enqueueBatch[1] options.delayMs',
      /must be whole milliseconds from 0 to \d+, got 0.5; round it/,
    );
    expect((await q.stats()).pending).toBe(0);
  });

  it.each([
    ['warnPendingAt', { warnPendingAt: 2.5 }],
    ['maxPending', { maxPending: 10.5 }],
    ['visibilityTimeoutMs', { visibilityTimeoutMs: 1000.5 }],
    ['recoverIntervalMs', { recoverIntervalMs: 0.5 }],
    ['pendingRefreshMs', { pendingRefreshMs: 99.9 }],
    ['backoff.baseMs', { backoff: { baseMs: 1.5 } }],
    ['jobDefaults.timeoutMs', { jobDefaults: { timeoutMs: 0.5 } }],
  ])('open refuses a fractional %s', async (option, options) => {
    const err = await openError(options);
    expectOptionError(err, option, /whole/);
  });

  it('still takes a fractional backoff factor', async () => {
    expect(await openError({ backoff: { factor: 1.5 } })).toBeNull();
  });
});

describe('upper bounds', () => {
  it.each([1e300, 1_000_001])('enqueue refuses maxAttempts %d', async (n) => {
    const err = await q.enqueue(noop, { maxAttempts: n }).catch((e: unknown) => e);
    expectOptionError(
      err,
      'enqueue options.maxAttempts',
      /at least 1 \(1 = no retries\) and at most 1000000, got/,
    );
  });

  it('takes maxAttempts 1_000_000 and refuses it above in jobDefaults', async () => {
    const id = await q.enqueue(noop, { maxAttempts: 1_000_000 });
    expect((await q.getJob(id)).maxAttempts).toBe(1_000_000);
    const err = await openError({ jobDefaults: { maxAttempts: 1e300 } });
    expectOptionError(err, 'jobDefaults.maxAttempts', /at most 1000000, got 1e\+300/);
  });

  it('refuses a delay past 100 years, which no store keeps exactly', async () => {
    const err = await q
      .enqueue(noop, { delayMs: Number.MAX_SAFE_INTEGER })
      .catch((e: unknown) => e);
    expectOptionError(err, 'enqueue options.delayMs', /about 100 years/);
    const cap = await openError({ backoff: { capMs: Number.MAX_SAFE_INTEGER } });
    expectOptionError(cap, 'backoff.capMs', /about 100 years/);
  });

  it('says why timeoutMs stops at 2^31-1 ms, and that rounding will not do', async () => {
    const err = await q
      .enqueue(noop, { timeoutMs: 2 ** 31 + 0.5 })
      .catch((e: unknown) => e);
    expectOptionError(
      err,
      'enqueue options.timeoutMs',
      /from 1 to 2147483647 \(ms; a Node timer cannot wait longer\)/,
    );
    expect((err as Error).message).not.toContain('round it');
  });

  it.each([
    ['visibilityTimeoutMs', { visibilityTimeoutMs: 2 ** 31 }],
    ['recoverIntervalMs', { recoverIntervalMs: 2 ** 31 }],
    ['pendingRefreshMs', { pendingRefreshMs: 1e12 }],
    ['backoff.baseMs', { backoff: { baseMs: 2 ** 31 } }],
  ])('says why %s stops at 2^31-1 ms', async (option, options) => {
    const err = await openError(options);
    expectOptionError(
      err,
      option,
      /from \d to 2147483647 \(ms; a Node timer cannot wait longer\)/,
    );
  });

  it.each([1.5, 0, -1, '2', 1e9, Infinity])(
    'claimMany refuses max %j before it reaches the store',
    async (max) => {
      await q.enqueue(noop);
      const err = await q
        .claimMany({ workerId: 'w', max: max as number })
        .catch((e: unknown) => e);
      expectOptionError(err, 'claimMany max', /whole number of jobs from 1 to 100000/);
      expect((await q.stats()).pending).toBe(1);
    },
  );

  it('claimMany takes a whole max', async () => {
    await q.enqueueBatch([{ fn: noop }, { fn: noop }, { fn: noop }]);
    expect(await q.claimMany({ workerId: 'w', max: 2 })).toHaveLength(2);
  });
});

describe('explicit undefined means "not given"', () => {
  it('keeps the jobDefaults defaults', async () => {
    const opened = await DuckQueue.open(join(dir, 'other.db'), {
      serialization: 'json',
      jobDefaults: {
        queue: undefined,
        priority: undefined,
        maxAttempts: undefined,
        timeoutMs: undefined,
      },
    });
    try {
      expect(opened.options.jobDefaults).toEqual(QUEUE_DEFAULTS.jobDefaults);
    } finally {
      await opened.close();
    }
  });

  it('keeps the backoff defaults next to given values', async () => {
    const opened = await DuckQueue.open(join(dir, 'other.db'), {
      serialization: 'json',
      backoff: { baseMs: undefined, factor: 3, capMs: undefined, jitter: undefined },
    });
    try {
      expect(opened.options.backoff).toEqual({
        ...QUEUE_DEFAULTS.backoff,
        factor: 3,
      });
    } finally {
      await opened.close();
    }
  });

  it('still refuses an unknown key set to undefined', async () => {
    const err = await openError({ jobDefaults: { priorty: undefined } as never });
    expectOptionError(err, 'jobDefaults.priorty', /did you mean 'priority'/);
  });

  it('lets a batch default apply to an item whose option is undefined', async () => {
    const [id] = await q.enqueueBatch(
      [{ fn: noop, priority: undefined, queue: undefined }],
      { priority: 90, queue: 'bulk' },
    );
    const job = await q.getJob(id!);
    expect(job.priority).toBe(90);
    expect(job.queue).toBe('bulk');
    const err = await q
      .enqueueBatch([{ fn: noop, priorty: undefined } as never])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect((err as Error).message).toMatch(/priorty/);
  });
});
