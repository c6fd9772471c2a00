// Opening a store creates its tables. Commands that only read or export
// (`stats`, `export`) must not turn a mistyped path or some other
// application's database into a queue: they open existing queues only.

import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { openStore, type StoreName } from './index.js';
import { NotAQueueError, StoreLocationError } from './location.js';
import type { PostgresStoreOptions } from './postgres/options.js';
import type { Store } from './types.js';


/**
 * Opens the queue stored at `location`, or throws StoreLocationError when
 * there is no file there, or NotAQueueError when the file is a database
 * without a queue in it. Nothing is created or changed either way.
 */
export async function openExistingStore(
  kind: StoreName,
  location: string,
): Promise<Store> {
  if (kind !== 'postgres' && !existsSync(location)) {
    throw new StoreLocationError(location, `no database at '${location}'`);
  }
  if (kind === 'sqlite') checkSqliteQueue(location);
  if (kind === 'duckdb') {
    const duckdb = await import('./duckdb.js');
    return duckdb.openStore(location, { existingOnly: true });
  }
  if (kind === 'postgres') {
    const postgres: PostgresStoreOptions = { existingOnly: true };
    return openStore(kind, location, postgres);
  }
  return openStore(kind, location);
}

/** Throws NotAQueueError unless `location` is a SQLite job queue. */
export function checkSqliteQueue(location: string): void {
  let sqlite: Database.Database;
  try {
    sqlite = new Database(location, { readonly: true, fileMustExist: true });
  } catch (cause) {
    throw new NotAQueueError(
      location,
      `'${location}' cannot be opened as a SQLite database ` +
        `(${(cause as Error).message})`,
      'not-a-database',
    );
  }
  try {
    const found = sqlite
      .prepare(`SELECT 1 FROM sqlite_master
        WHERE type = 'table' AND name = 'duckqueue_migrations'`)
      .get();
    if (!found) {
      throw new NotAQueueError(
        location,
        `'${location}' is a SQLite database without a job queue ` +
          '(no duckqueue_migrations table); nothing was changed',
      );
    }
  } catch (err) {
    if (err instanceof NotAQueueError) throw err;
    throw new NotAQueueError(
      location,
      `'${location}' is not a SQLite database (${(err as Error).message})`,
      'not-a-database',
    );
  } finally {
    sqlite.close();
  }
}
