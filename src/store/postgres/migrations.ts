// The PostgreSQL schema as an ordered list of named migrations, and the
// runner that applies them. Same table and column names as the SQLite and
// DuckDB stores, so exports and reports read all three alike. Times are
// epoch milliseconds in BIGINT columns, as the Store contract hands them
// over. A released migration never changes: add a new one.

import type { PoolClient } from 'pg';
import type { SqlMigration } from '../sqlite-migrations.js';

export type { SqlMigration };

export const postgresCoreMigrations: readonly SqlMigration[] = [
  {
    name: 'core-001-jobs',
    sql: `
      CREATE TABLE jobs (
        id BIGSERIAL PRIMARY KEY,
        queue TEXT NOT NULL,
        -- 'pending' covers delayed too: run_at in the future means delayed.
        status TEXT NOT NULL CHECK (status IN
          ('pending', 'claimed', 'done', 'failed', 'dead')),
        payload BYTEA NOT NULL,
        format TEXT NOT NULL,
        fn_name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        timeout_ms BIGINT,
        run_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        claimed_at BIGINT,
        claimed_by TEXT,
        claim_expires_at BIGINT,
        finished_at BIGINT,
        result BYTEA,
        error_name TEXT,
        error_message TEXT,
        error_stack TEXT,
        error_value BYTEA
      );
      -- Claim order; partial, so it holds only jobs that can be claimed
      -- and stays small however many finished jobs the table keeps.
      CREATE INDEX jobs_ready ON jobs (queue, priority DESC, run_at, id)
        WHERE status = 'pending';
      -- Finding lapsed claims.
      CREATE INDEX jobs_claim_expiry ON jobs (claim_expires_at)
        WHERE status = 'claimed';
      -- Stats, listings and purges per queue and status.
      CREATE INDEX jobs_queue_status ON jobs (queue, status, finished_at);
    `,
  },
];

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS duckqueue_migrations (
  seq SERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  applied_at BIGINT NOT NULL)`;

/**
 * Apply every migration not yet recorded, in one transaction. Processes
 * opening the same schema at once queue up on an advisory lock keyed by the
 * schema name, so exactly one of them creates the tables and the others
 * find them done.
 */
export async function runMigrations(
  client: PoolClient,
  schema: string,
  migrations: readonly SqlMigration[],
): Promise<string[]> {
  const applied: string[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `duckqueue.migrate.${schema}`,
    ]);
    // The schema name was checked against a plain-identifier pattern.
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}`);
    await client.query(MIGRATIONS_TABLE);
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM duckqueue_migrations',
    );
    const done = new Set(rows.map((r) => r.name));
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await client.query(m.sql);
      await client.query(
        'INSERT INTO duckqueue_migrations (name, applied_at) VALUES ($1, $2)',
        [m.name, Date.now()],
      );
      applied.push(m.name);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return applied;
}
