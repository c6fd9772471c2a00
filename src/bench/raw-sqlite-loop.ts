// The queue loop done with raw better-sqlite3 statements: the same table
// (the SQLite store's own migrations), the same pragmas, one INSERT per
// enqueue, one UPDATE ... RETURNING per claim, one UPDATE per ack, no
// serialization. It is the limit the queue is measured against.

import Database from 'better-sqlite3';
import { sqliteCoreMigrations } from '../store/sqlite-migrations.js';

export interface RawLoop {
  /** Enqueues `jobs` rows, then claims, runs and acks them one by one. */
  run(jobs: number, job: () => void): number;
  close(): void;
}

export function openRawSqliteLoop(file: string, payload: Uint8Array): RawLoop {
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
    WHERE id = (SELECT id FROM jobs
      WHERE queue = 'default' AND status = 'pending' AND run_at <= @now
      ORDER BY priority DESC, run_at, id LIMIT 1)
    RETURNING id, payload`);
  const ack = db.prepare(`UPDATE jobs SET status = 'done', result = NULL,
    finished_at = @now, updated_at = @now, claim_expires_at = NULL
    WHERE id = @id AND status = 'claimed'`);
  return {
    run(jobs, job) {
      for (let i = 0; i < jobs; i++) {
        const now = Date.now();
        insert.run(payload, now, now, now);
      }
      let done = 0;
      for (;;) {
        const now = Date.now();
        const row = claim.get({ now }) as { id: number } | undefined;
        if (!row) break;
        job();
        ack.run({ id: row.id, now: Date.now() });
        done += 1;
      }
      return done;
    },
    close() {
      db.close();
    },
  };
}
