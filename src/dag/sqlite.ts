// DAG tables and the DagStore for the SQLite store. Everything runs inside
// the SQLite store's own connection and transactions; settle() is called
// by the store's ack, fail and recovery statements in the same IMMEDIATE
// transaction, so a crash either keeps both the job's end and its
// downstream's start, or neither.

import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import type { SqlMigration } from '../store/sqlite-migrations.js';
import type { JobStatus, NewJobRow } from '../store/types.js';
import {
  settleNode,
  type BumpedNode,
  type SettleOps,
  type SettledState,
  type SettlingNode,
} from './settle.js';
import type {
  DagJobRow,
  DagNodeRow,
  DagNodeState,
  DagRunRow,
  DagStore,
  NewDagRun,
} from './store.js';
import type { DagRunState, DependencyMode } from './types.js';
import { errorFromColumns } from '../store/error-columns.js';

export const sqliteDagMigrations: readonly SqlMigration[] = [
  {
    name: 'dag-001-runs-nodes-edges',
    sql: `
      CREATE TABLE dag_runs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed')),
        node_count INTEGER NOT NULL,
        unfinished INTEGER NOT NULL,
        failed_count INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE TABLE dag_nodes (
        run_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('all', 'any')),
        state TEXT NOT NULL CHECK (state IN
          ('blocked', 'queued', 'done', 'failed', 'skipped')),
        upstream_total INTEGER NOT NULL,
        upstream_done INTEGER NOT NULL DEFAULT 0,
        upstream_failed INTEGER NOT NULL DEFAULT 0,
        skipped_by TEXT,
        job_id INTEGER,
        -- The job to insert once the node is ready; payload is cleared
        -- then, since the jobs row holds it from that point on.
        queue TEXT NOT NULL,
        payload BLOB,
        format TEXT NOT NULL,
        fn_name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        timeout_ms INTEGER,
        PRIMARY KEY (run_id, position)
      );
      CREATE UNIQUE INDEX dag_nodes_name ON dag_nodes (run_id, name);
      -- Every ack looks its job up here; partial, so plain jobs cost a
      -- probe into an index that holds only DAG jobs.
      CREATE UNIQUE INDEX dag_nodes_job ON dag_nodes (job_id)
        WHERE job_id IS NOT NULL;
      CREATE TABLE dag_edges (
        run_id TEXT NOT NULL,
        from_pos INTEGER NOT NULL,
        to_pos INTEGER NOT NULL,
        PRIMARY KEY (run_id, from_pos, to_pos)
      ) WITHOUT ROWID;
      CREATE INDEX dag_edges_upstream ON dag_edges (run_id, to_pos, from_pos);
    `,
  },
];

/** Inserts a job through the SQLite store's own statement; returns its id. */
export type InsertJob = (job: NewJobRow) => string;

interface SqlRun {
  id: string;
  name: string;
  state: DagRunState;
  node_count: number;
  unfinished: number;
  failed_count: number;
  created_at: number;
  finished_at: number | null;
}

interface SqlNode {
  position: number;
  name: string;
  mode: DependencyMode;
  state: DagNodeState;
  skipped_by: string | null;
  job_id: number | null;
  job_status: JobStatus | null;
  attempts: number | null;
  result: Buffer | null;
  error_name: string | null;
  error_message: string | null;
  error_stack: string | null;
  error_value: Buffer | null;
}

interface SqlBumped {
  position: number;
  name: string;
  mode: DependencyMode;
  upstream_total: number;
  upstream_done: number;
  upstream_failed: number;
}

interface SqlWaitingJob {
  queue: string;
  payload: Buffer;
  format: string;
  fn_name: string;
  priority: number;
  max_attempts: number;
  timeout_ms: number | null;
}

export class SqliteDagStore implements DagStore {
  private readonly s: ReturnType<typeof prepare>;
  private readonly ops: SettleOps;
  private readonly createTx: Database.Transaction<
    (run: NewDagRun) => Map<number, string>
  >;
  private readonly retryTx: Database.Transaction<
    (runId: string, now: number) => string[]
  >;

  constructor(
    private readonly db: Database.Database,
    private readonly insertJob: InsertJob,
  ) {
    this.s = prepare(db);
    this.ops = this.settleOps();
    this.createTx = db.transaction((run: NewDagRun) => this.createSync(run));
    this.retryTx = db.transaction((runId: string, now: number) =>
      this.retrySync(runId, now),
    );
  }

  /**
   * Settle the DAG node of a job that just became done, failed or dead.
   * Call only inside the transaction that changed the job.
   */
  settle(jobId: number | string, outcome: 'done' | 'failed', now: number) {
    settleNode(this.ops, String(jobId), outcome, now);
  }

  async createRun(run: NewDagRun): Promise<Map<number, string>> {
    return this.createTx.immediate(run);
  }

  private createSync(run: NewDagRun): Map<number, string> {
    const s = this.s;
    s.insertRun.run({
      id: run.id,
      name: run.name,
      count: run.nodes.length,
      createdAt: run.createdAt,
    });
    const jobIds = new Map<number, string>();
    run.nodes.forEach((node, position) => {
      const root = node.upstream.length === 0;
      const jobId = root
        ? this.insertJob({
            ...node.job,
            runAt: run.createdAt,
            createdAt: run.createdAt,
          })
        : null;
      if (jobId !== null) jobIds.set(position, jobId);
      s.insertNode.run({
        runId: run.id,
        position,
        name: node.name,
        mode: node.mode,
        state: root ? 'queued' : 'blocked',
        total: node.upstream.length,
        jobId: jobId === null ? null : Number(jobId),
        queue: node.job.queue,
        payload: root ? null : node.job.payload,
        format: node.job.format,
        fnName: node.job.fnName,
        priority: node.job.priority,
        maxAttempts: node.job.maxAttempts,
        timeoutMs: node.job.timeoutMs,
      });
      for (const from of node.upstream) {
        s.insertEdge.run(run.id, from, position);
      }
    });
    return jobIds;
  }

  async retryFailed(runId: string, now: number): Promise<string[]> {
    return this.retryTx.immediate(runId, now);
  }

  private retrySync(runId: string, now: number): string[] {
    const s = this.s;
    const jobs = s.failedJobs.pluck().all(runId) as number[];
    if (jobs.length === 0) return [];
    for (const id of jobs) s.requeueJob.run({ id, now });
    s.reopenFailed.run(runId);
    const skipped = s.reopenSkipped.run(runId).changes;
    s.reopenRun.run({
      runId,
      failed: jobs.length,
      reopened: jobs.length + skipped,
    });
    return jobs.map(String);
  }

  async getRun(runId: string): Promise<DagRunRow | null> {
    const r = this.s.getRun.get(runId) as SqlRun | undefined;
    if (!r) return null;
    return {
      id: r.id,
      name: r.name,
      state: r.state,
      nodeCount: r.node_count,
      unfinished: r.unfinished,
      failedCount: r.failed_count,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    };
  }

  async listNodes(runId: string): Promise<DagNodeRow[]> {
    const rows = this.s.listNodes.all(runId) as SqlNode[];
    return rows.map((r) => ({
      position: r.position,
      name: r.name,
      mode: r.mode,
      state: r.state,
      skippedBy: r.skipped_by,
      jobId: r.job_id === null ? null : String(r.job_id),
      jobStatus: r.job_status,
      attempts: r.attempts ?? 0,
      result: r.result,
      lastError: errorFromColumns(r),
    }));
  }

  async listEdges(runId: string): Promise<[number, number][]> {
    return this.s.listEdges.raw().all(runId) as [number, number][];
  }

  async jobNode(jobId: string): Promise<DagJobRow | null> {
    if (!/^[1-9][0-9]{0,15}$/.test(jobId)) return null;
    const node = this.s.jobNode.get(Number(jobId)) as
      | { run_id: string; dag: string; name: string; position: number }
      | undefined;
    if (!node) return null;
    const upstream = this.s.upstreamOf.all(node.run_id, node.position) as {
      name: string;
      state: DagNodeState;
      job_status: JobStatus | null;
      result: Buffer | null;
    }[];
    return {
      runId: node.run_id,
      dag: node.dag,
      node: node.name,
      upstream: upstream.map((u) => ({
        name: u.name,
        state: u.state,
        jobStatus: u.job_status,
        result: u.result,
      })),
    };
  }

  private settleOps(): SettleOps {
    const s = this.s;
    return {
      queuedNodeForJob: (jobId) => {
        const row = s.queuedNodeForJob.get(Number(jobId)) as
          | { run_id: string; position: number; name: string }
          | undefined;
        return row
          ? { runId: row.run_id, position: row.position, name: row.name }
          : null;
      },
      finishNode: (node, state, skippedBy, now) =>
        this.finishNode(node, state, skippedBy, now),
      bumpDownstream: (node, passed) => {
        const rows = s.bump.all({
          runId: node.runId,
          position: node.position,
          passed: passed ? 1 : 0,
        }) as SqlBumped[];
        return rows.map(toBumped);
      },
      enqueueNodes: (runId, positions, now) => {
        for (const position of positions) {
          const job = s.waitingJob.get(runId, position) as SqlWaitingJob;
          const jobId = this.insertJob({
            queue: job.queue,
            payload: job.payload,
            format: job.format,
            fnName: job.fn_name,
            priority: job.priority,
            maxAttempts: job.max_attempts,
            timeoutMs: job.timeout_ms,
            runAt: now,
            createdAt: now,
          });
          s.markQueued.run(Number(jobId), runId, position);
        }
      },
    };
  }

  private finishNode(
    node: SettlingNode,
    state: SettledState,
    skippedBy: string | null,
    now: number,
  ): void {
    this.s.finishNode.run(state, skippedBy, node.runId, node.position);
    this.s.countFinished.run({
      runId: node.runId,
      failed: state === 'failed' ? 1 : 0,
      now,
    });
  }
}

function toBumped(r: SqlBumped): BumpedNode {
  return {
    position: r.position,
    name: r.name,
    mode: r.mode,
    upstreamTotal: r.upstream_total,
    upstreamDone: r.upstream_done,
    upstreamFailed: r.upstream_failed,
  };
}

function prepare(db: Database.Database) {
  const p = (sql: string): Statement => db.prepare(sql);
  return {
    insertRun: p(`INSERT INTO dag_runs (id, name, state, node_count,
      unfinished, created_at) VALUES (@id, @name, 'running', @count, @count,
      @createdAt)`),
    insertNode: p(`INSERT INTO dag_nodes (run_id, position, name, mode,
      state, upstream_total, job_id, queue, payload, format, fn_name,
      priority, max_attempts, timeout_ms) VALUES (@runId, @position, @name,
      @mode, @state, @total, @jobId, @queue, @payload, @format, @fnName,
      @priority, @maxAttempts, @timeoutMs)`),
    insertEdge: p(`INSERT INTO dag_edges (run_id, from_pos, to_pos)
      VALUES (?, ?, ?)`),
    getRun: p(`SELECT * FROM dag_runs WHERE id = ?`),
    listNodes: p(`SELECT n.position, n.name, n.mode, n.state, n.skipped_by,
      n.job_id, j.status AS job_status, j.attempts, j.result, j.error_name,
      j.error_message, j.error_stack, j.error_value
      FROM dag_nodes n LEFT JOIN jobs j ON j.id = n.job_id
      WHERE n.run_id = ? ORDER BY n.position`),
    listEdges: p(`SELECT from_pos, to_pos FROM dag_edges WHERE run_id = ?
      ORDER BY to_pos, from_pos`),
    jobNode: p(`SELECT n.run_id, r.name AS dag, n.name, n.position
      FROM dag_nodes n JOIN dag_runs r ON r.id = n.run_id
      WHERE n.job_id = ?`),
    upstreamOf: p(`SELECT u.name, u.state, j.status AS job_status, j.result
      FROM dag_edges e
      JOIN dag_nodes u ON u.run_id = e.run_id AND u.position = e.from_pos
      LEFT JOIN jobs j ON j.id = u.job_id
      WHERE e.run_id = ? AND e.to_pos = ? ORDER BY e.from_pos`),
    queuedNodeForJob: p(`SELECT run_id, position, name FROM dag_nodes
      WHERE job_id = ? AND state = 'queued'`),
    finishNode: p(`UPDATE dag_nodes SET state = ?, skipped_by = ?
      WHERE run_id = ? AND position = ?`),
    // Right-hand sides see the row as it was before this update.
    countFinished: p(`UPDATE dag_runs SET
      unfinished = unfinished - 1,
      failed_count = failed_count + @failed,
      state = CASE WHEN unfinished > 1 THEN state
        WHEN failed_count + @failed > 0 THEN 'failed' ELSE 'done' END,
      finished_at = CASE WHEN unfinished > 1 THEN NULL ELSE @now END
      WHERE id = @runId`),
    bump: p(`UPDATE dag_nodes SET
      upstream_done = upstream_done + @passed,
      upstream_failed = upstream_failed + 1 - @passed
      WHERE run_id = @runId AND state = 'blocked' AND position IN
        (SELECT to_pos FROM dag_edges
         WHERE run_id = @runId AND from_pos = @position)
      RETURNING position, name, mode, upstream_total, upstream_done,
        upstream_failed`),
    waitingJob: p(`SELECT queue, payload, format, fn_name, priority,
      max_attempts, timeout_ms FROM dag_nodes
      WHERE run_id = ? AND position = ?`),
    markQueued: p(`UPDATE dag_nodes SET state = 'queued', job_id = ?,
      payload = NULL WHERE run_id = ? AND position = ?`),
    failedJobs: p(`SELECT job_id FROM dag_nodes
      WHERE run_id = ? AND state = 'failed' ORDER BY position`),
    // The same change as the SQLite store's requeue.
    requeueJob: p(`UPDATE jobs SET status = 'pending', attempts = 0,
      run_at = @now, updated_at = @now, finished_at = NULL,
      claimed_at = NULL, claimed_by = NULL, claim_expires_at = NULL
      WHERE id = @id AND status IN ('failed', 'dead')`),
    reopenFailed: p(`UPDATE dag_nodes SET state = 'queued'
      WHERE run_id = ? AND state = 'failed'`),
    // Only failed and skipped nodes change, so 'done' upstreams counted
    // here are final.
    reopenSkipped: p(`UPDATE dag_nodes SET state = 'blocked',
      skipped_by = NULL, upstream_failed = 0,
      upstream_done = (SELECT COUNT(*) FROM dag_edges e
        JOIN dag_nodes u ON u.run_id = e.run_id AND u.position = e.from_pos
        WHERE e.run_id = dag_nodes.run_id AND e.to_pos = dag_nodes.position
          AND u.state = 'done')
      WHERE run_id = ? AND state = 'skipped'`),
    reopenRun: p(`UPDATE dag_runs SET state = 'running', finished_at = NULL,
      failed_count = failed_count - @failed,
      unfinished = unfinished + @reopened
      WHERE id = @runId`),
  };
}
