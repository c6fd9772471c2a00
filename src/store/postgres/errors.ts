// Errors the PostgreSQL store raises. Each names the bad value or the
// failed operation and says what to do; callers branch on the class or on
// `code`. This module imports nothing, so re-exporting it does not load pg.

export class PostgresStoreError extends Error {
  readonly code: string = 'PG_STORE_ERROR';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option of the PostgreSQL store that is missing, unknown or invalid. */
export class PostgresOptionError extends PostgresStoreError {
  override readonly code = 'PG_STORE_OPTION';
  constructor(
    /** Name of the option, e.g. 'schema'. */
    readonly option: string,
    message: string,
  ) {
    super(`postgres store option '${option}': ${message}`);
  }
}

/** The server could not be reached or refused the connection at open. */
export class PostgresConnectError extends PostgresStoreError {
  override readonly code = 'PG_STORE_CONNECT';
  constructor(
    /** The target with any password removed, e.g. 'postgres@host:5432/db'. */
    readonly target: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot connect to PostgreSQL at ${target}: ${reason}. Check that ` +
        'the server is running and reachable from this machine, and that ' +
        'the connection string names the right host, port, user and ' +
        'database.',
      options,
    );
  }
}

/**
 * The connection dropped while a write was in flight and the write cannot
 * be repeated safely, so whether it took effect is unknown. For enqueue:
 * look the job up (e.g. by listing the queue) before enqueueing it again.
 */
export class PostgresConnectionLostError extends PostgresStoreError {
  override readonly code = 'PG_STORE_CONNECTION_LOST';
  constructor(
    /** The store method that was running, e.g. 'enqueueMany'. */
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(
      `the connection to PostgreSQL was lost during ${operation}(); the ` +
        'change may or may not have been saved. Check the queue before ' +
        'repeating it.',
      options,
    );
  }
}

/** The 'pg' driver package is not installed next to duckqueue. */
export class PostgresDriverMissingError extends PostgresStoreError {
  override readonly code = 'PG_STORE_DRIVER_MISSING';
  constructor(options?: { cause?: unknown }) {
    super(
      "store: 'postgres' needs the 'pg' package, which is not installed. " +
        'Install it in your project (npm install pg@8), or use ' +
        "store: 'sqlite' on a single machine.",
      options,
    );
  }
}
