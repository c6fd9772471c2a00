// The queue loop done with raw better-sqlite3 statements: the same table
// (the SQLite store's own migrations), the same pragmas and the same
// batching the worker uses (one INSERT per enqueue; claims of up to
// `claimBatch` rows with one UPDATE ... RETURNING; the acks of a batch in
// one transaction), with no serialization, events or bookkeeping. It is
// the limit the queue is measured against.

import Database from 'better-sqlite3';
import { sqliteCoreMigrations } from '../store/sqlite-migrations.js';

export interface RawLoop {
  /** Enqueues `jobs` rows, then claims, runs and acks them all. */
  run(jobs: number, job: () => void): number;
  close(): void;
}

export function openRawSqliteLoop(
  file: string,
  payload: Uint8Array,
  claimBatch: number,
): RawLoop {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  for (const migration of sqliteCoreMigrations) db.exec(migration.sql);
  const insert = db.prepare(`INSERT INTO jobs (queue, status, payload,
    format, fn_name, priority, max_attempts, timeout_ms, run_at,
    created_at, updated_at)
    VALUES ('default', 'pending', ?, 'v8', 'noopJob', 50, 3, NULL, ?, ?, ?)`);
  const claim = db.prepare(`UPDATE jobs SET status = 'claimed',
    attempts = attempts + 1, claimed_at = @now, claimed_by = 'raw',
    claim_expires_at = @now + 30000, updated_at = @now
    WHERE id IN (SELECT id FROM jobs
      WHERE queue = 'default' AND status = 'pending' AND run_at <= @now
      ORDER BY priority DESC, run_at, id LIMIT @max)
    RETURNING id, payload`);
  const ack = db.prepare(`UPDATE jobs SET status = 'done', result = NULL,
    finished_at = @now, updated_at = @now, claim_expires_at = NULL
    WHERE id = @id AND status = 'claimed'`);
  const ackAll = db.transaction((ids: number[], now: number) => {
    for (const id of ids) ack.run({ id, now });
  });
  return {
    run(jobs, job) {
      for (let i = 0; i < jobs; i++) {
        const now = Date.now();
        insert.run(payload, now, now, now);
      }
      let done = 0;
      for (;;) {
        const rows = claim.all({ now: Date.now(), max: claimBatch }) as Array<{
          id: number;
        }>;
        if (rows.length === 0) break;
        for (let i = 0; i < rows.length; i++) job();
        ackAll(
          rows.map((r) => r.id),
          Date.now(),
        );
        done += rows.length;
      }
      return done;
    },
    close() {
      db.close();
    },
  };
}
