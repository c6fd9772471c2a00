// One open DuckDB database file per process, shared by every store that
// opens it, with every statement run one at a time on one connection.
//
// Why share: DuckDB's file lock only keeps OTHER processes out. Two
// DuckDBInstance objects on the same file inside one process both open it
// and each sees its own copy of the data, which loses writes. So stores on
// the same path reuse one instance.
//
// Why one connection, one statement at a time: DuckDB transactions are
// optimistic, so two connections claiming the same row make one of them
// fail with a conflict. Running statements in turn makes every claim
// atomic without retries, and lets BEGIN ... COMMIT span several awaits.

import { DuckDBInstance } from '@duckdb/node-api';
import type {
  DuckDBConnection,
  DuckDBPreparedStatement,
  DuckDBValue,
} from '@duckdb/node-api';
import { closeSync, existsSync, openSync, readSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkStoreDirectory } from '../location.js';
import { StoreFileError, StoreLockedError } from './errors.js';

/** Values a statement parameter may take. */
export type Param = string | number | bigint | boolean | Uint8Array | null;
export type Params = Record<string, Param | undefined>;
export type Row = DuckDBValue[];

/** DuckDB settings applied at open (names as in duckdb_settings()). */
export type DuckDBConfig = Record<string, string>;

// Settings every store database gets. Extension auto-install would try the
// network when DuckDB meets a file it does not recognise (e.g. SQLite).
const BASE_CONFIG: DuckDBConfig = {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
};

const open = new Map<string, SharedDatabase>();

export class SharedDatabase {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, PreparedStatement>();
  private users = 1;

  private constructor(
    readonly key: string,
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** Open `location`, or join the store that already has it open. */
  static async acquire(
    location: string,
    config: DuckDBConfig = {},
  ): Promise<SharedDatabase> {
    const key = location === ':memory:' ? '' : canonicalPath(location);
    const existing = key ? open.get(key) : undefined;
    if (existing) {
      existing.users++;
      return existing;
    }
    if (key) checkFile(location, key);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(key || ':memory:', {
        ...BASE_CONFIG,
        ...config,
      });
    } catch (err) {
      throw translateOpenError(location, err);
    }
    // Another acquire may have finished while this one awaited.
    const raced = key ? open.get(key) : undefined;
    if (raced) {
      instance.closeSync();
      raced.users++;
      return raced;
    }
    const db = new SharedDatabase(key, instance, await instance.connect());
    if (key) open.set(key, db);
    return db;
  }

  /** Run `fn` once every earlier call has settled. */
  exclusive<T>(fn: (db: this) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => fn(this));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Run `fn` inside BEGIN ... COMMIT, rolling back if it throws. */
  transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.connection.run('BEGIN TRANSACTION');
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        await this.connection.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      await this.connection.run('COMMIT');
      return result;
    });
  }

  /** A prepared statement, prepared on first use and kept until close. */
  async statement(sql: string): Promise<PreparedStatement> {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = new PreparedStatement(await this.connection.prepare(sql));
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Rows of a statement. Call only inside exclusive()/transaction(). */
  async all(sql: string, params: Params = {}): Promise<Row[]> {
    const stmt = await this.statement(sql);
    const reader = await stmt.bind(params).runAndReadAll();
    return reader.getRows();
  }

  /** Rows changed by a statement. Call only inside exclusive(). */
  async change(sql: string, params: Params = {}): Promise<number> {
    const stmt = await this.statement(sql);
    const result = await stmt.bind(params).run();
    return Number(result.rowsChanged);
  }

  /** Give up this store's share; the last one out closes the file. */
  async release(): Promise<void> {
    if (--this.users > 0) return;
    if (this.key) open.delete(this.key);
    await this.exclusive(async () => {
      for (const stmt of this.statements.values()) stmt.destroy();
      this.statements.clear();
      // Fold the write-ahead log into the file so it is complete on its own.
      if (this.key) await this.connection.run('CHECKPOINT').catch(() => {});
      this.connection.closeSync();
      this.instance.closeSync();
    });
  }
}

/** A prepared statement whose parameters are bound by name. */
export class PreparedStatement {
  private readonly names: string[];

  constructor(private readonly stmt: DuckDBPreparedStatement) {
    this.names = [];
    for (let i = 1; i <= stmt.parameterCount; i++) {
      this.names.push(stmt.parameterName(i));
    }
  }

  bind(params: Params): DuckDBPreparedStatement {
    const stmt = this.stmt;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      const value = params[name];
      const index = i + 1;
      if (value === null) stmt.bindNull(index);
      else if (typeof value === 'number') bindNumber(stmt, index, value);
      else if (typeof value === 'string') stmt.bindVarchar(index, value);
      else if (typeof value === 'bigint') stmt.bindBigInt(index, value);
      else if (typeof value === 'boolean') stmt.bindBoolean(index, value);
      else if (value instanceof Uint8Array) stmt.bindBlob(index, value);
      else throw new TypeError(`no value for statement parameter $${name}`);
    }
    return stmt;
  }

  destroy(): void {
    this.stmt.destroySync();
  }
}

function bindNumber(stmt: DuckDBPreparedStatement, i: number, n: number) {
  if (Number.isSafeInteger(n)) stmt.bindBigInt(i, BigInt(n));
  else stmt.bindDouble(i, n);
}

function canonicalPath(location: string): string {
  const full = resolve(location);
  if (!existsSync(full)) {
    checkStoreDirectory(location, 'DuckDB');
    return full;
  }
  return realpathSync(full);
}

// Refuse files that are plainly something else before DuckDB looks at
// them: it would try to load an extension to read a SQLite file.
function checkFile(location: string, path: string): void {
  if (!existsSync(path)) return;
  const head = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (n === 0) return;
  if (head.subarray(0, 15).toString('latin1') === 'SQLite format 3') {
    throw new StoreFileError(
      location,
      "it is a SQLite database. Open it with store: 'sqlite', or give the " +
        'DuckDB store a new file name',
    );
  }
  if (n < 12 || head.subarray(8, 12).toString('latin1') !== 'DUCK') {
    throw new StoreFileError(
      location,
      'the file exists but is not a DuckDB database. Point the store at a ' +
        'new path or an existing DuckDB file',
    );
  }
}

function translateOpenError(location: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/Could not set lock on file/i.test(message)) {
    const pid = /\(PID (\d+)\)/.exec(message);
    return new StoreLockedError(location, pid ? Number(pid[1]) : null, {
      cause: err,
    });
  }
  const unreadable = /not a valid DuckDB database|version number|Cannot open file/i;
  if (unreadable.test(message)) {
    return new StoreFileError(location, message, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}
