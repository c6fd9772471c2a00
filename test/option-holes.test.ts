// Options that used to be accepted and then ignored, misread or failed
// later with a raw error: misspelt claim keys, holes in batch arrays,
// formats no payload carries, a clock that does not tell time, policy
// entries that can never match, keys of the wrong type, queue weights
// past what the picker can share out, and PostgreSQL values that would
// only fail after connecting. Each must be a typed error naming the value.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DuckQueue, Worker } from '../src/index.js';
import type { DuckQueueOptions } from '../src/queue/options.js';
import { registerTask } from '../src/serialize/index.js';
import { SerializerOptionError } from '../src/serialize/errors.js';
import { expectOptionError, thrown } from './helpers/option-errors.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

function noop(): void {}
registerTask('option-holes.noop', noop);

let dir: string;
let q: DuckQueue;

beforeEach(async () => {
  dir = tempDir('dq-option-holes-');
  q = await DuckQueue.open(join(dir, 'jobs.db'), { serialization: 'json' });
});
afterEach(() => q.close());
afterAll(removeTempDirs);

async function openError(
  options: DuckQueueOptions,
  location = join(dir, 'other.db'),
): Promise<unknown> {
  try {
    const opened = await DuckQueue.open(location, options);
    await opened.close();
    return null;
  } catch (err) {
    return err;
  }
}



describe('claim and claimMany options', () => {
  it('refuses a misspelt key instead of claiming from the default queue', async () => {
    await q.enqueue(noop, { queue: 'default' });
    const err = await thrown(() =>
      q.claim({ workerId: 'w', queu: 'mail' } as never),
    );
    expectOptionError(err, 'claim options.queu', /did you mean 'queue'/);
    expect((await q.stats()).pending).toBe(1);
    const many = await thrown(() =>
      q.claimMany({ workerId: 'w', max: 2, maxx: 3 } as never),
    );
    expectOptionError(many, 'claimMany options.maxx', /did you mean 'max'/);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'w'],
  ])('names the options when claimMany gets %s', async (_, value) => {
    const err = await thrown(() => q.claimMany(value as never));
    expectOptionError(err, 'claimMany options', /expected \{ workerId, max/);
    const one = await thrown(() => q.claim(value as never));
    expectOptionError(one, 'claim options', /expected \{ workerId/);
  });
});

describe('enqueueBatch', () => {
  it('refuses a sparse array and stores nothing', async () => {
    const items: { fn: () => void }[] = new Array(5);
    items[0] = { fn: noop };
    items[4] = { fn: noop };
    const err = await thrown(() => q.enqueueBatch(items));
    expectOptionError(err, 'enqueueBatch[1]', /hole in a sparse array/);
    const stats = await q.stats();
    expect(stats.pending).toBe(0);
  });
});

describe('DuckQueue.open options', () => {
  it.each([
    [['nope'], 'acceptFormats[0]', /"nope" is not a payload format; known formats are .*'json'/],
    [['json', 'auto'], 'acceptFormats[1]', /'auto' is not a format/],
    [['pickle'], 'acceptFormats[0]', /stored as 'v8'/],
  ])('refuses acceptFormats %j', async (formats, option, message) => {
    expectOptionError(await openError({ acceptFormats: formats }), option, message);
  });

  it('takes every real format in acceptFormats', async () => {
    expect(await openError({ acceptFormats: ['v8', 'source', 'json'] })).toBeNull();
  });

  it.each([
    ['NaN', () => NaN, /returned NaN/],
    ['a string', () => '2024', /returned "2024"/],
    ['a fraction', () => 1.5, /Math\.floor/],
    ['a negative time', () => -1, /returned -1/],
  ])('refuses a clock returning %s', async (_, clock, message) => {
    const err = await openError({ clock: clock as never });
    expectOptionError(err, 'clock', message);
  });

  it('names a clock that throws', async () => {
    const err = await openError({
      clock: () => {
        throw new Error('no time');
      },
    });
    expectOptionError(err, 'clock', /threw when read \(no time\)/);
  });
});

describe('policy options', () => {
  it.each([
    ['an array', [], /must be an object .*got an array/],
    ['an empty module', { allowModules: [''] }, /allowModules\[0\] "" can never match: it names no module/],
    ['a module outside the root', { allowModules: ['src/jobs', '../..'] }, /allowModules\[1\] "\.\.\/\.\." can never match: a path with '\.\.'/],
    ['an absolute module path', { allowModules: ['/etc/jobs'] }, /relative to the root/],
    ['a key with a number id', { signingKey: { id: 5, secret: 'x'.repeat(32) } }, /policy\.signingKey must be .*got \{ id: number, secret: string \}/],
    ['a key without a secret', { signingKey: { id: 5 } }, /policy\.signingKey must be .*secret: undefined/],
    ['a number key', { signingKey: 5 }, /policy\.signingKey must be .*got 5/],
    ['a verify key of null', { verifyKeys: [null] }, /policy\.verifyKeys\[0\] must be .*got null/],
  ])('refuses %s', async (_, policy, message) => {
    const err = await openError({ serialization: 'v8', policy: policy as never });
    expect(err).toBeInstanceOf(SerializerOptionError);
    expect((err as Error).message).toMatch(message);
  });

  it('takes module patterns that can match', async () => {
    const policy = { allowModules: ['./src/jobs/', 'lodash-es', 'node:fs', '**'] };
    expect(await openError({ serialization: 'v8', policy })).toBeNull();
  });
});

describe('storeOptions.migrations', () => {
  it.each([
    [[null], 'storeOptions.migrations[0]', /expected \{ name, sql \}, got null/],
    [[{ name: 'a' }], 'storeOptions.migrations[0].sql', /expected the SQL/],
    [[{ name: '', sql: 'SELECT 1' }], 'storeOptions.migrations[0].name', /non-empty/],
    [[{ name: 'a', sql: 'SELECT 1', up: 1 }], 'storeOptions.migrations[0].up', /unknown option/],
  ])('refuses %j', async (migrations, option, message) => {
    const err = await openError({ storeOptions: { migrations } as never });
    expectOptionError(err, option, message);
  });
});

describe('Worker', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an object that is not a queue', {}],
  ])('names the queue when given %s', (_, value) => {
    expectOptionError(
      thrownSync(() => new Worker(value as never)),
      'Worker queue',
      /expected an open DuckQueue/,
    );
  });

  it.each([2 ** 60, 1e308, 1001])('refuses the queue weight %s', (weight) => {
    expectOptionError(
      thrownSync(() => new Worker(q, { queues: { a: weight, b: weight } })),
      'queues.a',
      /whole number from 1 to 1000/,
    );
  });

  it('takes weights up to 1000', () => {
    expect(thrownSync(() => new Worker(q, { queues: { a: 1000, b: 1 } }))).toBeNull();
  });
});

function thrownSync(run: () => unknown): unknown {
  try {
    run();
    return null;
  } catch (err) {
    return err;
  }
}

// Port 9 on 127.0.0.1 has no server: a check that ran only after
// connecting would fail with PostgresConnectError instead.
describe('PostgreSQL storeOptions, refused before connecting', () => {
  const nowhere = 'postgres://duckqueue@127.0.0.1:9/none';
  it.each([
    ['connectTimeoutMs', 2 ** 31, /from 1 to 2147483647/],
    ['connectTimeoutMs', 0, /from 1 to 2147483647/],
    ['busyTimeoutMs', 2 ** 40, /from 1 to 2147483647/],
    ['poolSize', 1e9, /from 1 to 1000/],
    ['applicationName', 'jobs\0x', /printable ASCII/],
    ['applicationName', 'jobs\n', /printable ASCII/],
    ['schema', 'information_schema', /reserved by PostgreSQL/],
    ['schema', 'pg_jobs', /reserved by PostgreSQL/],
  ])('%s %j', async (key, value, message) => {
    const err = await openError(
      { store: 'postgres', storeOptions: { [key]: value } },
      nowhere,
    );
    expectOptionError(err, `storeOptions.${key}`, message);
  });
});
