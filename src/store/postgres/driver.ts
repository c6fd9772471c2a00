// Loads the 'pg' driver on first use. It is an optional peer dependency:
// users of the SQLite or DuckDB stores never install or load it, and a
// PostgreSQL user without it gets an error that says what to install.

import type pg from 'pg';
import { PostgresDriverMissingError } from './errors.js';

export type PgDriver = typeof pg;

let loaded: Promise<PgDriver> | undefined;

export function loadDriver(): Promise<PgDriver> {
  loaded ??= import('pg').then(
    (mod) => mod.default,
    (err: unknown) => {
      loaded = undefined;
      const code = (err as { code?: unknown }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && String(err).includes("'pg'")) {
        throw new PostgresDriverMissingError({ cause: err });
      }
      throw err;
    },
  );
  return loaded;
}
