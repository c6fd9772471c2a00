// What the PostgreSQL store does beyond the shared store contract: option
// checks, migrations raced by several openers, big batches, LISTEN/NOTIFY
// wake-ups, and connections that drop in the middle of a claim, an ack or
// an enqueue. The contract itself runs in store-contract.test.ts.

import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  PostgresConnectError,
  PostgresConnectionLostError,
  PostgresOptionError,
  openStore,
  type PostgresStore,
} from '../src/store/postgres.js';
import { openStore as openStoreByName } from '../src/store/index.js';
import type { NewJobRow } from '../src/store/types.js';
import { PgRelay } from './fixtures/pg-proxy.js';
import {
  PG_SKIP_REASON,
  PG_URL,
  dropSchema,
  openTestStore,
  requireUrl,
  uniqueSchema,
  until,
  withClient,
} from './helpers/postgres.js';

// The one line that says how to run what is skipped here (and in the
// contract suite and the multi-process tests).
if (!PG_URL) console.info(PG_SKIP_REASON);

const NO_DRIVER = new URL('./fixtures/pg-no-driver.ts', import.meta.url);
const T0 = 1_700_000_000_000;
const VT = 30_000;

function job(over: Partial<NewJobRow> = {}): NewJobRow {
  return {
    queue: 'default',
    payload: new Uint8Array([7]),
    format: 'json',
    fnName: 'task',
    priority: 50,
    runAt: T0,
    maxAttempts: 3,
    timeoutMs: null,
    createdAt: T0,
    ...over,
  };
}

const claimReq = (workerId = 'w1', now = T0) => ({
  queue: 'default',
  workerId,
  now,
  visibilityTimeoutMs: VT,
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('postgres store: options', () => {
  const url = 'postgres://u@127.0.0.1:1/db';

  it('names an unknown option and lists the valid ones', async () => {
    const err = await openStore(url, { shema: 'x' } as object).catch((e) => e);
    expect(err).toBeInstanceOf(PostgresOptionError);
    expect(err).toMatchObject({ option: 'shema' });
    expect(err.message).toContain('valid options are connectionString, schema');
  });

  it.each([
    ['schema', { schema: 'Jobs-Schema' }, 'lower-case letters'],
    ['schema', { schema: 'a'.repeat(49) }, 'at most 48'],
    ['poolSize', { poolSize: 0 }, 'at least 1'],
    ['connectTimeoutMs', { connectTimeoutMs: 1.5 }, 'whole number'],
    ['notify', { notify: 'yes' }, 'true or false'],
  ])('rejects a bad %s', async (option, options, says) => {
    const err = await openStore(url, options as object).catch((e) => e);
    expect(err).toBeInstanceOf(PostgresOptionError);
    expect(err).toMatchObject({ option });
    expect(err.message).toContain(says);
  });

  it('needs a postgres:// connection string', async () => {
    const none = await openStore('').catch((e) => e);
    expect(none).toBeInstanceOf(PostgresOptionError);
    expect(none.message).toContain('no connection string');
    const wrong = await openStore('mysql://u:pw@host/db').catch((e) => e);
    expect(wrong).toBeInstanceOf(PostgresOptionError);
    expect(wrong.message).toContain('not a postgres:// or postgresql:// URL');
    expect(wrong.message).not.toContain('pw');
  });

  it('says where it could not connect, without the password', async () => {
    const port = await closedPort();
    const target = `postgres://queue:s3cret@127.0.0.1:${port}/jobs`;
    const err = await openStore(target).catch((e) => e);
    expect(err).toBeInstanceOf(PostgresConnectError);
    expect(err.target).toBe(`queue@127.0.0.1:${port}/jobs`);
    expect(err.message).toContain('Check that the server is running');
    expect(err.message).not.toContain('s3cret');
  });

  it('names the missing pg package and how to install it', async () => {
    // A real child process in which 'pg' cannot be resolved.
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(NO_DRIVER)],
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });
    expect(JSON.parse(out)).toMatchObject({
      name: 'PostgresDriverMissingError',
      code: 'PG_STORE_DRIVER_MISSING',
    });
    expect(JSON.parse(out).message).toContain('npm install pg');
  });

  it('is what the store registry opens for the name postgres', async () => {
    const port = await closedPort();
    const err = await openStoreByName(
      'postgres',
      `postgres://u@127.0.0.1:${port}/db`,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(PostgresConnectError);
  });
});

describe.skipIf(!PG_URL)('postgres store: schema and batches', () => {
  const opened: PostgresStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('migrates once when several processes open a new schema at once', async () => {
    const schema = uniqueSchema('mig');
    try {
      const extra = [
        { name: 'extra-001', sql: 'CREATE TABLE extra_things (id INT)' },
      ];
      const stores = await Promise.all(
        Array.from({ length: 4 }, () =>
          openStore(requireUrl(), { schema, migrations: extra }),
        ),
      );
      opened.push(...stores);
      // Core first, the caller's extra last, each recorded once.
      const applied = await stores[0]!.appliedMigrations();
      expect(applied[0]).toBe('core-001-jobs');
      expect(applied.at(-1)).toBe('extra-001');
      expect(new Set(applied).size).toBe(applied.length);
      // The extra migration ran with the store's schema first on the path.
      const { rows } = await stores[0]!.pool.query(
        `SELECT to_regclass('${schema}.extra_things') IS NOT NULL AS made`,
      );
      expect(rows[0]).toEqual({ made: true });
      await stores[1]!.migrate();
      expect(await stores[1]!.appliedMigrations()).toEqual(applied);
    } finally {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await dropSchema(schema);
    }
  });

  it('keeps independent queues in separate schemas of one database', async () => {
    const a = await openTestStore();
    const b = await openTestStore();
    opened.push(a, b);
    await a.enqueue(job());
    expect(await b.claim(claimReq())).toBeNull();
    expect(await a.claim(claimReq())).not.toBeNull();
  });

  it('enqueues a batch larger than one INSERT in input order', async () => {
    const store = await openTestStore();
    opened.push(store);
    const rows = Array.from({ length: 12_001 }, (_, i) =>
      job({ fnName: `f${i}` }),
    );
    const ids = await store.enqueueMany(rows);
    expect(new Set(ids).size).toBe(rows.length);
    const asNumbers = ids.map(BigInt);
    expect(asNumbers.every((id, i) => i === 0 || id > asNumbers[i - 1]!)).toBe(
      true,
    );
    const last = await store.getJob(ids[12_000]!, T0);
    expect(last?.fnName).toBe('f12000');
    const first = await store.claimMany(claimReq(), 3);
    expect(first.map((j) => j.fnName)).toEqual(['f0', 'f1', 'f2']);
    expect(await store.countWaiting('default')).toBe(rows.length - 3);
  });

  it('claims exactly `max` jobs from a large queue', async () => {
    const store = await openTestStore();
    opened.push(store);
    await store.enqueueMany(Array.from({ length: 5_000 }, () => job()));
    await store.pool.query(`ANALYZE ${store.table('jobs')}`);
    const got = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        store.claimMany(claimReq(`w${i}`), 64),
      ),
    );
    expect(got.map((g) => g.length)).toEqual([64, 64, 64, 64, 64, 64]);
    expect((await store.stats('default', T0)).claimed).toBe(6 * 64);
  });
});

describe.skipIf(!PG_URL)('postgres store: waking idle workers', () => {
  const opened: PostgresStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  async function pair(): Promise<[PostgresStore, PostgresStore]> {
    const consumer = await openTestStore();
    const producer = await openStore(requireUrl(), {
      schema: consumer.schema,
    });
    opened.push(producer, consumer);
    // The first wait starts listening and asks the caller to look again.
    expect(await consumer.waitForJobs!(['default'], 10)).toBe(true);
    return [consumer, producer];
  }

  it('wakes a waiting worker when another process enqueues', async () => {
    const [consumer, producer] = await pair();
    const woken = consumer.waitForJobs!(['default'], 60_000);
    await producer.enqueue(job({ createdAt: T0, runAt: T0 }));
    expect(await woken).toBe(true);
    expect(await consumer.claim(claimReq())).not.toBeNull();
  });

  it('wakes only waiters of the queue that got work', async () => {
    const [consumer, producer] = await pair();
    let aWoke = false;
    const forA = consumer.waitForJobs!(['a'], 60_000).then((w) => {
      aWoke = true;
      return w;
    });
    const forB = consumer.waitForJobs!(['b'], 60_000);
    await producer.enqueueMany([job({ queue: 'b' })]);
    expect(await forB).toBe(true);
    // Notifications are handled in one go; b's woke every matching waiter.
    await new Promise((r) => setImmediate(r));
    expect(aWoke).toBe(false);
    await producer.enqueue(job({ queue: 'a' }));
    expect(await forA).toBe(true);
  });

  it('does not wake for delayed jobs or for another schema', async () => {
    const [consumer, producer] = await pair();
    const other = await openTestStore();
    opened.push(other);
    let woke = false;
    const waiting = consumer.waitForJobs!(['default'], 60_000).then((w) => {
      woke = true;
      return w;
    });
    await producer.enqueue(job({ runAt: T0 + 60_000 }));
    await other.enqueue(job());
    // A marker in another queue of the same schema proves the earlier
    // notifications (if any) have been delivered and passed over.
    const marker = consumer.waitForJobs!(['marker'], 60_000);
    await producer.enqueue(job({ queue: 'marker' }));
    expect(await marker).toBe(true);
    expect(woke).toBe(false);
    await producer.enqueue(job());
    expect(await waiting).toBe(true);
  });

  it('reports a notification that arrived between a claim and the wait', async () => {
    const [consumer, producer] = await pair();
    expect(await consumer.claim(claimReq())).toBeNull();
    const seen = consumer.waitForJobs!(['default'], 60_000);
    await producer.enqueue(job());
    expect(await seen).toBe(true);
    // Not claimed since: the next wait returns at once.
    expect(await consumer.waitForJobs!(['default'], 60_000)).toBe(true);
    expect(await consumer.claim(claimReq())).not.toBeNull();
    expect(await consumer.waitForJobs!(['default'], 20)).toBe(false);
  });

  it('wakes workers when recovery or release makes jobs ready again', async () => {
    const [consumer, producer] = await pair();
    await producer.enqueueMany([job(), job()]);
    const [a, b] = await producer.claimMany(claimReq(), 2);
    await consumer.claim(claimReq());
    const afterRelease = consumer.waitForJobs!(['default'], 60_000);
    expect(await producer.release(a!.id, T0)).toBe(true);
    expect(await afterRelease).toBe(true);
    await consumer.claim(claimReq());
    const afterRecovery = consumer.waitForJobs!(['default'], 60_000);
    const lapsed = { name: 'Error', message: 'lapsed', stack: null, value: null };
    expect(
      await producer.recoverExpired({ now: T0 + VT + 1, error: lapsed }),
    ).toEqual({ requeued: 2, dead: 0 });
    expect(await afterRecovery).toBe(true);
    expect(b).toBeDefined();
  });

  it('with notify off, sends nothing and waits the whole time', async () => {
    const quiet = await openTestStore({ notify: false });
    const loud = await openStore(requireUrl(), { schema: quiet.schema });
    opened.push(quiet, loud);
    expect(await loud.waitForJobs!([], 10)).toBe(true);
    let woke = false;
    const waiting = loud.waitForJobs!(['default'], 60_000).then((w) => {
      woke = true;
      return w;
    });
    await quiet.enqueue(job());
    // Notifications arrive in commit order: once the marker is in, a
    // notification from the quiet store would have been too.
    const marker = loud.waitForJobs!(['marker'], 60_000);
    await loud.enqueue(job({ queue: 'marker' }));
    expect(await marker).toBe(true);
    expect(woke).toBe(false);
    // Workers see no way to wait and poll instead.
    expect(quiet.waitForJobs).toBeUndefined();
    await loud.enqueue(job());
    expect(await waiting).toBe(true);
  });
});

describe.skipIf(!PG_URL)('postgres store: lost connections', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A store whose connections are tagged so tests can find them. */
  async function tagged(url = requireUrl(), schema?: string) {
    const applicationName = `dq_${randomBytes(6).toString('hex')}`;
    const store = schema
      ? await openStore(url, { schema, applicationName })
      : await openTestStore({ applicationName });
    cleanups.push(() => store.close());
    const lost: Error[] = [];
    store.on('connectionError', (e: Error) => lost.push(e));
    return { store, applicationName, lost };
  }

  /** A session holding locks until `release()`. */
  async function locker(sql: string, values: unknown[] = []) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: requireUrl() });
    await client.connect();
    await client.query('BEGIN');
    await client.query(sql, values);
    const release = async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    };
    cleanups.push(release);
    return release;
  }

  /** Terminate the backend of `app` that is waiting on a lock. */
  async function terminateBlocked(app: string): Promise<void> {
    const pid = await until('a backend blocked on a lock', () =>
      withClient(async (c) => {
        const { rows } = await c.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity
            WHERE application_name = $1 AND wait_event_type = 'Lock'`,
          [app],
        );
        return rows[0]?.pid;
      }),
    );
    await withClient((c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
  }

  it('repeats a claim whose backend was terminated mid-statement', async () => {
    const { store, applicationName, lost } = await tagged();
    const id = await store.enqueue(job());
    const release = await locker(
      `LOCK TABLE ${store.table('jobs')} IN ACCESS EXCLUSIVE MODE`,
    );
    const claiming = store.claim(claimReq());
    await terminateBlocked(applicationName);
    await release();
    const claimed = await claiming;
    // The terminated statement was rolled back: one claim, one attempt.
    expect(claimed).toMatchObject({ id, attempts: 1, claimedBy: 'w1' });
    expect(lost.length).toBeGreaterThan(0);
    expect((await store.stats('default', T0)).claimed).toBe(1);
  });

  it('repeats an ack whose backend was terminated mid-statement', async () => {
    const { store, applicationName } = await tagged();
    const id = await store.enqueue(job());
    const c = await store.claim(claimReq());
    const release = await locker(
      `SELECT 1 FROM ${store.table('jobs')} WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const acking = store.ack(id, new Uint8Array([1]), T0 + 5, {
      workerId: 'w1',
      attempt: c!.attempts,
    });
    await terminateBlocked(applicationName);
    await release();
    expect(await acking).toBe(true);
    expect(await store.getJob(id, T0 + 5)).toMatchObject({
      status: 'done',
      attempts: 1,
      finishedAt: T0 + 5,
    });
  });

  it('repeats a batch enqueue cut off before COMMIT, storing it once', async () => {
    const { store, applicationName } = await tagged();
    const release = await locker(
      `LOCK TABLE ${store.table('jobs')} IN EXCLUSIVE MODE`,
    );
    const enqueuing = store.enqueueMany([job(), job(), job()]);
    await terminateBlocked(applicationName);
    await release();
    const ids = await enqueuing;
    expect(new Set(ids).size).toBe(3);
    expect(await store.countWaiting('default')).toBe(3);
  });

  describe('when the reply to a committed statement is lost', () => {
    async function relayed() {
      const relay = await PgRelay.start(requireUrl());
      cleanups.push(() => relay.close());
      const direct = await openTestStore();
      cleanups.push(() => direct.close());
      const { store, lost } = await tagged(relay.url, direct.schema);
      return { relay, direct, store, lost };
    }

    it('leaves a claim to lapse and be recovered; the job runs once', async () => {
      const { relay, direct, store, lost } = await relayed();
      const id = await direct.enqueue(job());
      relay.swallowReplies();
      const claiming = store.claim(claimReq('w1'));
      await until('the claim to commit', async () =>
        (await direct.getJob(id, T0))?.status === 'claimed',
      );
      relay.cutAll();
      // The repeat finds nothing: the only job is held by the lost claim.
      expect(await claiming).toBeNull();
      expect(lost.length).toBeGreaterThan(0);
      const lapse = {
        name: 'ClaimExpiredError',
        message: 'lapsed',
        stack: null,
        value: null,
      };
      expect(
        await store.recoverExpired({ now: T0 + VT, error: lapse }),
      ).toEqual({ requeued: 1, dead: 0 });
      const again = await store.claim(claimReq('w2', T0 + VT));
      expect(again).toMatchObject({ id, attempts: 2 });
      expect(
        await store.ack(id, null, T0 + VT, { workerId: 'w2', attempt: 2 }),
      ).toBe(true);
      expect(await direct.stats('default', T0 + VT)).toMatchObject({
        done: 1,
        pending: 0,
        claimed: 0,
      });
    });

    it('recognises its own ack on the repeat and reports success', async () => {
      const { relay, direct, store } = await relayed();
      const id = await direct.enqueue(job());
      const c = await direct.claim(claimReq('w1'));
      const fence = { workerId: 'w1', attempt: c!.attempts };
      relay.swallowReplies();
      const acking = store.ack(id, null, T0 + 1, fence);
      await until('the ack to commit', async () =>
        (await direct.getJob(id, T0))?.status === 'done',
      );
      relay.cutAll();
      expect(await acking).toBe(true);
      // Another claim's ack is still refused.
      const other = { workerId: 'w9', attempt: 1 };
      expect(await store.ack(id, null, T0 + 2, other)).toBe(false);
    });

    it('recognises its own batch ack on the repeat', async () => {
      const { relay, direct, store } = await relayed();
      await direct.enqueueMany([job(), job()]);
      const claimed = await direct.claimMany(claimReq('w1'), 2);
      relay.swallowReplies();
      const acking = store.ackMany(
        claimed.map((j) => ({
          id: j.id,
          result: null,
          fence: { workerId: 'w1', attempt: j.attempts },
        })),
        T0 + 1,
      );
      await until('the acks to commit', async () =>
        (await direct.stats('default', T0)).done === 2,
      );
      relay.cutAll();
      expect(await acking).toEqual([true, true]);
    });

    it('keeps the plain error when no connection could be opened', async () => {
      const { relay, direct, store } = await relayed();
      await relay.close();
      await until('the pool to drop its cut connections', async () =>
        store.pool.totalCount === 0,
      );
      for (const attempt of [
        () => store.enqueue(job()),
        () => store.enqueueMany([job(), job()]),
      ]) {
        const err = await attempt().catch((e) => e);
        expect(err).not.toBeInstanceOf(PostgresConnectionLostError);
        expect(err).toMatchObject({ code: 'ECONNREFUSED' });
      }
      expect(await direct.countWaiting('default')).toBe(0);
    });

    it('reports an enqueue whose outcome is unknown, never repeats it', async () => {
      const { relay, direct, store } = await relayed();
      relay.swallowReplies();
      const enqueuing = store.enqueue(job()).catch((e) => e);
      await until('the insert to commit', async () =>
        (await direct.countWaiting('default')) === 1,
      );
      relay.cutAll();
      const err = await enqueuing;
      expect(err).toBeInstanceOf(PostgresConnectionLostError);
      expect(err).toMatchObject({ operation: 'enqueue' });
      expect(err.message).toContain('may or may not have been saved');
      expect(await direct.countWaiting('default')).toBe(1);
    });
  });

  it('drops a terminated idle connection and carries on', async () => {
    const { store, applicationName, lost } = await tagged();
    await store.enqueue(job());
    await withClient((c) =>
      c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = $1 AND state = 'idle'`,
        [applicationName],
      ),
    );
    await until('the pool to notice', async () => lost.length > 0);
    expect(await store.claim(claimReq())).not.toBeNull();
  });

  it('wakes waiters and listens again when the listening connection dies', async () => {
    const { store, applicationName } = await tagged();
    const producer = await openStore(requireUrl(), { schema: store.schema });
    cleanups.push(() => producer.close());
    expect(await store.waitForJobs!(['default'], 10)).toBe(true);
    const waiting = store.waitForJobs!(['default'], 60_000);
    await withClient((c) =>
      c.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
        [applicationName],
      ),
    );
    // Woken to look again: notifications may have been missed.
    expect(await waiting).toBe(true);
    expect(await store.waitForJobs!(['default'], 60_000)).toBe(true);
    const next = store.waitForJobs!(['default'], 60_000);
    await producer.enqueue(job());
    expect(await next).toBe(true);
  });
});
