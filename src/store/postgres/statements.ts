// Every SQL statement of the PostgreSQL store, built once per schema.
// Tables are schema-qualified (the schema name is a checked plain
// identifier), so statements work whatever the connection's search_path.

import { NOTIFY_CHANNEL } from './listener.js';
import { jobColumns, shownStatus } from './rows.js';

// Applies only while the job is still held by the fenced claim, if given.
const HELD = `status = 'claimed' AND ($2::text IS NULL OR
  (claimed_by = $2 AND attempts = $3::int))`;

export function statements(schema: string, notify: boolean) {
  const jobs = `${schema}.jobs`;
  // pg_notify returns void; with notifications off the column is NULL.
  const notifyQueue = (queue: string) =>
    notify
      ? `pg_notify('${NOTIFY_CHANNEL}', '${schema}/' || ${queue})`
      : 'NULL';
  return {
    jobs,
    insert: `INSERT INTO ${jobs} (queue, status, payload, format, fn_name,
        priority, max_attempts, timeout_ms, run_at, created_at, updated_at)
      VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $9)
      RETURNING id::text AS id`,
    insertNotify: `WITH ins AS (INSERT INTO ${jobs} (queue, status, payload,
        format, fn_name, priority, max_attempts, timeout_ms, run_at,
        created_at, updated_at)
      VALUES ($1, 'pending', $2, $3, $4, $5, $6, $7, $8, $9, $9)
      RETURNING id, queue, run_at <= created_at AS ready)
      SELECT id::text AS id,
        CASE WHEN ready THEN ${notifyQueue('queue')} END AS notified
      FROM ins`,
    reserveIds: `SELECT nextval('${schema}.jobs_id_seq')::text AS id
      FROM generate_series(1, $1::int)`,
    insertMany: `INSERT INTO ${jobs} (id, queue, status, payload, format,
        fn_name, priority, max_attempts, timeout_ms, run_at, created_at,
        updated_at)
      SELECT id, queue, 'pending', payload, format, fn_name, priority,
        max_attempts, timeout_ms, run_at, created_at, created_at
      FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::text[],
        $5::text[], $6::int[], $7::int[], $8::bigint[], $9::bigint[],
        $10::bigint[]) AS t(id, queue, payload, format, fn_name, priority,
        max_attempts, timeout_ms, run_at, created_at)`,
    notifyQueues: `SELECT ${notifyQueue('q')} FROM unnest($1::text[]) AS q`,
    // `picked` chooses and locks; rows another claimer holds are skipped,
    // not waited for. MATERIALIZED makes it run exactly once: a subquery
    // the planner may rescan (e.g. inside a nested loop) would lock new
    // rows on every rescan and claim more than LIMIT. RETURNING has no
    // order: callers sort.
    claim: `WITH picked AS MATERIALIZED (SELECT id FROM ${jobs}
        WHERE queue = $1 AND status = 'pending' AND run_at <= $2::bigint
        ORDER BY priority DESC, run_at, id
        LIMIT $5::int
        FOR UPDATE SKIP LOCKED)
      UPDATE ${jobs} SET status = 'claimed',
        -- Planted out-of-range values must not make the claim itself
        -- overflow and stall the queue: the worker fails such rows.
        attempts = LEAST(attempts, 2147483646) + 1,
        claimed_at = $2::bigint, claimed_by = $3,
        claim_expires_at = $2::bigint + $4::bigint + (CASE
          WHEN timeout_ms BETWEEN 1 AND 2147483647 THEN timeout_ms
          ELSE 0 END),
        updated_at = $2::bigint
      WHERE id IN (SELECT id FROM picked)
      RETURNING ${jobColumns('$2::bigint')}`,
    ack: `UPDATE ${jobs} SET status = 'done', result = $4,
        finished_at = $5, updated_at = $5, claim_expires_at = NULL
      WHERE id = $1 AND ${HELD}`,
    // One statement for a batch of acks; each row carries its own fence.
    ackMany: `UPDATE ${jobs} j SET status = 'done', result = a.result,
        finished_at = $1, updated_at = $1, claim_expires_at = NULL
      FROM unnest($2::bigint[], $3::bytea[], $4::text[], $5::int[])
        AS a(id, result, worker, attempt)
      WHERE j.id = a.id AND j.status = 'claimed' AND (a.worker IS NULL OR
        (j.claimed_by = a.worker AND j.attempts = a.attempt))
      RETURNING j.id::text AS id`,
    outcomes: `SELECT id::text AS id, status, claimed_by, attempts
      FROM ${jobs} WHERE id = ANY($1::bigint[])`,
    retry: `UPDATE ${jobs} SET status = 'pending', run_at = $4,
        updated_at = $5, claim_expires_at = NULL, error_name = $6,
        error_message = $7, error_stack = $8, error_value = $9
      WHERE id = $1 AND ${HELD}
      RETURNING CASE WHEN run_at <= $5 THEN ${notifyQueue('queue')} END`,
    fail: `UPDATE ${jobs} SET status = $4, finished_at = $5, updated_at = $5,
        claim_expires_at = NULL, error_name = $6, error_message = $7,
        error_stack = $8, error_value = $9
      WHERE id = $1 AND ${HELD}`,
    release: `UPDATE ${jobs} SET status = 'pending',
        attempts = attempts - 1, run_at = $4, updated_at = $4,
        claim_expires_at = NULL
      WHERE id = $1 AND ${HELD}
      RETURNING ${notifyQueue('queue')}`,
    extend: `UPDATE ${jobs} SET claim_expires_at = $4, updated_at = $5
      WHERE id = $1 AND ${HELD}`,
    outcome: `SELECT status, claimed_by, attempts,
        claim_expires_at::text AS claim_expires_at
      FROM ${jobs} WHERE id = $1`,
    // SKIP LOCKED: a row being acked right now is finished by that ack.
    recover: `WITH lapsed AS MATERIALIZED (SELECT id FROM ${jobs}
        WHERE status = 'claimed' AND claim_expires_at <= $1::bigint
          AND ($6::text IS NULL OR queue = $6)
        FOR UPDATE SKIP LOCKED),
      moved AS (UPDATE ${jobs} j SET
        status = CASE WHEN attempts >= max_attempts THEN 'dead'
          ELSE 'pending' END,
        finished_at = CASE WHEN attempts >= max_attempts THEN $1::bigint
          ELSE NULL END,
        run_at = $1::bigint, updated_at = $1::bigint,
        claim_expires_at = NULL, error_name = $2, error_message = $3,
        error_stack = $4, error_value = $5
      FROM lapsed WHERE j.id = lapsed.id
      RETURNING j.status, j.queue)
      SELECT status, queue, count(*)::int AS n FROM moved GROUP BY 1, 2`,
    statsQueue: `SELECT ${shownStatus('$1::bigint')} AS status,
        count(*)::int AS n
      FROM ${jobs} WHERE queue = $2 GROUP BY 1`,
    statsAll: `SELECT ${shownStatus('$1::bigint')} AS status,
        count(*)::int AS n
      FROM ${jobs} GROUP BY 1`,
    countWaiting: `SELECT count(*)::int AS n FROM ${jobs}
      WHERE queue = $1 AND status = 'pending'`,
    // Walks the index one distinct queue at a time instead of reading
    // every row: the table may hold millions of finished jobs.
    queues: `WITH RECURSIVE q AS (
        (SELECT queue FROM ${jobs} ORDER BY queue LIMIT 1)
        UNION ALL
        SELECT (SELECT queue FROM ${jobs} WHERE queue > q.queue
          ORDER BY queue LIMIT 1)
        FROM q WHERE q.queue IS NOT NULL)
      SELECT queue FROM q WHERE queue IS NOT NULL`,
    get: `SELECT ${jobColumns('$2::bigint')} FROM ${jobs} WHERE id = $1`,
    purge: `DELETE FROM ${jobs} WHERE status = $1 AND finished_at <= $2
      AND ($3::text IS NULL OR queue = $3)`,
    requeue: `UPDATE ${jobs} SET status = 'pending', attempts = 0,
        run_at = $2, updated_at = $2, finished_at = NULL, claimed_at = NULL,
        claimed_by = NULL, claim_expires_at = NULL
      WHERE id = $1 AND status IN ('failed', 'dead')
      RETURNING ${notifyQueue('queue')}`,
  };
}

export type Statements = ReturnType<typeof statements>;
