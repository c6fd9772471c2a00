// The DuckDB schema, as an ordered list of named migrations recorded in
// `duckqueue_migrations`. Same table shape and names as the SQLite store,
// so exports and reports read both alike. A released migration never
// changes: add a new one. Features with their own tables (e.g. DAGs) pass
// extra migrations through the store's `migrations` option.

import type { SqlMigration } from '../sqlite-migrations.js';

export type { SqlMigration };

export const duckdbCoreMigrations: readonly SqlMigration[] = [
  {
    name: 'core-001-jobs',
    // Only the primary key is indexed. DuckDB's ART indexes serve point
    // lookups, not ORDER BY, and every index makes each status UPDATE
    // slower; a claim scans the columns it filters on, which DuckDB does
    // quickly column by column.
    sql: `
      CREATE SEQUENCE duckqueue_job_ids START 1;
      CREATE TABLE jobs (
        id BIGINT PRIMARY KEY,
        queue VARCHAR NOT NULL,
        -- 'pending' covers delayed too: run_at in the future means delayed.
        status VARCHAR NOT NULL CHECK (status IN
          ('pending', 'claimed', 'done', 'failed', 'dead')),
        payload BLOB NOT NULL,
        format VARCHAR NOT NULL,
        fn_name VARCHAR NOT NULL,
        priority INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        timeout_ms BIGINT,
        run_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        claimed_at BIGINT,
        claimed_by VARCHAR,
        claim_expires_at BIGINT,
        finished_at BIGINT,
        result BLOB,
        error_name VARCHAR,
        error_message VARCHAR,
        error_stack VARCHAR,
        error_value BLOB
      );
    `,
  },
];
