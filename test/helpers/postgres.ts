// PostgreSQL for tests: the server named by DUCKQUEUE_PG_URL (CI starts a
// throwaway one with scripts/pg-test-cluster.sh), and stores that each live
// in a schema of their own, dropped when the store closes.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  openStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../../src/store/postgres.js';

/** The test server's connection string, or undefined when none is set. */
export const PG_URL: string | undefined = process.env.DUCKQUEUE_PG_URL || undefined;

export const PG_SKIP_REASON =
  'PostgreSQL tests skipped: DUCKQUEUE_PG_URL is not set. To run them: ' +
  'export DUCKQUEUE_PG_URL="$(bash scripts/pg-test-cluster.sh start)"';

/** A schema name no other test uses. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Run `fn` with a plain client of its own (not one of a store's). */
export async function withClient<T>(
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: requireUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await withClient((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

/**
 * Open a store in a fresh schema. Closing it also drops the schema, so a
 * developer's own database is left as it was.
 */
export async function openTestStore(
  options: PostgresStoreOptions = {},
): Promise<PostgresStore> {
  const schema = options.schema ?? uniqueSchema();
  const store = await openStore(requireUrl(), { ...options, schema });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await dropSchema(schema);
  };
  return store;
}

export function requireUrl(): string {
  if (!PG_URL) throw new Error(PG_SKIP_REASON);
  return PG_URL;
}

/** Poll `probe` until it returns a value; fail after 20 s. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
