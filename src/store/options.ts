// The options each shipped store takes, and the check openStore() runs on
// `storeOptions` before loading a backend: an unknown key (a typo such as
// `busyTimeout`) or a wrongly typed value is an InvalidOptionError that
// names it, instead of being ignored. The PostgreSQL store checks the
// shape of its values itself (./postgres/options.ts); the ranges it
// would only find out about after connecting are checked here.

import { InvalidOptionError } from '../queue/errors.js';
import {
  checkBoolean,
  checkKnownKeys,
  checkMs,
  checkWholeNumber,
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
  existingOnly: true,
};

/** More connections than any PostgreSQL server accepts by default. */
const MAX_POOL_SIZE = 1_000;

/** Every option each store takes, by store name. */
export const STORE_OPTION_NAMES: Readonly<Record<string, readonly string[]>> = {
  sqlite: Object.keys(SQLITE),
  duckdb: Object.keys(DUCKDB),
  postgres: Object.keys(POSTGRES),
};

/**
 * Refuse options the store `name` does not take, and values of the wrong
 * type or out of range, before anything is opened or connected. Names
 * that are not stores are left to the caller.
 */
export function checkStoreOptions(name: string, options: unknown): void {
  const known = STORE_OPTION_NAMES[name];
  if (known === undefined) return;
  checkKnownKeys('storeOptions', options, known, `${name} store option`);
  if (options === undefined) return;
  const o = options as SqliteStoreOptions &
    DuckDBStoreOptions &
    PostgresStoreOptions;
  if (o.busyTimeoutMs !== undefined) {
    // PostgreSQL's lock_timeout is 1 ms at least (0 would mean no limit).
    const min = name === 'postgres' ? 1 : 0;
    checkMs('storeOptions.busyTimeoutMs', o.busyTimeoutMs, min, MAX_TIMER_MS);
  }
  if (o.migrations !== undefined) checkMigrations(o.migrations);
  if (name === 'postgres') {
    checkPostgresOptions(o);
    return;
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

function checkMigrations(migrations: unknown): void {
  if (!Array.isArray(migrations)) {
    throw new InvalidOptionError(
      'storeOptions.migrations',
      `expected an array of { name, sql }, got ${describe(migrations)}`,
    );
  }
  for (let i = 0; i < migrations.length; i++) {
    const m: unknown = migrations[i];
    const where = `storeOptions.migrations[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      throw new InvalidOptionError(
        where,
        `expected { name, sql }, got ${i in migrations ? describe(m) : 'a hole'}`,
      );
    }
    checkKnownKeys(where, m, ['name', 'sql']);
    const { name, sql } = m as { name?: unknown; sql?: unknown };
    if (typeof name !== 'string' || name.trim() === '') {
      throw new InvalidOptionError(
        `${where}.name`,
        'expected a non-empty, stable name (it is recorded once the ' +
          `migration has run), got ${describe(name)}`,
      );
    }
    if (typeof sql !== 'string' || sql.trim() === '') {
      throw new InvalidOptionError(
        `${where}.sql`,
        `expected the SQL to run, got ${describe(sql)}`,
      );
    }
  }
}

/**
 * Values the PostgreSQL store would only trip over after connecting (or
 * never: a timeout past 2^31-1 ms fires at once). Its own checks
 * (./postgres/options.ts) cover shapes such as the schema pattern.
 */
function checkPostgresOptions(o: PostgresStoreOptions): void {
  if (o.connectTimeoutMs !== undefined) {
    checkMs('storeOptions.connectTimeoutMs', o.connectTimeoutMs, 1, MAX_TIMER_MS);
  }
  if (o.poolSize !== undefined) {
    checkWholeNumber('storeOptions.poolSize', o.poolSize, 1, MAX_POOL_SIZE);
  }
  const app = o.applicationName;
  if (app !== undefined) {
    // PostgreSQL sends it in the startup packet as a C string and keeps
    // only printable ASCII of it; anything else would be cut or mangled.
    if (typeof app !== 'string' || !/^[\x20-\x7e]{0,63}$/.test(app)) {
      throw new InvalidOptionError(
        'storeOptions.applicationName',
        'expected at most 63 printable ASCII characters (no NUL or ' +
          `control characters), got ${describe(app)}`,
      );
    }
  }
  const schema = o.schema;
  if (
    typeof schema === 'string' &&
    (schema === 'information_schema' || schema.startsWith('pg_'))
  ) {
    throw new InvalidOptionError(
      'storeOptions.schema',
      `${describe(schema)} is reserved by PostgreSQL for its own catalogs; ` +
        "name a schema of your own, e.g. 'duckqueue' (the default)",
    );
  }
}
