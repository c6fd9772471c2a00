// The options each shipped store takes, and the check openStore() runs on
// `storeOptions` before loading a backend: an unknown key (a typo such as
// `busyTimeout`) or a wrongly typed value is an InvalidOptionError that
// names it, instead of being ignored. The PostgreSQL store checks its
// values itself (./postgres/options.ts).

import { InvalidOptionError } from '../queue/errors.js';
import {
  checkBoolean,
  checkKnownKeys,
  checkMs,
  describe,
  MAX_TIMER_MS,
} from '../queue/options.js';
import type { DuckDBStoreOptions } from './duckdb.js';
import type { PostgresStoreOptions } from './postgres/options.js';
import type { SqliteStoreOptions } from './sqlite.js';

// Keyed by each interface's own keys, so the compiler fails when an option
// is added to an interface but not here, or listed here but not there.
const SQLITE: Record<keyof SqliteStoreOptions, true> = {
  busyTimeoutMs: true,
  migrations: true,
};
const DUCKDB: Record<keyof DuckDBStoreOptions, true> = {
  busyTimeoutMs: true,
  migrations: true,
  duckdb: true,
  existingOnly: true,
};
const POSTGRES: Record<keyof PostgresStoreOptions, true> = {
  connectionString: true,
  schema: true,
  poolSize: true,
  notify: true,
  connectTimeoutMs: true,
  applicationName: true,
  busyTimeoutMs: true,
  migrations: true,
};

/** Every option each store takes, by store name. */
export const STORE_OPTION_NAMES: Readonly<Record<string, readonly string[]>> = {
  sqlite: Object.keys(SQLITE),
  duckdb: Object.keys(DUCKDB),
  postgres: Object.keys(POSTGRES),
};

/**
 * Refuse options the store `name` does not take, and SQLite and DuckDB
 * values of the wrong type. Names that are not stores are left to the
 * caller.
 */
export function checkStoreOptions(name: string, options: unknown): void {
  const known = STORE_OPTION_NAMES[name];
  if (known === undefined) return;
  checkKnownKeys('storeOptions', options, known, `${name} store option`);
  if (name === 'postgres' || options === undefined) return;
  const o = options as SqliteStoreOptions & DuckDBStoreOptions;
  if (o.busyTimeoutMs !== undefined) {
    checkMs('storeOptions.busyTimeoutMs', o.busyTimeoutMs, 0, MAX_TIMER_MS);
  }
  if (o.migrations !== undefined && !Array.isArray(o.migrations)) {
    throw new InvalidOptionError(
      'storeOptions.migrations',
      `expected an array of { name, sql }, got ${describe(o.migrations)}`,
    );
  }
  if (o.existingOnly !== undefined) {
    checkBoolean('storeOptions.existingOnly', o.existingOnly);
  }
  if (
    o.duckdb !== undefined &&
    (typeof o.duckdb !== 'object' || o.duckdb === null || Array.isArray(o.duckdb))
  ) {
    throw new InvalidOptionError(
      'storeOptions.duckdb',
      "expected DuckDB settings such as { threads: '1' }, got " +
        describe(o.duckdb),
    );
  }
}
