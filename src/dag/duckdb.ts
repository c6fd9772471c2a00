// DAG tables and the DagStore for the DuckDB store. DuckDB pays about a
// millisecond per statement, so the work is set-based: a fan-out enqueues
// all its ready nodes with four statements whatever their number, and
// nodes and edges are written with the appender.
//
// DuckDB lets one process open a file, and the store runs every statement
// on one connection in turn, so this process sees every write. That makes
// a cheap shortcut exact: while no run is open, finishing a job skips the
// DAG lookup and its transaction entirely.

import type { DuckDBBlobValue, DuckDBValue } from '@duckdb/node-api';
import type { SharedDatabase, Params } from '../store/duckdb/database.js';
import type { SqlMigration } from '../store/sqlite-migrations.js';
import type { JobStatus } from '../store/types.js';
import { settleNodeAsync, type AsyncSettleOps } from './settle.js';
import type {
  DagJobRow,
  DagNodeRow,
  DagNodeState,
  DagRunRow,
  DagStore,
  NewDagRun,
} from './store.js';
import type { DagRunState, DependencyMode } from './types.js';

// Only primary keys, on columns never updated: DuckDB rewrites an update
// of an indexed column as delete + insert, which can trip its constraint
// checks inside one transaction. Jobs find their node through dag_jobs,
// written once per job.
export const duckdbDagMigrations: readonly SqlMigration[] = [
  {
    name: 'dag-001-runs-nodes-edges',
    sql: `
      CREATE TABLE dag_runs (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        state VARCHAR NOT NULL CHECK (state IN ('running', 'done', 'failed')),
        node_count INTEGER NOT NULL,
        unfinished INTEGER NOT NULL,
        failed_count INTEGER NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL,
        finished_at BIGINT
      );
      CREATE TABLE dag_nodes (
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        mode VARCHAR NOT NULL CHECK (mode IN ('all', 'any')),
        state VARCHAR NOT NULL CHECK (state IN
          ('blocked', 'queued', 'done', 'failed', 'skipped')),
        upstream_total INTEGER NOT NULL,
        upstream_done INTEGER NOT NULL DEFAULT 0,
        upstream_failed INTEGER NOT NULL DEFAULT 0,
        skipped_by VARCHAR,
        job_id BIGINT,
        queue VARCHAR NOT NULL,
        payload BLOB,
        format VARCHAR NOT NULL,
        fn_name VARCHAR NOT NULL,
        priority INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        timeout_ms BIGINT,
        PRIMARY KEY (run_id, position)
      );
      CREATE TABLE dag_edges (
        run_id VARCHAR NOT NULL,
        from_pos INTEGER NOT NULL,
        to_pos INTEGER NOT NULL,
        PRIMARY KEY (run_id, from_pos, to_pos)
      );
      CREATE TABLE dag_jobs (
        job_id BIGINT PRIMARY KEY,
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL
      );
    `,
  },
];

// Nodes that were just marked queued still hold their payload; that is how
// the next three statements find them.
const FRESH = `run_id = $runId AND state = 'queued' AND payload IS NOT NULL`;

const SQL = {
  insertRun: `INSERT INTO dag_runs (id, name, state, node_count, unfinished,
      created_at) VALUES ($id, $name, 'running', $count, $count, $createdAt)`,
  markQueued: `UPDATE dag_nodes SET state = 'queued',
      job_id = nextval('duckqueue_job_ids')
    WHERE run_id = $runId AND state = 'blocked'
      AND list_contains(string_split($positions, ',')::INTEGER[], position)`,
  insertJobs: `INSERT INTO jobs (id, queue, status, payload, format, fn_name,
      priority, max_attempts, timeout_ms, run_at, created_at, updated_at)
    SELECT job_id, queue, 'pending', payload, format, fn_name, priority,
      max_attempts, timeout_ms, $now, $now, $now
    FROM dag_nodes WHERE ${FRESH}`,
  insertDagJobs: `INSERT INTO dag_jobs (job_id, run_id, position)
    SELECT job_id, run_id, position FROM dag_nodes WHERE ${FRESH}`,
  dropPayloads: `UPDATE dag_nodes SET payload = NULL WHERE ${FRESH}`,
  rootJobs: `SELECT position, job_id FROM dag_nodes
    WHERE run_id = $runId AND job_id IS NOT NULL`,
  openRuns: `SELECT COUNT(*) FROM dag_runs WHERE state = 'running'`,
  getRun: `SELECT id, name, state, node_count, unfinished, failed_count,
      created_at, finished_at FROM dag_runs WHERE id = $id`,
  listNodes: `SELECT n.position, n.name, n.mode, n.state, n.skipped_by,
      n.job_id, j.status, j.attempts, j.result, j.error_name,
      j.error_message, j.error_stack, j.error_value
    FROM dag_nodes n LEFT JOIN jobs j ON j.id = n.job_id
    WHERE n.run_id = $runId ORDER BY n.position`,
  listEdges: `SELECT from_pos, to_pos FROM dag_edges WHERE run_id = $runId
    ORDER BY to_pos, from_pos`,
  jobNode: `SELECT n.run_id, r.name, n.name, n.position
    FROM dag_jobs d
    JOIN dag_nodes n ON n.run_id = d.run_id AND n.position = d.position
    JOIN dag_runs r ON r.id = n.run_id
    WHERE d.job_id = $jobId`,
  upstreamOf: `SELECT u.name, u.state, j.status, j.result
    FROM dag_edges e
    JOIN dag_nodes u ON u.run_id = e.run_id AND u.position = e.from_pos
    LEFT JOIN jobs j ON j.id = u.job_id
    WHERE e.run_id = $runId AND e.to_pos = $position ORDER BY e.from_pos`,
  queuedNodeForJob: `SELECT n.run_id, n.position, n.name
    FROM dag_jobs d
    JOIN dag_nodes n ON n.run_id = d.run_id AND n.position = d.position
    WHERE d.job_id = $jobId AND n.state = 'queued'`,
  finishNode: `UPDATE dag_nodes SET state = $state, skipped_by = $skippedBy
    WHERE run_id = $runId AND position = $position`,
  countFinished: `UPDATE dag_runs SET
      unfinished = unfinished - 1,
      failed_count = failed_count + $failed,
      state = CASE WHEN unfinished > 1 THEN state
        WHEN failed_count + $failed > 0 THEN 'failed' ELSE 'done' END,
      finished_at = CASE WHEN unfinished > 1 THEN NULL ELSE $now END
    WHERE id = $runId RETURNING state`,
  failedJobs: `SELECT job_id FROM dag_nodes
    WHERE run_id = $runId AND state = 'failed' ORDER BY position`,
  // The same change as the DuckDB store's requeue.
  requeueJobs: `UPDATE jobs SET status = 'pending', attempts = 0,
      run_at = $now, updated_at = $now, finished_at = NULL,
      claimed_at = NULL, claimed_by = NULL, claim_expires_at = NULL
    WHERE status IN ('failed', 'dead') AND id IN (SELECT job_id FROM
      dag_nodes WHERE run_id = $runId AND state = 'failed')`,
  reopenFailed: `UPDATE dag_nodes SET state = 'queued'
    WHERE run_id = $runId AND state = 'failed'`,
  // Only failed and skipped nodes change, so the 'done' upstreams counted
  // here are final.
  reopenSkipped: `UPDATE dag_nodes SET state = 'blocked', skipped_by = NULL,
      upstream_failed = 0, upstream_done = COALESCE(c.done, 0)
    FROM (SELECT n.position, COUNT(u.position) AS done
      FROM dag_nodes n
      JOIN dag_edges e ON e.run_id = n.run_id AND e.to_pos = n.position
      LEFT JOIN dag_nodes u ON u.run_id = e.run_id
        AND u.position = e.from_pos AND u.state = 'done'
      WHERE n.run_id = $runId AND n.state = 'skipped'
      GROUP BY n.position) AS c
    WHERE dag_nodes.run_id = $runId AND dag_nodes.state = 'skipped'
      AND dag_nodes.position = c.position`,
  reopenRun: `UPDATE dag_runs SET state = 'running', finished_at = NULL,
      failed_count = failed_count - $failed,
      unfinished = unfinished + $reopened
    WHERE id = $runId`,
  bump: `UPDATE dag_nodes SET
      upstream_done = upstream_done + $passed,
      upstream_failed = upstream_failed + 1 - $passed
    WHERE run_id = $runId AND state = 'blocked' AND position IN
      (SELECT to_pos FROM dag_edges
       WHERE run_id = $runId AND from_pos = $position)
    RETURNING position, name, mode, upstream_total, upstream_done,
      upstream_failed`,
};

/** Whether a database may hold an unfinished run; null = count again. */
const openRunCounts = new WeakMap<SharedDatabase, { count: number | null }>();

/** Job outcomes a store change produced, to settle in its transaction. */
export type FinishedJobs = [jobId: string | bigint, outcome: 'done' | 'failed'][];

export class DuckDBDagStore implements DagStore {
  constructor(private readonly database: () => SharedDatabase) {}

  /**
   * Run a job change (ack, fail, recovery) and settle the DAG nodes of the
   * jobs it finished, in one transaction. `change` runs on the store's
   * connection and reports which jobs ended and how.
   */
  async finishJobs<T>(
    now: number,
    change: (db: SharedDatabase) => Promise<{ value: T; finished: FinishedJobs }>,
  ): Promise<T> {
    const db = this.database();
    return db.exclusive(async () => {
      if (!(await this.mayHaveOpenRuns(db))) return (await change(db)).value;
      await db.connection.run('BEGIN TRANSACTION');
      try {
        const { value, finished } = await change(db);
        const ops = this.settleOps(db);
        for (const [jobId, outcome] of finished) {
          await settleNodeAsync(ops, String(jobId), outcome, now);
        }
        await db.connection.run('COMMIT');
        return value;
      } catch (err) {
        await db.connection.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  private async mayHaveOpenRuns(db: SharedDatabase): Promise<boolean> {
    let known = openRunCounts.get(db);
    if (!known) openRunCounts.set(db, (known = { count: null }));
    if (known.count === null) {
      const rows = await db.all(SQL.openRuns);
      known.count = Number(rows[0]![0]);
    }
    return known.count > 0;
  }

  private recount(db: SharedDatabase): void {
    openRunCounts.set(db, { count: null });
  }

  async createRun(run: NewDagRun): Promise<Map<number, string>> {
    const db = this.database();
    return db.transaction(async () => {
      this.recount(db);
      await db.all(SQL.insertRun, {
        id: run.id,
        name: run.name,
        count: run.nodes.length,
        createdAt: run.createdAt,
      });
      await appendNodes(db, run);
      const roots = run.nodes.flatMap((n, i) => (n.upstream.length ? [] : [i]));
      await enqueue(db, run.id, roots, run.createdAt);
      const rows = await db.all(SQL.rootJobs, { runId: run.id });
      return new Map(rows.map((r) => [Number(r[0]), String(r[1])]));
    });
  }

  async retryFailed(runId: string, now: number): Promise<string[]> {
    const db = this.database();
    return db.transaction(async () => {
      const failed = await db.all(SQL.failedJobs, { runId });
      if (failed.length === 0) return [];
      this.recount(db);
      await db.change(SQL.requeueJobs, { runId, now });
      await db.change(SQL.reopenFailed, { runId });
      const skipped = await db.change(SQL.reopenSkipped, { runId });
      await db.change(SQL.reopenRun, {
        runId,
        failed: failed.length,
        reopened: failed.length + skipped,
      });
      return failed.map((r) => String(r[0]));
    });
  }

  async getRun(runId: string): Promise<DagRunRow | null> {
    const rows = await this.read(SQL.getRun, { id: runId });
    const r = rows[0];
    if (!r) return null;
    return {
      id: r[0] as string,
      name: r[1] as string,
      state: r[2] as DagRunState,
      nodeCount: Number(r[3]),
      unfinished: Number(r[4]),
      failedCount: Number(r[5]),
      createdAt: Number(r[6]),
      finishedAt: r[7] === null ? null : Number(r[7]),
    };
  }

  async listNodes(runId: string): Promise<DagNodeRow[]> {
    const rows = await this.read(SQL.listNodes, { runId });
    return rows.map((r) => ({
      position: Number(r[0]),
      name: r[1] as string,
      mode: r[2] as DependencyMode,
      state: r[3] as DagNodeState,
      skippedBy: r[4] as string | null,
      jobId: r[5] === null ? null : String(r[5]),
      jobStatus: r[6] as JobStatus | null,
      attempts: r[7] === null ? 0 : Number(r[7]),
      result: blob(r[8]),
      lastError:
        r[9] === null
          ? null
          : {
              name: r[9] as string,
              message: (r[10] as string | null) ?? '',
              stack: r[11] as string | null,
              value: blob(r[12]),
            },
    }));
  }

  async listEdges(runId: string): Promise<[number, number][]> {
    const rows = await this.read(SQL.listEdges, { runId });
    return rows.map((r) => [Number(r[0]), Number(r[1])]);
  }

  async jobNode(jobId: string): Promise<DagJobRow | null> {
    if (!/^[1-9][0-9]{0,17}$/.test(jobId)) return null;
    const db = this.database();
    return db.exclusive(async () => {
      const rows = await db.all(SQL.jobNode, { jobId: BigInt(jobId) });
      const node = rows[0];
      if (!node) return null;
      const upstream = await db.all(SQL.upstreamOf, {
        runId: node[0] as string,
        position: Number(node[3]),
      });
      return {
        runId: node[0] as string,
        dag: node[1] as string,
        node: node[2] as string,
        upstream: upstream.map((u) => ({
          name: u[0] as string,
          state: u[1] as DagNodeState,
          jobStatus: u[2] as JobStatus | null,
          result: blob(u[3]),
        })),
      };
    });
  }

  private read(sql: string, params: Params) {
    const db = this.database();
    return db.exclusive(() => db.all(sql, params));
  }

  private settleOps(db: SharedDatabase): AsyncSettleOps {
    return {
      queuedNodeForJob: async (jobId) => {
        const rows = await db.all(SQL.queuedNodeForJob, {
          jobId: BigInt(jobId),
        });
        const r = rows[0];
        return r
          ? { runId: r[0] as string, position: Number(r[1]), name: r[2] as string }
          : null;
      },
      finishNode: async (node, state, skippedBy, now) => {
        await db.change(SQL.finishNode, {
          state,
          skippedBy,
          runId: node.runId,
          position: node.position,
        });
        const rows = await db.all(SQL.countFinished, {
          runId: node.runId,
          failed: state === 'failed' ? 1 : 0,
          now,
        });
        if (rows[0]?.[0] !== 'running') this.recount(db);
      },
      bumpDownstream: async (node, passed) => {
        const rows = await db.all(SQL.bump, {
          runId: node.runId,
          position: node.position,
          passed: passed ? 1 : 0,
        });
        return rows.map((r) => ({
          position: Number(r[0]),
          name: r[1] as string,
          mode: r[2] as DependencyMode,
          upstreamTotal: Number(r[3]),
          upstreamDone: Number(r[4]),
          upstreamFailed: Number(r[5]),
        }));
      },
      enqueueNodes: (runId, positions, now) =>
        enqueue(db, runId, positions, now),
    };
  }
}

/** Give nodes job ids, insert their jobs, and forget their payloads. */
async function enqueue(
  db: SharedDatabase,
  runId: string,
  positions: number[],
  now: number,
): Promise<void> {
  if (positions.length === 0) return;
  await db.change(SQL.markQueued, { runId, positions: positions.join(',') });
  await db.change(SQL.insertJobs, { runId, now });
  await db.change(SQL.insertDagJobs, { runId });
  await db.change(SQL.dropPayloads, { runId });
}

async function appendNodes(db: SharedDatabase, run: NewDagRun): Promise<void> {
  const nodes = await db.connection.createAppender('dag_nodes');
  try {
    run.nodes.forEach((n, position) => {
      nodes.appendVarchar(run.id);
      nodes.appendInteger(position);
      nodes.appendVarchar(n.name);
      nodes.appendVarchar(n.mode);
      nodes.appendVarchar('blocked');
      nodes.appendInteger(n.upstream.length);
      nodes.appendInteger(0);
      nodes.appendInteger(0);
      nodes.appendNull();
      nodes.appendNull();
      nodes.appendVarchar(n.job.queue);
      nodes.appendBlob(n.job.payload);
      nodes.appendVarchar(n.job.format);
      nodes.appendVarchar(n.job.fnName);
      nodes.appendInteger(n.job.priority);
      nodes.appendInteger(n.job.maxAttempts);
      if (n.job.timeoutMs === null) nodes.appendNull();
      else nodes.appendBigInt(BigInt(n.job.timeoutMs));
      nodes.endRow();
    });
    nodes.flushSync();
  } finally {
    nodes.closeSync();
  }
  const edges = await db.connection.createAppender('dag_edges');
  try {
    run.nodes.forEach((n, position) => {
      for (const from of n.upstream) {
        edges.appendVarchar(run.id);
        edges.appendInteger(from);
        edges.appendInteger(position);
        edges.endRow();
      }
    });
    edges.flushSync();
  } finally {
    edges.closeSync();
  }
}

function blob(v: DuckDBValue): Uint8Array | null {
  return v === null ? null : (v as DuckDBBlobValue).bytes;
}
