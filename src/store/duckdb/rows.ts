// Converting between DuckDB result rows and the store's JobRow.

import type { DuckDBBlobValue, DuckDBValue } from '@duckdb/node-api';
import type { ErrorRow, JobRow, JobStatus } from '../types.js';

// The status a reader sees: stored 'pending' with a future run_at is
// 'delayed'. Needs parameter $now.
export const SHOWN_STATUS = `CASE WHEN status = 'pending' AND run_at > $now
  THEN 'delayed' ELSE status END`;

/**
 * Select list whose order `toJobRow` reads. `status` is the expression for
 * the shown status: DuckDB takes no parameters in RETURNING, so a claim
 * returns the stored status (always 'claimed' there).
 */
export function jobColumns(status = SHOWN_STATUS): string {
  return `id, queue, ${status} AS status, payload, format, fn_name,
  priority, attempts, max_attempts, timeout_ms, run_at, created_at,
  updated_at, claimed_at, claimed_by, claim_expires_at, finished_at,
  result, error_name, error_message, error_stack, error_value`;
}

export const JOB_COLUMNS = jobColumns();

export function toJobRow(r: DuckDBValue[]): JobRow {
  const errorName = r[18] as string | null;
  return {
    id: String(r[0]),
    queue: r[1] as string,
    status: r[2] as JobStatus,
    payload: bytes(r[3])!,
    format: r[4] as string,
    fnName: r[5] as string,
    priority: r[6] as number,
    attempts: r[7] as number,
    maxAttempts: r[8] as number,
    timeoutMs: num(r[9]),
    runAt: num(r[10])!,
    createdAt: num(r[11])!,
    updatedAt: num(r[12])!,
    claimedAt: num(r[13]),
    claimedBy: r[14] as string | null,
    claimExpiresAt: num(r[15]),
    finishedAt: num(r[16]),
    result: bytes(r[17]),
    lastError: errorName === null ? null : errorRow(errorName, r),
  };
}

function errorRow(name: string, r: DuckDBValue[]): ErrorRow {
  return {
    name,
    message: (r[19] as string | null) ?? '',
    stack: r[20] as string | null,
    value: bytes(r[21]),
  };
}

/** BIGINT columns arrive as bigint; times and counts fit a double. */
export function num(v: DuckDBValue): number | null {
  if (v === null) return null;
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function bytes(v: DuckDBValue): Uint8Array | null {
  return v === null ? null : (v as DuckDBBlobValue).bytes;
}
