// Values planted at the top of their column's range must not make a
// store's claim statement overflow: the claim would fail for the whole
// queue on every poll. DuckDB (like PostgreSQL) raises on integer
// overflow; the planted job must end failed and the others still run.

import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckQueue, Worker } from '../src/index.js';
import { registerTask } from '../src/serialize/index.js';
import { openTestStore, PG_URL, withClient } from './helpers/postgres.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

function echo(label: string): string {
  return label;
}
registerTask('planted-overflow.echo', echo);

afterAll(removeTempDirs);

async function plant(file: string, sql: string): Promise<void> {
  const instance = await DuckDBInstance.create(file);
  const connection = await instance.connect();
  try {
    await connection.run(sql);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A worker drains the queue: the planted job fails, the other runs. */
async function expectOnlyPlantedJobFailed(
  q: DuckQueue,
  jobs: { bad: string; good: string; field: string },
): Promise<void> {
  const summary = await new Worker(q, { pollMs: 5 }).run({ untilEmpty: true });
  expect(summary).toMatchObject({ done: 1, failed: 1 });
  expect(await q.result(jobs.good)).toBe('good');
  const job = await q.getJob(jobs.bad);
  expect(job.status).toBe('failed');
  expect(job.lastError?.name).toBe('InvalidJobRowError');
  expect(job.lastError?.message).toContain(jobs.field);
}

describe('duckdb claims with planted extreme values', () => {
  it.each([
    ['attempts', 'attempts = 2147483647', 'attempts'],
    ['timeout_ms', 'timeout_ms = 9223372036854775000', 'timeoutMs'],
  ])('a planted %s fails that job, and the queue keeps running', async (_c, set, field) => {
    const file = join(tempDir(), 'jobs.duckdb');
    let q = await DuckQueue.open(file, { store: 'duckdb', serialization: 'json' });
    const bad = await q.enqueue(echo, { args: ['bad'], priority: 90 });
    const good = await q.enqueue(echo, { args: ['good'] });
    await q.close();
    await plant(file, `UPDATE jobs SET ${set} WHERE id = ${Number(bad)}`);

    q = await DuckQueue.open(file, { store: 'duckdb', serialization: 'json' });
    try {
      await expectOnlyPlantedJobFailed(q, { bad, good, field });
    } finally {
      await q.close();
    }
  });
});

describe.skipIf(!PG_URL)('postgres claims with planted extreme values', () => {
  it.each([
    ['attempts', 'attempts = 2147483647', 'attempts'],
    ['timeout_ms', 'timeout_ms = 9223372036854775000', 'timeoutMs'],
  ])('a planted %s fails that job, and the queue keeps running', async (_c, set, field) => {
    const store = await openTestStore();
    const q = await DuckQueue.open('', { store, serialization: 'json' });
    try {
      const bad = await q.enqueue(echo, { args: ['bad'], priority: 90 });
      const good = await q.enqueue(echo, { args: ['good'] });
      await withClient((c) =>
        c.query(`UPDATE ${store.schema}.jobs SET ${set} WHERE id = $1`, [bad]),
      );
      await expectOnlyPlantedJobFailed(q, { bad, good, field });
    } finally {
      await q.close();
      await store.close();
    }
  });
});
