// DuckQueue and Worker on PostgreSQL: opening by name, and an idle worker
// that wakes when another process enqueues instead of waiting out its
// poll interval.

import { afterEach, describe, expect, it } from 'vitest';
import { DuckQueue } from '../src/queue/queue.js';
import { registerTask } from '../src/serialize/index.js';
import type { PostgresStore } from '../src/store/postgres.js';
import { Worker } from '../src/worker/worker.js';
import {
  PG_URL,
  dropSchema,
  requireUrl,
  uniqueSchema,
  until,
  withClient,
} from './helpers/postgres.js';

function pgDouble(n: number): number {
  return n * 2;
}
registerTask('pgDouble', pgDouble);

const opened: DuckQueue[] = [];
const schemas: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((q) => q.close()));
  for (const s of schemas.splice(0)) await dropSchema(s);
});

async function open(
  schema: string,
  more: Record<string, unknown> = {},
): Promise<DuckQueue> {
  const q = await DuckQueue.open(requireUrl(), {
    store: 'postgres',
    storeOptions: { schema, ...more } as object,
    serialization: 'json',
  });
  opened.push(q);
  return q;
}

describe.skipIf(!PG_URL)('postgres: queue and worker', () => {
  it('opens by name, runs a job and returns its result', async () => {
    const schema = uniqueSchema('q');
    schemas.push(schema);
    const q = await open(schema);
    expect(q.store.name).toBe('postgres');
    expect((q.store as PostgresStore).schema).toBe(schema);
    const id = await q.enqueue(pgDouble, { args: [21] });
    const worker = new Worker(q, { pollMs: 10 });
    await worker.run({ untilEmpty: true });
    expect(await q.result(id)).toBe(42);
  });

  it('wakes an idle worker on enqueue, long before its poll interval', async () => {
    const schema = uniqueSchema('q');
    schemas.push(schema);
    const applicationName = `dq_wake_${process.pid}`;
    const consumer = await open(schema, { applicationName });
    const producer = await open(schema);
    // Without a notification this worker would not look again for a
    // minute, past this test's time limit.
    const worker = new Worker(consumer, { pollMs: 60_000 });
    const done = new Promise<unknown>((r) =>
      worker.once('job:done', (e) => r(e.result)),
    );
    const running = worker.run();
    // Once the idle worker listens, a notification cannot be missed: one
    // that arrives while it is between waits ends its next wait at once.
    await until('the worker to listen', async () =>
      withClient(async (c) => {
        const { rows } = await c.query(
          `SELECT 1 FROM pg_stat_activity
            WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
          [applicationName],
        );
        return rows.length > 0;
      }),
    );
    await producer.enqueue(pgDouble, { args: [5] });
    expect(await done).toBe(10);
    await worker.stop();
    await running;
  }, 30_000);
});
