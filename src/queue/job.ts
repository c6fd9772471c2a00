// What the queue hands out about a job: the store row with its result
// decoded and its error readable. Times are epoch milliseconds.

import type { JobRow, JobStatus } from '../store/types.js';
import { decodeResult } from './codec.js';
import type { StoredErrorInfo } from './errors.js';

export interface JobRecord {
  id: string;
  queue: string;
  status: JobStatus;
  /** Serializer format of the payload ('v8', 'json', 'source'...). */
  format: string;
  /** The job function's name as enqueued ('' when anonymous). */
  fnName: string;
  priority: number;
  /** Attempts started so far. */
  attempts: number;
  maxAttempts: number;
  timeoutMs: number | null;
  payloadBytes: number;
  runAt: number;
  createdAt: number;
  updatedAt: number;
  claimedAt: number | null;
  claimedBy: string | null;
  finishedAt: number | null;
  /** The decoded return value of a `done` job. */
  result: unknown;
  /** Set when a done job's stored result cannot be read back. */
  resultError?: string;
  /** The error of the most recent failed attempt. */
  lastError: StoredErrorInfo | null;
}

/** A job held by a claim: what a worker needs to run and settle it. */
export interface ClaimedJob {
  id: string;
  queue: string;
  format: string;
  fnName: string;
  priority: number;
  /** This attempt's number, starting at 1. */
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  claimedBy: string;
  claimedAt: number;
  claimExpiresAt: number;
  payload: Uint8Array;
  lastError: StoredErrorInfo | null;
}

export function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    queue: row.queue,
    status: row.status,
    format: row.format,
    fnName: row.fnName,
    priority: row.priority,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    timeoutMs: row.timeoutMs,
    payloadBytes: row.payload.byteLength,
    runAt: row.runAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    claimedAt: row.claimedAt,
    claimedBy: row.claimedBy,
    finishedAt: row.finishedAt,
    ...readResult(row),
    lastError: readableError(row),
  };
}

export function toClaimed(row: JobRow): ClaimedJob {
  return {
    id: row.id,
    queue: row.queue,
    format: row.format,
    fnName: row.fnName,
    priority: row.priority,
    attempt: row.attempts,
    maxAttempts: row.maxAttempts,
    timeoutMs: row.timeoutMs,
    claimedBy: row.claimedBy ?? '',
    claimedAt: row.claimedAt ?? 0,
    claimExpiresAt: row.claimExpiresAt ?? 0,
    payload: row.payload,
    lastError: readableError(row),
  };
}

function readableError(row: JobRow): StoredErrorInfo | null {
  const e = row.lastError;
  return e ? { name: e.name, message: e.message, stack: e.stack } : null;
}

// One damaged result must not make the whole record, or a listing of many,
// unreadable: the record carries the decoding error instead.
function readResult(row: JobRow): Pick<JobRecord, 'result' | 'resultError'> {
  if (row.status !== 'done') return { result: undefined };
  try {
    return { result: decodeResult(row.result, row.id) };
  } catch (err) {
    return { result: undefined, resultError: (err as Error).message };
  }
}
