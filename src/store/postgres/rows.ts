// Turning rows as the pg driver returns them into the Store's JobRow, and
// the column list every job-returning statement selects.

import type { ErrorRow, JobRow, JobStatus } from '../types.js';
import { errorFromColumns } from '../error-columns.js';

/**
 * A job row as pg returns it. BIGINT columns arrive as strings: the driver
 * will not guess whether they fit a JavaScript number. Ids stay strings;
 * times (epoch ms) fit a double exactly and become numbers.
 */
export interface PgJob {
  id: string;
  queue: string;
  status: JobStatus;
  payload: Buffer;
  format: string;
  fn_name: string;
  priority: number;
  attempts: number;
  max_attempts: number;
  timeout_ms: string | null;
  run_at: string;
  created_at: string;
  updated_at: string;
  claimed_at: string | null;
  claimed_by: string | null;
  claim_expires_at: string | null;
  finished_at: string | null;
  result: Buffer | null;
  error_name: string | null;
  error_message: string | null;
  error_stack: string | null;
  error_value: Buffer | null;
}

/**
 * The status a reader sees: a stored 'pending' whose run time is still
 * ahead is 'delayed'. `now` is the SQL expression holding the caller's
 * clock, e.g. '$1'.
 */
export function shownStatus(now: string): string {
  return `CASE WHEN status = 'pending' AND run_at > ${now}
    THEN 'delayed' ELSE status END`;
}

/** Every column of a job, with the status as a reader sees it. */
export function jobColumns(now: string): string {
  return `id, queue, ${shownStatus(now)} AS status, payload, format,
    fn_name, priority, attempts, max_attempts, timeout_ms, run_at,
    created_at, updated_at, claimed_at, claimed_by, claim_expires_at,
    finished_at, result, error_name, error_message, error_stack,
    error_value`;
}

function num(v: string): number;
function num(v: string | null): number | null;
function num(v: string | null): number | null {
  return v === null ? null : Number(v);
}

export function toJobRow(r: PgJob): JobRow {
  return {
    id: r.id,
    queue: r.queue,
    status: r.status,
    payload: r.payload,
    format: r.format,
    fnName: r.fn_name,
    priority: r.priority,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    timeoutMs: num(r.timeout_ms),
    runAt: num(r.run_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    claimedAt: num(r.claimed_at),
    claimedBy: r.claimed_by,
    claimExpiresAt: num(r.claim_expires_at),
    finishedAt: num(r.finished_at),
    result: r.result,
    lastError: errorFromColumns(r),
  };
}

/** Parameters $n..$n+3 of every statement that stores an error. */
export function errorValues(e: ErrorRow): unknown[] {
  return [e.name, e.message, e.stack, e.value];
}

/**
 * Ids are BIGSERIAL keys; anything else names no job. Checking here keeps
 * a malformed id from becoming a cast error inside PostgreSQL.
 */
export function parseId(id: string): string | null {
  return /^[1-9][0-9]{0,17}$/.test(id) ? id : null;
}
