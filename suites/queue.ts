// End-to-end queue throughput: enqueue → claim → run a no-op → ack, one
// worker, per store and serialization mode, against the same loop done
// with raw SQLite statements in the same rounds. The ratio to raw is the
// share of SQLite's own speed the queue keeps.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exact } from '../src/bench/metrics.js';
import { noopJob } from '../src/bench/jobs.js';
import {
  measureThroughputAgainst,
  type BatchOperation,
} from '../src/bench/measure.js';
import { openRawSqliteLoop, type RawLoop } from '../src/bench/raw-sqlite-loop.js';
import type { Metric } from '../src/bench/results.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';
import type { QueueData, QueueRow } from '../src/bench/suite-data.js';
// Types only: the modules themselves are loaded in run(), so a missing
// queue fails this suite with a reason instead of failing to start.
import type { DuckQueue } from '../src/queue/queue.js';
import type { Worker } from '../src/worker/worker.js';
import { WORKER_DEFAULTS } from '../src/worker/options.js';

const RAW_ID = 'queue.raw.sqlite.jobsPerSec';
const MODES = ['v8', 'json', 'source', 'auto'] as const;

interface Plan {
  store: string;
  mode: string;
  jobs: number;
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'duckqueue-queue-bench-'));
}

async function queueOperation(
  plan: Plan,
  api: { DuckQueue: typeof DuckQueue; Worker: typeof Worker },
): Promise<BatchOperation> {
  let dir = '';
  let queue: DuckQueue | undefined;
  const ext = plan.store === 'duckdb' ? 'duckdb' : 'db';
  return {
    id: `queue.${plan.store}.${plan.mode}.jobsPerSec`,
    label: `${plan.store} · ${plan.mode}`,
    tags: [plan.store, plan.mode],
    async prepare() {
      dir = tempDir();
      queue = await api.DuckQueue.open(path.join(dir, `jobs.${ext}`), {
        serialization: plan.mode,
        store: plan.store,
      });
    },
    async run() {
      const q = queue!;
      for (let i = 0; i < plan.jobs; i++) await q.enqueue(noopJob);
      const worker = new api.Worker(q, { concurrency: 1 });
      const summary = await worker.run({ untilEmpty: true });
      if (summary.done !== plan.jobs) {
        throw new Error(
          `${plan.store}/${plan.mode}: ${summary.done} of ${plan.jobs} jobs ` +
            `done (${summary.failed} failed); the queue lost or failed jobs`,
        );
      }
      return summary.done;
    },
    async cleanup() {
      await queue?.close();
      queue = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rawOperation(
  jobs: number,
  payload: Uint8Array,
  claimBatch: number,
): BatchOperation {
  let dir = '';
  let loop: RawLoop | undefined;
  return {
    id: RAW_ID,
    label: 'raw SQLite loop',
    tags: ['raw-sqlite'],
    prepare() {
      dir = tempDir();
      loop = openRawSqliteLoop(path.join(dir, 'raw.db'), payload, claimBatch);
    },
    async run() {
      return loop!.run(jobs, noopJob);
    },
    cleanup() {
      loop?.close();
      loop = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const suite = defineSuite({
  name: 'queue',
  title: 'Queue throughput',
  async run(ctx): Promise<SuiteOutput> {
    const { queueJobs, queueRounds, queueDuckdbJobs } = ctx.settings;
    ctx.progress('loading the queue');
    const [queueModule, workerModule, serialize] = await Promise.all([
      import('../src/queue/queue.js'),
      import('../src/worker/worker.js'),
      import('../src/serialize/index.js'),
    ]);
    serialize.registerTask('noopJob', noopJob);
    // The raw loop stores what the v8 backend would: same row size.
    const payload = serialize
      .createSerializer('v8')
      .serialize({ fn: noopJob, args: [] });

    const plans: Plan[] = [
      ...MODES.map((mode) => ({ store: 'sqlite', mode, jobs: queueJobs })),
      // DuckDB is far slower per single-row write; the storage suite
      // covers it in depth, this row only places it on the same scale.
      ...(queueDuckdbJobs > 0
        ? [{ store: 'duckdb', mode: 'v8', jobs: queueDuckdbJobs }]
        : []),
    ];
    const rows: QueueRow[] = [];
    const metrics: Metric[] = [];
    let rawPublished = false;
    for (const [i, plan] of plans.entries()) {
      ctx.progress(`${plan.store} · ${plan.mode}`, i, plans.length);
      const row: QueueRow = {
        store: plan.store,
        mode: plan.mode,
        status: 'measured',
        jobsPerRound: plan.jobs,
      };
      rows.push(row);
      try {
        const timed = await measureThroughputAgainst(
          await queueOperation(plan, {
            DuckQueue: queueModule.DuckQueue,
            Worker: workerModule.Worker,
          }),
          rawOperation(plan.jobs, payload, WORKER_DEFAULTS.prefetch),
          plan.store === 'duckdb' ? Math.min(queueRounds, 4) : queueRounds,
        );
        metrics.push(timed.task);
        row.metricId = timed.task.id;
        if (!rawPublished && plan.jobs === queueJobs) {
          metrics.push(timed.reference);
          rawPublished = true;
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const missing = /Cannot find module|ERR_MODULE_NOT_FOUND|UnknownStore/i;
        row.status = missing.test(message) ? 'unavailable' : 'failed';
        row.reason = message.split('\n')[0];
      }
    }
    metrics.push(exact('queue.jobsPerRound', queueJobs, { unit: 'jobs' }));
    metrics.push(
      exact('queue.raw.claimBatch', WORKER_DEFAULTS.prefetch, { unit: 'jobs' }),
    );
    const data: QueueData = {
      rows,
      rawMetricId: RAW_ID,
      rawClaimBatch: WORKER_DEFAULTS.prefetch,
      jobsPerRound: queueJobs,
      rounds: queueRounds,
      targets: { jobsPerSecond: 10_000, fractionOfRaw: 0.5 },
      peers: [
        {
          name: 'SQLite-backed job queues',
          figure: '13,000–16,000 jobs/s',
          note: 'no-op jobs end to end, as published',
        },
        {
          name: 'graphile-worker',
          figure: '~184,000 jobs/s',
          note: 'PostgreSQL, with batching, as published',
        },
      ],
    };
    const failed = rows.filter(
      (r) => r.status === 'failed' && r.store === 'sqlite',
    );
    if (failed.length) {
      return {
        status: 'failed',
        reason: failed.map((r) => `${r.store}/${r.mode}: ${r.reason}`).join('; '),
        metrics,
        data,
      };
    }
    return { metrics, data };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
