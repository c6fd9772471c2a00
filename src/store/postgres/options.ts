// Options of the PostgreSQL store, their defaults, and the checks that
// turn a bad value into a PostgresOptionError naming it.

import type { SqlMigration } from '../sqlite-migrations.js';
import type { StoreOptions } from '../types.js';
import { PostgresOptionError } from './errors.js';

export interface PostgresStoreOptions extends StoreOptions {
  /**
   * libpq-style URL, e.g. 'postgres://user:pass@db.internal:5432/jobs'.
   * Takes the place of the `location` argument when given. One of the two
   * is required.
   */
  connectionString?: string;
  /**
   * Schema that holds the queue's tables; created if missing. Several
   * independent queues can share a database, one schema each. Lower-case
   * letters, digits and '_', starting with a letter or '_', at most 48
   * characters. Default 'duckqueue'.
   */
  schema?: string;
  /** Connections this store keeps open at most. Default 10. */
  poolSize?: number;
  /**
   * Send a notification when jobs become ready, so idle workers blocked in
   * waitForJobs() wake at once instead of polling. Default true.
   */
  notify?: boolean;
  /**
   * How long opening a connection may take, in ms, before it fails with
   * PostgresConnectError. Default 10_000.
   */
  connectTimeoutMs?: number;
  /**
   * Name shown in pg_stat_activity for this store's connections, so an
   * operator can tell queue traffic apart. Default 'duckqueue'.
   */
  applicationName?: string;
  /**
   * How long a statement waits for a lock another session holds, in ms
   * (PostgreSQL's lock_timeout). Claims never wait: they skip locked rows.
   * Default: no limit.
   */
  busyTimeoutMs?: number;
  /**
   * Extra migrations run after the core ones (e.g. DAG tables), in
   * PostgreSQL SQL, with the store's schema first on the search path.
   * Default none.
   */
  migrations?: readonly SqlMigration[];
  /**
   * Refuse a schema that holds no job queue yet instead of creating it
   * (readers such as `duckqueue stats` and `export`). Default false.
   */
  existingOnly?: boolean;
}

export interface ResolvedPostgresOptions {
  connectionString: string;
  schema: string;
  poolSize: number;
  notify: boolean;
  connectTimeoutMs: number;
  applicationName: string;
  busyTimeoutMs: number | null;
  migrations: readonly SqlMigration[];
  existingOnly: boolean;
}

export const POSTGRES_DEFAULTS = {
  schema: 'duckqueue',
  poolSize: 10,
  notify: true,
  connectTimeoutMs: 10_000,
  applicationName: 'duckqueue',
} as const;

const OPTION_NAMES: readonly (keyof PostgresStoreOptions)[] = [
  'connectionString',
  'schema',
  'poolSize',
  'notify',
  'connectTimeoutMs',
  'applicationName',
  'busyTimeoutMs',
  'migrations',
  'existingOnly',
];

// Plain identifiers need no quoting anywhere (SQL, the search_path startup
// option, notification payloads). 48 leaves room for prefixes within
// PostgreSQL's 63-byte identifier limit.
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,47}$/;

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new PostgresOptionError(
      name,
      `expected a whole number of at least 1, got ${String(value)}`,
    );
  }
  return value;
}

export function resolvePostgresOptions(
  location: string,
  options: PostgresStoreOptions,
): ResolvedPostgresOptions {
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) {
      throw new PostgresOptionError(
        key,
        `unknown option; valid options are ${OPTION_NAMES.join(', ')}`,
      );
    }
  }
  const connectionString = options.connectionString ?? location;
  if (typeof connectionString !== 'string' || connectionString === '') {
    throw new PostgresOptionError(
      'connectionString',
      'no connection string: pass one as the location or as ' +
        "connectionString, e.g. 'postgres://user@host:5432/db'",
    );
  }
  if (!/^postgres(ql)?:\/\//.test(connectionString)) {
    throw new PostgresOptionError(
      'connectionString',
      `'${redact(connectionString)}' is not a postgres:// or ` +
        'postgresql:// URL',
    );
  }
  const schema = options.schema ?? POSTGRES_DEFAULTS.schema;
  if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
    throw new PostgresOptionError(
      'schema',
      `'${String(schema)}' is not allowed: use lower-case letters, digits ` +
        "and '_', starting with a letter or '_', at most 48 characters",
    );
  }
  const notify = options.notify ?? POSTGRES_DEFAULTS.notify;
  if (typeof notify !== 'boolean') {
    throw new PostgresOptionError(
      'notify',
      `expected true or false, got ${String(notify)}`,
    );
  }
  const applicationName =
    options.applicationName ?? POSTGRES_DEFAULTS.applicationName;
  if (typeof applicationName !== 'string' || applicationName.length > 63) {
    throw new PostgresOptionError(
      'applicationName',
      'expected a string of at most 63 characters',
    );
  }
  const migrations = options.migrations ?? [];
  if (!Array.isArray(migrations)) {
    throw new PostgresOptionError(
      'migrations',
      'expected an array of { name, sql }',
    );
  }
  if (
    options.existingOnly !== undefined &&
    typeof options.existingOnly !== 'boolean'
  ) {
    throw new PostgresOptionError(
      'existingOnly',
      `expected true or false, got ${String(options.existingOnly)}`,
    );
  }
  return {
    existingOnly: options.existingOnly ?? false,
    connectionString,
    schema,
    poolSize: positiveInteger(
      'poolSize',
      options.poolSize ?? POSTGRES_DEFAULTS.poolSize,
    ),
    notify,
    connectTimeoutMs: positiveInteger(
      'connectTimeoutMs',
      options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
    ),
    applicationName,
    busyTimeoutMs:
      options.busyTimeoutMs === undefined
        ? null
        : positiveInteger('busyTimeoutMs', options.busyTimeoutMs),
    migrations,
  };
}

/** The connection target without its password, for messages. */
export function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
    return `${user}${url.host}${url.pathname}`;
  } catch {
    return connectionString.replace(/:[^:@/]*@/, ':***@');
  }
}
