// `duckqueue export <db> [--format parquet|csv] [--out file]
//   [--status done,...|finished|all] [--queue q] [--store name] [--blobs]`
//
// Writes a store's jobs to a Parquet or CSV file for analysis. The store
// kind is read from the file's first bytes (or a postgres:// URL) unless
// --store names it.

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { explainArgsError } from '../cli-args.js';
import {
  EXPORT_FORMATS,
  ExportError,
  exportJobs,
  parseStatuses,
  type ExportFormat,
} from './export.js';
import { StoreFileError } from './duckdb/errors.js';
import { STORE_NAMES, type StoreName } from './index.js';
import { StoreLocationError } from './location.js';
import { openExistingStore } from './open-existing.js';
import type { Store } from './types.js';

const USAGE = `usage: duckqueue export <db> [options]
  <db>                 SQLite or DuckDB file, or a postgres:// URL
  --format <f>         parquet (default) or csv
  --out <file>         output file (default: next to <db>, <name>.<format>)
  --status <list>      done,failed,dead,... | finished (default) | all
  --queue <name>       only this queue
  --store <name>       sqlite | duckdb | postgres (default: detected)
  --blobs              also export payload and result bytes`;

const OPTIONS = {
  format: { type: 'string' },
  out: { type: 'string' },
  status: { type: 'string' },
  queue: { type: 'string' },
  store: { type: 'string' },
  blobs: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which store kind a location holds. */
export function detectStore(location: string): StoreName {
  if (/^postgres(ql)?:\/\//i.test(location)) return 'postgres';
  if (!existsSync(location)) {
    throw new ExportError(
      `no database at '${location}': give the path of an existing SQLite ` +
        'or DuckDB file, or a postgres:// URL',
    );
  }
  const head = Buffer.alloc(16);
  const fd = openSync(location, 'r');
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.subarray(0, 15).toString('latin1') === 'SQLite format 3') {
    return 'sqlite';
  }
  if (head.subarray(8, 12).toString('latin1') === 'DUCK') return 'duckdb';
  throw new ExportError(
    `'${location}' is neither a SQLite nor a DuckDB database; pass ` +
      '--store to say which store it is',
  );
}

/** A location fit for a log line: a URL loses its password. */
function shown(location: string): string {
  if (!/^postgres(ql)?:\/\//i.test(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'the PostgreSQL server';
  }
}

/** Open a store that must already hold a queue; never create one. */
async function openExisting(kind: StoreName, db: string): Promise<Store> {
  try {
    return await openExistingStore(kind, db);
  } catch (err) {
    if (err instanceof StoreLocationError) throw new ExportError(err.message);
    throw err;
  }
}

function defaultOut(db: string, store: StoreName, format: ExportFormat) {
  if (store === 'postgres') return resolve(`jobs.${format}`);
  const name = basename(db, extname(db));
  return join(dirname(resolve(db)), `${name}.${format}`);
}

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (err) {
    const names = Object.keys(OPTIONS).map((n) => `--${n}`).join(', ');
    const problem = explainArgsError(err, argv, OPTIONS);
    throw new ExportError(`${problem}. Options: ${names}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  if (positionals.length !== 1) {
    throw new ExportError(
      positionals.length === 0
        ? 'name the database to export'
        : `expected one database, got ${positionals.length}: ` +
            positionals.join(' '),
    );
  }
  const db = positionals[0]!;
  const format = (values.format ?? 'parquet') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) {
    throw new ExportError(
      `--format '${values.format}' is not supported: use parquet or csv`,
    );
  }
  let store: StoreName;
  if (values.store !== undefined) {
    if (!(STORE_NAMES as readonly string[]).includes(values.store)) {
      throw new ExportError(
        `--store '${values.store}' is not a store: use ` +
          STORE_NAMES.join(', '),
      );
    }
    store = values.store as StoreName;
    if (store !== 'postgres' && !existsSync(db)) {
      throw new ExportError(`no database at '${db}'`);
    }
  } else {
    store = detectStore(db);
  }
  const out = values.out ?? defaultOut(db, store, format);
  if (resolve(out) === resolve(db)) {
    throw new ExportError(
      `--out '${out}' is the database itself; choose another file`,
    );
  }
  // Like a shell redirect: a missing directory is a typo, not a request.
  if (!existsSync(dirname(resolve(out)))) {
    throw new ExportError(
      `--out '${out}': the directory ${dirname(resolve(out))} does not ` +
        'exist; create it first or choose another path',
    );
  }
  return {
    db,
    store,
    format,
    out,
    statuses: parseStatuses(values.status ?? 'finished'),
    queue: values.queue,
    blobs: values.blobs ?? false,
  };
}

export async function run(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof ExportError)) throw err;
    console.error(`duckqueue export: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (!args) {
    console.log(USAGE);
    return 0;
  }
  let store: Store;
  try {
    store = await openExisting(args.store, args.db);
  } catch (err) {
    const bad = err instanceof ExportError || err instanceof StoreFileError;
    console.error(`duckqueue export: ${(err as Error).message}`);
    return bad ? 2 : 1;
  }
  try {
    const summary = await exportJobs(store, {
      format: args.format,
      out: args.out,
      statuses: args.statuses,
      ...(args.queue === undefined ? {} : { queue: args.queue }),
      blobs: args.blobs,
    });
    const parts = Object.entries(summary.byStatus).map(([s, n]) => `${s} ${n}`);
    console.log(
      `exported ${summary.rows} job${summary.rows === 1 ? '' : 's'}` +
        (parts.length ? ` (${parts.join(', ')})` : '') +
        ` from ${shown(args.db)} (${args.store}) to ${summary.out}`,
    );
    if (summary.rowsWithNotes > 0) {
      console.log(
        `${summary.rowsWithNotes} row${summary.rowsWithNotes === 1 ? '' : 's'} ` +
          'held values that do not fit their column (written by hand?): ' +
          'those cells are NULL and the row_note column says what they held',
      );
    }
    return 0;
  } catch (err) {
    if (!(err instanceof ExportError)) throw err;
    console.error(`duckqueue export: ${err.message}`);
    return 2;
  } finally {
    await store.close();
  }
}
