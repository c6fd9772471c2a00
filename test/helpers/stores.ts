// The stores the contract suite runs against. Adding a backend to the suite
// is one entry here: a name and a factory that opens a fresh, migrated
// store inside the given temporary directory.

import { join } from 'node:path';
import { openStore as openSqlite } from '../../src/store/sqlite.js';
import { openStore as openDuckDB } from '../../src/store/duckdb.js';
import type { Store } from '../../src/store/types.js';
import { PG_SKIP_REASON, PG_URL, openTestStore } from './postgres.js';

export interface StoreFactory {
  name: string;
  /** Open a new, empty, migrated store whose files live under `dir`. */
  create(dir: string): Promise<Store>;
  /**
   * Why this backend cannot run here (e.g. no server), or null to run.
   * Omitted means always available.
   */
  unavailable?(): Promise<string | null>;
}

export const storeFactories: StoreFactory[] = [
  {
    name: 'sqlite',
    create: async (dir) => openSqlite(join(dir, 'jobs.db')),
  },
  { name: 'duckdb', create: async (dir) => openDuckDB(join(dir, 'jobs.duckdb')) },
  // A schema of its own per test on the DUCKQUEUE_PG_URL server.
  {
    name: 'postgres',
    create: async () => openTestStore(),
    unavailable: async () => (PG_URL ? null : PG_SKIP_REASON),
  },
];
