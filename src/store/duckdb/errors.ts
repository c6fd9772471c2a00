// Errors raised when a DuckDB store cannot be opened. They carry the file
// and say what to do instead; callers branch on the class or `code`.
// This module imports nothing, so re-exporting it does not load DuckDB.

export class DuckDBStoreError extends Error {
  readonly code: string = 'DUCKDB_STORE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Another process has the DuckDB file open. DuckDB lets exactly one process
 * write a database file; a second one is refused, never queued behind it.
 */
export class StoreLockedError extends DuckDBStoreError {
  override readonly code = 'STORE_LOCKED';
  constructor(
    readonly location: string,
    /** The process holding the file, when DuckDB reports it. */
    readonly holderPid: number | null,
    options?: { cause?: unknown },
  ) {
    const holder = holderPid === null ? 'another process' : `process ${holderPid}`;
    super(
      `DuckDB file '${location}' is already open in ${holder}. DuckDB ` +
        'allows one process per database file, so a second queue or ' +
        'worker process cannot share it. Run the queue and its workers in ' +
        "one process (one DuckQueue, a Worker with more concurrency), or use " +
        "store: 'sqlite' for several processes on one machine or " +
        "store: 'postgres' for several machines.",
      options,
    );
  }
}

/** The file exists but is not a DuckDB database this driver can open. */
export class StoreFileError extends DuckDBStoreError {
  override readonly code = 'STORE_FILE_INVALID';
  constructor(
    readonly location: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot open '${location}' as a DuckDB job store: ${reason}`, options);
  }
}
