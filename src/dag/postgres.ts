// DAG tables and the DagStore for the PostgreSQL store. Settling lives in
// the database: a trigger on jobs runs dag_settle() when a claimed job
// becomes done, failed or dead, inside the very statement that changed it.
// So the store's ack, fail and recovery stay single statements, with their
// connection-loss handling unchanged, and readiness is decided in the same
// transaction by construction. Newly ready jobs send the store's NOTIFY.
//
// The functions keep the schema they were created in as their search_path
// (SET search_path FROM CURRENT; the migration runner sets it), so one
// database can hold several queue schemas.

import type pg from 'pg';
import type { SqlMigration } from '../store/sqlite-migrations.js';
import type { JobStatus } from '../store/types.js';
import { NOTIFY_CHANNEL } from '../store/postgres/listener.js';
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

export const postgresDagMigrations: readonly SqlMigration[] = [
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
        created_at BIGINT NOT NULL,
        finished_at BIGINT
      );
      CREATE TABLE dag_nodes (
        run_id TEXT NOT NULL REFERENCES dag_runs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('all', 'any')),
        state TEXT NOT NULL CHECK (state IN
          ('blocked', 'queued', 'done', 'failed', 'skipped')),
        upstream_total INTEGER NOT NULL,
        upstream_done INTEGER NOT NULL DEFAULT 0,
        upstream_failed INTEGER NOT NULL DEFAULT 0,
        skipped_by TEXT,
        job_id BIGINT,
        queue TEXT NOT NULL,
        payload BYTEA,
        format TEXT NOT NULL,
        fn_name TEXT NOT NULL,
        priority INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        timeout_ms BIGINT,
        PRIMARY KEY (run_id, position),
        UNIQUE (run_id, name)
      );
      -- Every finished job looks itself up here; partial, so it holds DAG
      -- jobs only.
      CREATE UNIQUE INDEX dag_nodes_job ON dag_nodes (job_id)
        WHERE job_id IS NOT NULL;
      CREATE TABLE dag_edges (
        run_id TEXT NOT NULL,
        from_pos INTEGER NOT NULL,
        to_pos INTEGER NOT NULL,
        PRIMARY KEY (run_id, from_pos, to_pos)
      );
      CREATE INDEX dag_edges_upstream ON dag_edges (run_id, to_pos, from_pos);

      -- Insert the jobs of ready nodes and mark them queued.
      CREATE FUNCTION dag_enqueue(p_run TEXT, p_positions INTEGER[],
          p_now BIGINT)
      RETURNS VOID LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      DECLARE
        q TEXT;
      BEGIN
        FOR q IN
          WITH picked AS (
            UPDATE dag_nodes SET state = 'queued',
              job_id = nextval(pg_get_serial_sequence('jobs', 'id'))
            WHERE run_id = p_run AND position = ANY (p_positions)
              AND state = 'blocked'
            RETURNING job_id, queue, payload, format, fn_name, priority,
              max_attempts, timeout_ms),
          added AS (
            INSERT INTO jobs (id, queue, status, payload, format, fn_name,
              priority, max_attempts, timeout_ms, run_at, created_at,
              updated_at)
            SELECT job_id, queue, 'pending', payload, format, fn_name,
              priority, max_attempts, timeout_ms, p_now, p_now, p_now
            FROM picked
            RETURNING queue)
          SELECT DISTINCT queue FROM added
        LOOP
          PERFORM pg_notify('${NOTIFY_CHANNEL}', current_schema() || '/' || q);
        END LOOP;
        UPDATE dag_nodes SET payload = NULL
        WHERE run_id = p_run AND position = ANY (p_positions);
      END
      $fn$;

      -- src/dag/settle.ts, in PL/pgSQL: finish the node of a job, bump its
      -- downstreams, enqueue the ready ones and cascade skips.
      CREATE FUNCTION dag_settle(p_job BIGINT, p_outcome TEXT, p_now BIGINT)
      RETURNS VOID LANGUAGE plpgsql SET search_path FROM CURRENT AS $fn$
      DECLARE
        v_run TEXT;
        v_pos INTEGER;
        todo_pos INTEGER[];
        todo_state TEXT[];
        todo_by TEXT[];
        cur_pos INTEGER;
        cur_state TEXT;
        cur_by TEXT;
        cur_name TEXT;
        last INTEGER;
        ready INTEGER[];
        d RECORD;
      BEGIN
        SELECT run_id, position INTO v_run, v_pos FROM dag_nodes
        WHERE job_id = p_job AND state = 'queued';
        IF NOT FOUND THEN
          RETURN;
        END IF;
        todo_pos := ARRAY[v_pos];
        todo_state := ARRAY[p_outcome];
        todo_by := ARRAY[NULL::TEXT];
        WHILE cardinality(todo_pos) > 0 LOOP
          last := cardinality(todo_pos);
          cur_pos := todo_pos[last];
          cur_state := todo_state[last];
          cur_by := todo_by[last];
          todo_pos := todo_pos[1:last - 1];
          todo_state := todo_state[1:last - 1];
          todo_by := todo_by[1:last - 1];
          UPDATE dag_nodes SET state = cur_state, skipped_by = cur_by
          WHERE run_id = v_run AND position = cur_pos
          RETURNING name INTO cur_name;
          UPDATE dag_runs SET
            unfinished = unfinished - 1,
            failed_count = failed_count + (cur_state = 'failed')::INTEGER,
            state = CASE WHEN unfinished > 1 THEN state
              WHEN failed_count + (cur_state = 'failed')::INTEGER > 0
                THEN 'failed' ELSE 'done' END,
            finished_at = CASE WHEN unfinished > 1 THEN NULL ELSE p_now END
          WHERE id = v_run;
          ready := ARRAY[]::INTEGER[];
          FOR d IN
            UPDATE dag_nodes SET
              upstream_done = upstream_done + (cur_state = 'done')::INTEGER,
              upstream_failed = upstream_failed
                + (cur_state <> 'done')::INTEGER
            WHERE run_id = v_run AND state = 'blocked' AND position IN
              (SELECT to_pos FROM dag_edges
               WHERE run_id = v_run AND from_pos = cur_pos)
            RETURNING position, mode, upstream_total, upstream_done,
              upstream_failed
          LOOP
            IF cur_state = 'done' THEN
              IF d.mode = 'any' OR d.upstream_done = d.upstream_total THEN
                ready := ready || d.position;
              END IF;
            ELSIF d.mode = 'all' OR d.upstream_failed = d.upstream_total THEN
              todo_pos := todo_pos || d.position;
              todo_state := todo_state || 'skipped'::TEXT;
              todo_by := todo_by || cur_name;
            END IF;
          END LOOP;
          IF cardinality(ready) > 0 THEN
            PERFORM dag_enqueue(v_run, ready, p_now);
          END IF;
        END LOOP;
      END
      $fn$;

      CREATE FUNCTION dag_job_finished() RETURNS TRIGGER LANGUAGE plpgsql
      SET search_path FROM CURRENT AS $fn$
      BEGIN
        PERFORM dag_settle(NEW.id,
          CASE WHEN NEW.status = 'done' THEN 'done' ELSE 'failed' END,
          NEW.updated_at);
        RETURN NULL;
      END
      $fn$;

      CREATE TRIGGER dag_job_finished AFTER UPDATE OF status ON jobs
        FOR EACH ROW
        WHEN (OLD.status = 'claimed'
          AND NEW.status IN ('done', 'failed', 'dead'))
        EXECUTE FUNCTION dag_job_finished();
    `,
  },
  {
    name: 'dag-002-retry-failed',
    sql: `
      -- DagStore.retryFailed. The run row is locked first: a settle that
      -- wants it waits, and one that holds it touches no failed or
      -- skipped node, so the two cannot deadlock.
      CREATE FUNCTION dag_retry_failed(p_run TEXT, p_now BIGINT)
      RETURNS SETOF BIGINT LANGUAGE plpgsql SET search_path FROM CURRENT
      AS $fn$
      DECLARE
        v_failed INTEGER;
        v_skipped INTEGER;
      BEGIN
        PERFORM 1 FROM dag_runs WHERE id = p_run FOR UPDATE;
        SELECT count(*) INTO v_failed FROM dag_nodes
        WHERE run_id = p_run AND state = 'failed';
        IF v_failed = 0 THEN
          RETURN;
        END IF;
        RETURN QUERY SELECT job_id FROM dag_nodes
          WHERE run_id = p_run AND state = 'failed' ORDER BY position;
        -- The same change as the store's requeue.
        UPDATE jobs SET status = 'pending', attempts = 0, run_at = p_now,
          updated_at = p_now, finished_at = NULL, claimed_at = NULL,
          claimed_by = NULL, claim_expires_at = NULL
        WHERE status IN ('failed', 'dead') AND id IN (SELECT job_id
          FROM dag_nodes WHERE run_id = p_run AND state = 'failed');
        PERFORM pg_notify('${NOTIFY_CHANNEL}', current_schema() || '/' || q)
        FROM (SELECT DISTINCT queue AS q FROM dag_nodes
          WHERE run_id = p_run AND state = 'failed') AS queues;
        UPDATE dag_nodes SET state = 'queued'
        WHERE run_id = p_run AND state = 'failed';
        UPDATE dag_nodes n SET state = 'blocked', skipped_by = NULL,
          upstream_failed = 0,
          upstream_done = (SELECT count(*) FROM dag_edges e
            JOIN dag_nodes u
              ON u.run_id = e.run_id AND u.position = e.from_pos
            WHERE e.run_id = n.run_id AND e.to_pos = n.position
              AND u.state = 'done')
        WHERE n.run_id = p_run AND n.state = 'skipped';
        GET DIAGNOSTICS v_skipped = ROW_COUNT;
        UPDATE dag_runs SET state = 'running', finished_at = NULL,
          failed_count = failed_count - v_failed,
          unfinished = unfinished + v_failed + v_skipped
        WHERE id = p_run;
      END
      $fn$;
    `,
  },
];

/** What the DAG store needs of the PostgreSQL store. */
export interface PostgresHost {
  readonly pool: pg.Pool;
  /** Schema-qualified table or function name. */
  table(name: string): string;
}

export class PostgresDagStore implements DagStore {
  constructor(private readonly host: PostgresHost) {}

  private t(name: string): string {
    return this.host.table(name);
  }

  async createRun(run: NewDagRun): Promise<Map<number, string>> {
    const client = await this.host.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${this.t('dag_runs')} (id, name, state, node_count,
          unfinished, created_at) VALUES ($1, $2, 'running', $3, $3, $4)`,
        [run.id, run.name, run.nodes.length, run.createdAt],
      );
      const n = run.nodes;
      await client.query(
        `INSERT INTO ${this.t('dag_nodes')} (run_id, position, name, mode,
          state, upstream_total, queue, payload, format, fn_name, priority,
          max_attempts, timeout_ms)
        SELECT $1, position - 1, name, mode, 'blocked', total, queue,
          payload, format, fn_name, priority, max_attempts, timeout_ms
        FROM unnest($2::text[], $3::text[], $4::int[], $5::text[],
          $6::bytea[], $7::text[], $8::text[], $9::int[], $10::int[],
          $11::bigint[]) WITH ORDINALITY AS t(name, mode, total, queue,
          payload, format, fn_name, priority, max_attempts, timeout_ms,
          position)`,
        [
          run.id,
          n.map((x) => x.name),
          n.map((x) => x.mode),
          n.map((x) => x.upstream.length),
          n.map((x) => x.job.queue),
          n.map((x) => x.job.payload),
          n.map((x) => x.job.format),
          n.map((x) => x.job.fnName),
          n.map((x) => x.job.priority),
          n.map((x) => x.job.maxAttempts),
          n.map((x) => x.job.timeoutMs),
        ],
      );
      const from: number[] = [];
      const to: number[] = [];
      n.forEach((x, i) => {
        for (const u of x.upstream) {
          from.push(u);
          to.push(i);
        }
      });
      await client.query(
        `INSERT INTO ${this.t('dag_edges')} (run_id, from_pos, to_pos)
        SELECT $1, f, t FROM unnest($2::int[], $3::int[]) AS e(f, t)`,
        [run.id, from, to],
      );
      const roots = n.flatMap((x, i) => (x.upstream.length ? [] : [i]));
      await client.query(`SELECT ${this.t('dag_enqueue')}($1, $2, $3)`, [
        run.id,
        roots,
        run.createdAt,
      ]);
      const { rows } = await client.query<{ position: number; id: string }>(
        `SELECT position, job_id::text AS id FROM ${this.t('dag_nodes')}
        WHERE run_id = $1 AND job_id IS NOT NULL`,
        [run.id],
      );
      await client.query('COMMIT');
      return new Map(rows.map((r) => [r.position, r.id]));
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async retryFailed(runId: string, now: number): Promise<string[]> {
    const { rows } = await this.host.pool.query<{ id: string }>(
      `SELECT id::text AS id FROM ${this.t('dag_retry_failed')}($1, $2) id`,
      [runId, now],
    );
    return rows.map((r) => r.id);
  }

  async getRun(runId: string): Promise<DagRunRow | null> {
    const { rows } = await this.host.pool.query(
      `SELECT id, name, state, node_count, unfinished, failed_count,
        created_at::float8 AS created_at, finished_at::float8 AS finished_at
      FROM ${this.t('dag_runs')} WHERE id = $1`,
      [runId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      id: r.id,
      name: r.name,
      state: r.state as DagRunState,
      nodeCount: r.node_count,
      unfinished: r.unfinished,
      failedCount: r.failed_count,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
    };
  }

  async listNodes(runId: string): Promise<DagNodeRow[]> {
    const { rows } = await this.host.pool.query(
      `SELECT n.position, n.name, n.mode, n.state, n.skipped_by,
        n.job_id::text AS job_id, j.status, j.attempts, j.result,
        j.error_name, j.error_message, j.error_stack, j.error_value
      FROM ${this.t('dag_nodes')} n
      LEFT JOIN ${this.t('jobs')} j ON j.id = n.job_id
      WHERE n.run_id = $1 ORDER BY n.position`,
      [runId],
    );
    return rows.map((r) => ({
      position: r.position,
      name: r.name,
      mode: r.mode as DependencyMode,
      state: r.state as DagNodeState,
      skippedBy: r.skipped_by,
      jobId: r.job_id,
      jobStatus: r.status as JobStatus | null,
      attempts: r.attempts ?? 0,
      result: r.result,
      lastError: errorFromColumns(r),
    }));
  }

  async listEdges(runId: string): Promise<[number, number][]> {
    const { rows } = await this.host.pool.query(
      `SELECT from_pos, to_pos FROM ${this.t('dag_edges')}
      WHERE run_id = $1 ORDER BY to_pos, from_pos`,
      [runId],
    );
    return rows.map((r) => [r.from_pos, r.to_pos]);
  }

  async jobNode(jobId: string): Promise<DagJobRow | null> {
    if (!/^[1-9][0-9]{0,17}$/.test(jobId)) return null;
    const { rows } = await this.host.pool.query(
      `SELECT n.run_id, r.name AS dag, n.name, u.name AS up_name,
        u.state AS up_state, j.status AS up_status, j.result AS up_result
      FROM ${this.t('dag_nodes')} n
      JOIN ${this.t('dag_runs')} r ON r.id = n.run_id
      LEFT JOIN ${this.t('dag_edges')} e
        ON e.run_id = n.run_id AND e.to_pos = n.position
      LEFT JOIN ${this.t('dag_nodes')} u
        ON u.run_id = e.run_id AND u.position = e.from_pos
      LEFT JOIN ${this.t('jobs')} j ON j.id = u.job_id
      WHERE n.job_id = $1 ORDER BY e.from_pos`,
      [jobId],
    );
    const first = rows[0];
    if (!first) return null;
    return {
      runId: first.run_id,
      dag: first.dag,
      node: first.name,
      upstream: rows
        .filter((r) => r.up_name !== null)
        .map((r) => ({
          name: r.up_name,
          state: r.up_state as DagNodeState,
          jobStatus: r.up_status as JobStatus | null,
          result: r.up_result,
        })),
    };
  }
}
