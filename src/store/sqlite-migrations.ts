// The SQLite schema, as an ordered list of named migrations. Applied names
// are recorded in `duckqueue_migrations`; a migration never changes once
// released: add a new one instead. Features that need their own tables
// (e.g. DAGs) pass extra migrations with their own name prefix.

export interface SqlMigration {
  /** Unique, stable name, e.g. 'core-001-jobs'. */
  name: string;
  /** SQL run once, inside the migration transaction. */
  sql: string;
}

export const sqliteCoreMigrations: readonly SqlMigration[] = [
  {
    name: 'core-001-jobs',
    sql: `
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        queue TEXT NOT NULL,
        -- 'pending' covers delayed too: run_at in the future means delayed.
        status TEXT NOT NULL CHECK (status IN
          ('pending', 'claimed', 'done', 'failed', 'dead')),
        payload BLOB NOT NULL,
        format TEXT NOT NULL,
        fn_name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        timeout_ms INTEGER,
        run_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        claimed_at INTEGER,
        claimed_by TEXT,
        claim_expires_at INTEGER,
        finished_at INTEGER,
        result BLOB,
        error_name TEXT,
        error_message TEXT,
        error_stack TEXT,
        error_value BLOB
      );
      -- Claim order; partial so it only holds jobs that can be claimed.
      CREATE INDEX jobs_ready ON jobs (queue, priority DESC, run_at, id)
        WHERE status = 'pending';
      -- Finding lapsed claims.
      CREATE INDEX jobs_claim_expiry ON jobs (claim_expires_at)
        WHERE status = 'claimed';
      -- Stats and purges of finished jobs. Waiting and claimed jobs are
      -- counted through the two indexes above, so inserts and claims
      -- write one index page fewer.
      CREATE INDEX jobs_finished ON jobs (status, queue, finished_at)
        WHERE status IN ('done', 'failed', 'dead');
    `,
  },
];
