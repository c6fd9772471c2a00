// Many machines, simulated on one host: four real worker processes, each
// with its own connections, drain 100,000 jobs from one PostgreSQL schema.
// A trigger counts how often each job becomes `done` (in the same
// transaction as the ack), and every worker records the jobs it ran, so
// the tables prove each job was done exactly once; then the same with one
// worker killed with SIGKILL halfway through.

import { afterEach, describe, expect, it } from 'vitest';
import type { PostgresStore } from '../src/store/postgres.js';
import { startPgChild, succeeded, type Child } from './fixtures/pg-children.js';
import { PG_URL, openTestStore, requireUrl } from './helpers/postgres.js';

const JOBS = 100_000;
const WORKERS = 4;

async function prepare(): Promise<PostgresStore> {
  const store = await openTestStore();
  const s = store.schema;
  await store.pool.query(`
    CREATE TABLE ${s}.executions (n INT NOT NULL, worker TEXT NOT NULL);
    CREATE TABLE ${s}.completions (
      job_id BIGINT PRIMARY KEY,
      count INT NOT NULL);
    CREATE FUNCTION ${s}.count_completion() RETURNS trigger
      LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${s}.completions VALUES (NEW.id, 1)
          ON CONFLICT (job_id)
          DO UPDATE SET count = ${s}.completions.count + 1;
        RETURN NULL;
      END $$;
    CREATE TRIGGER count_completion AFTER UPDATE OF status ON ${s}.jobs
      FOR EACH ROW WHEN (NEW.status = 'done')
      EXECUTE FUNCTION ${s}.count_completion();
  `);
  const enqueued = await succeeded(
    startPgChild(['enqueue', requireUrl(), s, String(JOBS)]),
  );
  expect(enqueued).toEqual({ enqueued: JOBS });
  return store;
}

async function one<T>(store: PostgresStore, sql: string): Promise<T> {
  const { rows } = await store.pool.query(sql);
  return rows[0] as T;
}

/** Every job done, and done exactly once, as the trigger counted. */
async function expectEachJobDoneOnce(store: PostgresStore): Promise<void> {
  const s = store.schema;
  expect(
    await one(store, `SELECT status, count(*)::int AS n FROM ${s}.jobs
      GROUP BY status`),
  ).toEqual({ status: 'done', n: JOBS });
  expect(
    await one(store, `SELECT count(*)::int AS jobs,
        min(count) AS min, max(count) AS max
      FROM ${s}.completions`),
  ).toEqual({ jobs: JOBS, min: 1, max: 1 });
}

/**
 * Wait until no statement of the connections tagged `app` is running:
 * seen idle twice, 100 ms apart, with nothing started in between.
 */
async function statementsFinished(
  store: PostgresStore,
  app: string,
): Promise<void> {
  const look = () =>
    one<{ active: number; last: string | null }>(
      store,
      `SELECT count(*) FILTER (WHERE state = 'active')::int AS active,
         max(state_change)::text AS last
       FROM pg_stat_activity WHERE application_name = '${app}'`,
    );
  let before = await look();
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await look();
    if (before.active === 0 && now.active === 0 && now.last === before.last) {
      return;
    }
    before = now;
  }
}

let store: PostgresStore | undefined;
let children: Child[] = [];

afterEach(async () => {
  for (const c of children) c.process.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
  children = [];
  await store?.close();
  store = undefined;
});

describe.skipIf(!PG_URL)('postgres: workers in several processes', () => {
  it(`${WORKERS} processes run ${JOBS} jobs, each exactly once`, async () => {
    store = await prepare();
    const s = store.schema;
    children = Array.from({ length: WORKERS }, (_, i) =>
      startPgChild(['work', requireUrl(), s, `w${i}`]),
    );
    const summaries = await Promise.all(children.map(succeeded));
    const done = summaries.reduce((sum, x) => sum + (x.done as number), 0);
    expect(done).toBe(JOBS);

    await expectEachJobDoneOnce(store);
    // No job ran twice anywhere, and none needed a second attempt.
    expect(
      await one(store, `SELECT count(*)::int AS runs,
          count(DISTINCT n)::int AS distinct_jobs,
          min(n) AS first, max(n) AS last
        FROM ${s}.executions`),
    ).toEqual({ runs: JOBS, distinct_jobs: JOBS, first: 0, last: JOBS - 1 });
    expect(
      await one(store, `SELECT max(attempts) AS a FROM ${s}.jobs`),
    ).toEqual({ a: 1 });
  }, 240_000);

  it('recovers a SIGKILLed worker\'s claims; each job done once', async () => {
    store = await prepare();
    const s = store.schema;
    children = Array.from({ length: WORKERS }, (_, i) =>
      startPgChild(['work', requireUrl(), s, `w${i}`]),
    );
    const victim = children[0]!;

    // Wait until w0 is working with jobs in hand, then freeze it: it can
    // send nothing more. Once the statements it had already sent have
    // finished, what it holds is final; kill it while that is a handful
    // of claims, so some claims are certainly orphaned.
    let held: string[] = [];
    for (;;) {
      const progress = await one<{ done: number; mine: number }>(
        store,
        `SELECT count(*) FILTER (WHERE status = 'done')::int AS done,
           count(*) FILTER (WHERE status = 'claimed'
             AND claimed_by = 'w0')::int AS mine
         FROM ${s}.jobs`,
      );
      if (progress.done >= JOBS) throw new Error('finished before the kill');
      if (progress.done >= JOBS / 4 && progress.mine > 8) {
        victim.process.kill('SIGSTOP');
        await statementsFinished(store, `dq_${s}_w0`);
        const { rows } = await store.pool.query<{ id: string }>(
          `SELECT id::text AS id FROM ${s}.jobs
            WHERE status = 'claimed' AND claimed_by = 'w0'`,
        );
        if (rows.length > 8) {
          held = rows.map((r) => r.id);
          victim.process.kill('SIGKILL');
          break;
        }
        victim.process.kill('SIGCONT');
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await victim.exited).signal).toBe('SIGKILL');

    const survivors = await Promise.all(children.slice(1).map(succeeded));
    await expectEachJobDoneOnce(store);

    // Survivors never ran a job twice, and between them and the jobs w0
    // acked before it died, every job was run by the worker that acked it.
    const survivorRuns = await one<{ runs: number; distinct_jobs: number }>(
      store,
      `SELECT count(*)::int AS runs, count(DISTINCT n)::int AS distinct_jobs
        FROM ${s}.executions`,
    );
    expect(survivorRuns.runs).toBe(survivorRuns.distinct_jobs);
    const ackedByVictim = await one<{ n: number }>(
      store,
      `SELECT count(*)::int AS n FROM ${s}.jobs WHERE claimed_by = 'w0'`,
    );
    expect(survivorRuns.runs + ackedByVictim.n).toBe(JOBS);
    expect(survivors.reduce((sum, x) => sum + (x.done as number), 0)).toBe(
      survivorRuns.runs,
    );

    // The orphaned claims came back after the visibility timeout, as a
    // second attempt that records why, and a survivor finished them.
    const { rows: recovered } = await store.pool.query<{
      id: string;
      attempts: number;
      error_name: string;
      claimed_by: string;
    }>(
      `SELECT id::text AS id, attempts, error_name, claimed_by
        FROM ${s}.jobs WHERE attempts > 1`,
    );
    expect(recovered.length).toBeGreaterThan(0);
    for (const r of recovered) {
      expect(r).toMatchObject({ attempts: 2, error_name: 'ClaimExpiredError' });
      expect(r.claimed_by).not.toBe('w0');
    }
    // Every claim w0 held when it died was recovered (or, if its ack was
    // still reaching the server, acked by w0 itself).
    const recoveredIds = new Set(recovered.map((r) => r.id));
    const { rows: heldNow } = await store.pool.query<{
      id: string;
      claimed_by: string;
      attempts: number;
    }>(
      `SELECT id::text AS id, claimed_by, attempts FROM ${s}.jobs
        WHERE id = ANY($1::bigint[])`,
      [held],
    );
    expect(heldNow).toHaveLength(held.length);
    for (const r of heldNow) {
      const victimAcked = r.claimed_by === 'w0' && r.attempts === 1;
      expect(recoveredIds.has(r.id) || victimAcked).toBe(true);
    }
  }, 240_000);
});
