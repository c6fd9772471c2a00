// Bulk insert of jobs through DuckDB's appender, which loads columns in
// bulk instead of planning an INSERT per row. Ids come from the job
// sequence, reserved in one query, so callers learn them in input order.

import type { NewJobRow } from '../types.js';
import type { SharedDatabase } from './database.js';

/** Columns of `jobs` the appender fills, in table order. */
const APPENDED_COLUMNS = 22;

const RESERVE_IDS = `SELECT nextval('duckqueue_job_ids') AS id
  FROM range($count) ORDER BY id`;

/**
 * Insert `jobs` as pending and return their ids in input order. Call
 * inside db.transaction(): the rows and the ids commit together or not
 * at all.
 */
export async function appendJobs(
  db: SharedDatabase,
  jobs: readonly NewJobRow[],
): Promise<bigint[]> {
  if (jobs.length === 0) return [];
  const rows = await db.all(RESERVE_IDS, { count: jobs.length });
  const ids = rows.map((r) => r[0] as bigint);
  const appender = await db.connection.createAppender('jobs');
  try {
    const extra = appender.columnCount - APPENDED_COLUMNS;
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]!;
      appender.appendBigInt(ids[i]!);
      appender.appendVarchar(j.queue);
      appender.appendVarchar('pending');
      appender.appendBlob(j.payload);
      appender.appendVarchar(j.format);
      appender.appendVarchar(j.fnName);
      appender.appendInteger(j.priority);
      appender.appendInteger(0);
      appender.appendInteger(j.maxAttempts);
      if (j.timeoutMs === null) appender.appendNull();
      else appender.appendBigInt(BigInt(j.timeoutMs));
      appender.appendBigInt(BigInt(j.runAt));
      appender.appendBigInt(BigInt(j.createdAt));
      appender.appendBigInt(BigInt(j.createdAt));
      // claimed_at .. error_value start empty.
      for (let k = 0; k < 9; k++) appender.appendNull();
      // Columns later migrations added take their defaults.
      for (let k = 0; k < extra; k++) appender.appendDefault();
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return ids;
}
