// Export jobs from any store to Parquet or CSV for analysis.
//
// Rows are read through the Store interface (so SQLite, DuckDB and
// PostgreSQL files export alike) and written by an in-memory DuckDB, whose
// COPY writes Parquet without any extension download. DuckDB's
// sqlite_scanner would read SQLite directly but must be fetched from the
// network on first use, so it is not relied on.
//
// Times become TIMESTAMP columns (UTC); payload and result are exported as
// byte counts, and as BLOB columns only when asked (`blobs: true`), since
// they hold serialized functions and values no analysis tool can read.
//
// Caveat: pages are read one after another, not in one snapshot. Export a
// quiet queue for an exact copy; with workers running, jobs that finish
// during the export may or may not be included.

import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { existsSync, renameSync, rmSync } from 'node:fs';
import type { JobRow, JobStatus, Store } from './types.js';
import { JOB_STATUSES } from './types.js';

export const EXPORT_FORMATS = ['parquet', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Statuses a job can no longer leave by itself. */
export const FINISHED_STATUSES: readonly JobStatus[] = ['done', 'failed', 'dead'];

export interface ExportOptions {
  format: ExportFormat;
  /** File to write; replaced atomically if it exists. */
  out: string;
  /** Which jobs. Default: finished ones (done, failed, dead). */
  statuses?: readonly JobStatus[];
  /** Only this queue. Default: every queue. */
  queue?: string;
  /** Also export payload and result bytes. Default false. */
  blobs?: boolean;
  /** Rows read from the store per page. Default 5000. */
  pageSize?: number;
  /** Time that tells pending from delayed. Default Date.now(). */
  now?: number;
}

export interface ExportSummary {
  out: string;
  format: ExportFormat;
  rows: number;
  /** Rows per status. */
  byStatus: Partial<Record<JobStatus, number>>;
}

export class ExportError extends Error {
  readonly code: string = 'EXPORT_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

const DEFAULT_PAGE_SIZE = 5000;

// Staging table, in appender order. Times stay epoch ms here and become
// TIMESTAMPs in the COPY query.
const STAGING = `CREATE TABLE staged (
  id VARCHAR, queue VARCHAR, status VARCHAR, format VARCHAR,
  fn_name VARCHAR, priority INTEGER, attempts INTEGER,
  max_attempts INTEGER, timeout_ms BIGINT, created_at BIGINT,
  run_at BIGINT, claimed_at BIGINT, finished_at BIGINT,
  claimed_by VARCHAR, payload_bytes BIGINT, result_bytes BIGINT,
  error_name VARCHAR, error_message VARCHAR, error_stack VARCHAR,
  payload BLOB, result BLOB)`;

function selectList(blobs: boolean): string {
  const columns = [
    // Ids are integers in every store we ship; keep them sortable.
    `COALESCE(TRY_CAST(id AS BIGINT)::VARCHAR, id) AS id`,
    'queue',
    'status',
    'format',
    'fn_name',
    'priority',
    'attempts',
    'max_attempts',
    'timeout_ms',
    'epoch_ms(created_at) AS created_at',
    'epoch_ms(run_at) AS run_at',
    'epoch_ms(claimed_at) AS claimed_at',
    'epoch_ms(finished_at) AS finished_at',
    // Time spent running the last attempt, for finished jobs.
    'finished_at - claimed_at AS run_ms',
    'claimed_by',
    'payload_bytes',
    'result_bytes',
    'error_name',
    'error_message',
    'error_stack',
  ];
  if (blobs) columns.push('payload', 'result');
  return columns.join(', ');
}

/** Check statuses named by a user, e.g. from `--status done,dead`. */
export function parseStatuses(text: string): JobStatus[] {
  if (text === 'all') return [...JOB_STATUSES];
  if (text === 'finished') return [...FINISHED_STATUSES];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !JOB_STATUSES.includes(n as JobStatus));
  if (bad.length || names.length === 0) {
    throw new ExportError(
      `unknown status ${bad.map((b) => `'${b}'`).join(', ') || "''"}: ` +
        `use one or more of ${JOB_STATUSES.join(', ')} (comma-separated), ` +
        "'finished' (done, failed, dead) or 'all'",
    );
  }
  return [...new Set(names)] as JobStatus[];
}

/** Write the chosen jobs of `store` to `options.out`. */
export async function exportJobs(
  store: Store,
  options: ExportOptions,
): Promise<ExportSummary> {
  const format = options.format;
  if (!EXPORT_FORMATS.includes(format)) {
    throw new ExportError(
      `unknown export format '${String(format)}': use ` +
        EXPORT_FORMATS.map((f) => `'${f}'`).join(' or '),
    );
  }
  const statuses = options.statuses ?? FINISHED_STATUSES;
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new ExportError(`pageSize must be a positive integer, got ${pageSize}`);
  }
  const now = options.now ?? Date.now();
  const blobs = options.blobs ?? false;

  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  const partial = `${options.out}.partial-${process.pid}`;
  try {
    await connection.run(STAGING);
    for (const status of statuses) {
      await stageStatus(connection, store, {
        status,
        queue: options.queue,
        now,
        pageSize,
        blobs,
      });
    }
    // A job that finished while we paged can shift a page and be read
    // twice; keep one row per id.
    await connection.run(`CREATE TABLE exported AS
      SELECT DISTINCT ON (id) * FROM staged`);
    const counts = await connection.runAndReadAll(
      'SELECT status, COUNT(*) FROM exported GROUP BY status',
    );
    const byStatus: ExportSummary['byStatus'] = {};
    let rows = 0;
    for (const [status, n] of counts.getRows()) {
      byStatus[status as JobStatus] = Number(n);
      rows += Number(n);
    }
    const copyOptions =
      format === 'parquet' ? 'FORMAT parquet' : 'FORMAT csv, HEADER true';
    await connection.run(
      `COPY (SELECT ${selectList(blobs)} FROM exported
        ORDER BY TRY_CAST(id AS BIGINT), id)
        TO '${sqlString(partial)}' (${copyOptions})`,
    );
    renameSync(partial, options.out);
    return { out: options.out, format, rows, byStatus };
  } finally {
    if (existsSync(partial)) rmSync(partial, { force: true });
    connection.closeSync();
    instance.closeSync();
  }
}

interface StageRequest {
  status: JobStatus;
  queue: string | undefined;
  now: number;
  pageSize: number;
  blobs: boolean;
}

// Pages newest first through listJobs. The appender is flushed per page so
// memory stays bounded by one page of store rows.
async function stageStatus(
  connection: DuckDBConnection,
  store: Store,
  req: StageRequest,
): Promise<void> {
  let staged = 0;
  for (;;) {
    const page = await store.listJobs({
      status: req.status,
      ...(req.queue === undefined ? {} : { queue: req.queue }),
      limit: req.pageSize,
      offset: staged,
      now: req.now,
    });
    if (page.length === 0) return;
    const appender = await connection.createAppender('staged');
    try {
      for (const job of page) appendJob(appender, job, req.blobs);
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    staged += page.length;
    if (page.length < req.pageSize) return;
  }
}

function appendJob(a: DuckDBAppender, j: JobRow, blobs: boolean): void {
  a.appendVarchar(j.id);
  a.appendVarchar(j.queue);
  a.appendVarchar(j.status);
  a.appendVarchar(j.format);
  a.appendVarchar(j.fnName);
  a.appendInteger(j.priority);
  a.appendInteger(j.attempts);
  a.appendInteger(j.maxAttempts);
  appendTime(a, j.timeoutMs);
  appendTime(a, j.createdAt);
  appendTime(a, j.runAt);
  appendTime(a, j.claimedAt);
  appendTime(a, j.finishedAt);
  appendText(a, j.claimedBy);
  a.appendBigInt(BigInt(j.payload.byteLength));
  appendTime(a, j.result ? j.result.byteLength : null);
  appendText(a, j.lastError?.name ?? null);
  appendText(a, j.lastError?.message ?? null);
  appendText(a, j.lastError?.stack ?? null);
  if (blobs) a.appendBlob(j.payload);
  else a.appendNull();
  if (blobs && j.result) a.appendBlob(j.result);
  else a.appendNull();
  a.endRow();
}

function appendTime(a: DuckDBAppender, v: number | null): void {
  if (v === null) a.appendNull();
  else a.appendBigInt(BigInt(Math.trunc(v)));
}

function appendText(a: DuckDBAppender, v: string | null): void {
  if (v === null) a.appendNull();
  else a.appendVarchar(v);
}

function sqlString(s: string): string {
  return s.replaceAll("'", "''");
}
