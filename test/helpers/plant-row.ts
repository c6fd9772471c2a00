// What anyone who can write the SQLite file can do: INSERT a job row with
// any payload and any format, behind the queue's back.

import Database from 'better-sqlite3';

export function plantRow(
  file: string,
  payload: Uint8Array,
  format: string,
  options: { priority?: number; maxAttempts?: number } = {},
): string {
  const db = new Database(file);
  try {
    const now = Date.now();
    const info = db
      .prepare(
        `INSERT INTO jobs (queue, status, payload, format, fn_name, priority,
           max_attempts, run_at, created_at, updated_at)
         VALUES ('default', 'pending', ?, ?, 'planted', ?, ?, ?, ?, ?)`,
      )
      .run(
        Buffer.from(payload),
        format,
        options.priority ?? 50,
        options.maxAttempts ?? 3,
        now,
        now,
        now,
      );
    return String(info.lastInsertRowid);
  } finally {
    db.close();
  }
}
