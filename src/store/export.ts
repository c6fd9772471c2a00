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
// A cell holding a value duckqueue never writes (a row changed behind its
// back) is exported as NULL and named in that row's row_note column.
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
  /**
   * Rows holding values duckqueue never writes; their odd cells are NULL
   * and their row_note column says which and why.
   */
  rowsWithNotes: number;
}

export class ExportError extends Error {
  readonly code: string = 'EXPORT_INVALID';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

const DEFAULT_PAGE_SIZE = 5000;
const INT32_MAX = 2 ** 31 - 1;
/**
 * Times past this many ms from 1970 (about 275,000 years, the range of a
 * JavaScript Date) are not exported as TIMESTAMPs; DuckDB's own range is
 * barely wider, and epoch_ms() fails the whole COPY past it.
 */
const MAX_EXPORT_TIME = 8.64e15;

// Staging table, in appender order. Times stay epoch ms here and become
// TIMESTAMPs in the COPY query.
const STAGING = `CREATE TABLE staged (
  id VARCHAR, queue VARCHAR, status VARCHAR, format VARCHAR,
  fn_name VARCHAR, priority INTEGER, attempts INTEGER,
  max_attempts INTEGER, timeout_ms BIGINT, created_at BIGINT,
  run_at BIGINT, claimed_at BIGINT, finished_at BIGINT,
  claimed_by VARCHAR, payload_bytes BIGINT, result_bytes BIGINT,
  error_name VARCHAR, error_message VARCHAR, error_stack VARCHAR,
  payload BLOB, result BLOB, row_note VARCHAR)`;

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
  // NULL, or which cells of a row planted behind duckqueue's back were
  // exported as NULL.
  columns.push('row_note');
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
    const noted = await connection.runAndReadAll(
      'SELECT COUNT(*) FROM exported WHERE row_note IS NOT NULL',
    );
    const rowsWithNotes = Number(noted.getRows()[0]?.[0] ?? 0);
    const copyOptions =
      format === 'parquet' ? 'FORMAT parquet' : 'FORMAT csv, HEADER true';
    await connection.run(
      `COPY (SELECT ${selectList(blobs)} FROM exported
        ORDER BY TRY_CAST(id AS BIGINT), id)
        TO '${sqlString(partial)}' (${copyOptions})`,
    );
    renameSync(partial, options.out);
    return { out: options.out, format, rows, byStatus, rowsWithNotes };
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

/**
 * Append one job. A row is written by whoever can write the database, so
 * any cell may hold a value duckqueue never writes (text in priority, a
 * time past year 275760, bytes in fn_name). Such a cell is exported as
 * NULL and named in the row's row_note, so one odd row neither aborts the
 * export nor passes unnoticed. Every cell is checked before the first is
 * appended: a failed append would leave the appender mid-row. Returns
 * true when the row has a note.
 */
function appendJob(a: DuckDBAppender, j: JobRow, blobs: boolean): boolean {
  const notes: string[] = [];
  const text = (field: string, v: unknown, nullable = true) => {
    if (typeof v === 'string') return v;
    if (v === null && nullable) return null;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    notes.push(`${field} holds ${shown(v)}`);
    return null;
  };
  const whole = (field: string, v: unknown): number | null => {
    if (Number.isInteger(v) && Math.abs(v as number) <= INT32_MAX) {
      return v as number;
    }
    notes.push(`${field} holds ${shown(v)}, not a 32-bit integer`);
    return null;
  };
  // Times become TIMESTAMPs; a duration (timeout_ms) only a BIGINT.
  const time = (field: string, v: unknown, duration = false) => {
    const limit = duration ? Number.MAX_SAFE_INTEGER : MAX_EXPORT_TIME;
    if (v === null) return null;
    if (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= limit) {
      return BigInt(Math.trunc(v));
    }
    const what = duration ? 'whole ms' : 'a time';
    notes.push(`${field} holds ${shown(v)}, not ${what}`);
    return null;
  };
  const bytes = (field: string, v: unknown, nullable: boolean) => {
    if (v instanceof Uint8Array) return v;
    if (v === null && nullable) return null;
    notes.push(`${field} holds ${shown(v)}, not bytes`);
    return null;
  };
  const error = j.lastError as Partial<Record<string, unknown>> | null;
  const payload = bytes('payload', j.payload, false);
  const result = bytes('result', j.result, true);
  const cells = {
    id: text('id', j.id, false) ?? '',
    queue: text('queue', j.queue),
    status: text('status', j.status),
    format: text('format', j.format),
    fnName: text('fn_name', j.fnName),
    priority: whole('priority', j.priority),
    attempts: whole('attempts', j.attempts),
    maxAttempts: whole('max_attempts', j.maxAttempts),
    timeoutMs: time('timeout_ms', j.timeoutMs, true),
    createdAt: time('created_at', j.createdAt),
    runAt: time('run_at', j.runAt),
    claimedAt: time('claimed_at', j.claimedAt),
    finishedAt: time('finished_at', j.finishedAt),
    claimedBy: text('claimed_by', j.claimedBy),
    errorName: text('error_name', error?.name ?? null),
    errorMessage: text('error_message', error?.message ?? null),
    errorStack: text('error_stack', error?.stack ?? null),
  };
  appendNullable(a, cells.id, 'varchar');
  appendNullable(a, cells.queue, 'varchar');
  appendNullable(a, cells.status, 'varchar');
  appendNullable(a, cells.format, 'varchar');
  appendNullable(a, cells.fnName, 'varchar');
  appendNullable(a, cells.priority, 'integer');
  appendNullable(a, cells.attempts, 'integer');
  appendNullable(a, cells.maxAttempts, 'integer');
  appendNullable(a, cells.timeoutMs, 'bigint');
  appendNullable(a, cells.createdAt, 'bigint');
  appendNullable(a, cells.runAt, 'bigint');
  appendNullable(a, cells.claimedAt, 'bigint');
  appendNullable(a, cells.finishedAt, 'bigint');
  appendNullable(a, cells.claimedBy, 'varchar');
  appendNullable(a, payload && BigInt(payload.byteLength), 'bigint');
  appendNullable(a, result && BigInt(result.byteLength), 'bigint');
  appendNullable(a, cells.errorName, 'varchar');
  appendNullable(a, cells.errorMessage, 'varchar');
  appendNullable(a, cells.errorStack, 'varchar');
  if (blobs && payload) a.appendBlob(payload);
  else a.appendNull();
  if (blobs && result) a.appendBlob(result);
  else a.appendNull();
  const note =
    notes.length === 0
      ? null
      : `not written by duckqueue: ${notes.join('; ')}; exported as NULL`;
  appendNullable(a, note, 'varchar');
  a.endRow();
  return note !== null;
}

function appendNullable(
  a: DuckDBAppender,
  v: string | number | bigint | null,
  type: 'varchar' | 'integer' | 'bigint',
): void {
  if (v === null) a.appendNull();
  else if (type === 'varchar') a.appendVarchar(v as string);
  else if (type === 'integer') a.appendInteger(v as number);
  else a.appendBigInt(v as bigint);
}

/** A planted value for a note: short, and never the bytes themselves. */
function shown(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (typeof v === 'string') {
    const cut = v.length > 40 ? `${v.slice(0, 40)}...` : v;
    return JSON.stringify(cut);
  }
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return typeof v;
}

function sqlString(s: string): string {
  return s.replaceAll("'", "''");
}
