// PostgreSQL scaling rows of the storage suite: batch enqueue through the store,
// and jobs/s drained end to end by 1 to 4 worker PROCESSES, each with its
// own connections, as workers on several machines would be. Needs a server:
// DUCKQUEUE_PG_URL (scripts/pg-test-cluster.sh start makes a throwaway
// one). Without it the section says how to get the rows.
//
// Caveat: the worker processes, the benchmark and the server share this
// machine's cores, so the scaling seen here is a floor: on separate
// machines each worker brings its own CPU.

import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { timing } from '../../src/bench/metrics.js';
import type { Metric } from '../../src/bench/results.js';
import type { BenchMode } from '../../src/bench/settings.js';
import type { SuiteContext } from '../../src/bench/suite.js';
import { DuckQueue } from '../../src/queue/queue.js';
import { openStore, type PostgresStore } from '../../src/store/postgres.js';
import { noop } from './postgres-jobs.js';
import { JobSource } from './workloads.js';

export const PG_URL_ENV = 'DUCKQUEUE_PG_URL';

const WORKER_SCRIPT = fileURLToPath(
  new URL('./postgres-worker.ts', import.meta.url),
);

/** Every knob of the PostgreSQL rows, per mode. */
const SETTINGS: Record<
  BenchMode,
  {
    /** Jobs drained per round, whatever the number of workers. */
    drainJobs: number;
    workerCounts: number[];
    /** Rounds per row; the table shows the median. */
    rounds: number;
    /** Jobs per enqueueMany call, and calls per round. */
    batchSize: number;
    batches: number;
    /**
     * Whether the rows become metrics in results.json. Quick results feed
     * the regression gate, and a server is not always configured: a row
     * that exists only sometimes would read as a missing metric there.
     */
    metrics: boolean;
  }
> = {
  // Quick runs share the storage suite's time limit in CI; starting
  // worker processes costs seconds each, so quick runs skip these rows.
  quick: {
    drainJobs: 0,
    workerCounts: [],
    rounds: 0,
    batchSize: 1_000,
    batches: 0,
    metrics: false,
  },
  full: {
    drainJobs: 20_000,
    workerCounts: [1, 2, 3, 4],
    rounds: 3,
    batchSize: 1_000,
    batches: 20,
    metrics: true,
  },
};

export interface PostgresRows {
  metrics: Metric[];
  /** The body of the page's PostgreSQL section. */
  markdown: string;
}

interface DrainRow {
  workers: number;
  jobs: number;
  samples: number[];
}

/**
 * Measure the PostgreSQL rows, or explain why they are missing. Never
 * throws: a failure becomes the section's text.
 */
export async function measurePostgresScaling(
  ctx: SuiteContext,
  payload: Uint8Array,
): Promise<PostgresRows> {
  const url = process.env[PG_URL_ENV];
  if (!url) {
    return {
      metrics: [],
      markdown:
        `Not measured: no server. Set ${PG_URL_ENV} to a PostgreSQL ` +
        'connection string (a throwaway local one: `export ' +
        `${PG_URL_ENV}="$(bash scripts/pg-test-cluster.sh start)"\`) ` +
        'and run the suite again.',
    };
  }
  const settings = SETTINGS[ctx.mode];
  if (settings.workerCounts.length === 0) {
    return {
      metrics: [],
      markdown:
        'Scaling over worker processes is measured in full runs only ' +
        '(`npm run bench -- --suite storage`).',
    };
  }
  try {
    ctx.progress('postgres enqueueMany');
    const enqueue = await measureBatchEnqueue(url, payload, settings);
    const drains: DrainRow[] = [];
    for (const workers of settings.workerCounts) {
      ctx.progress(`postgres drain with ${workers} worker processes`);
      const samples: number[] = [];
      for (let r = 0; r < settings.rounds; r++) {
        samples.push(await drainOnce(url, workers, settings.drainJobs));
      }
      drains.push({ workers, jobs: settings.drainJobs, samples });
    }
    return {
      metrics: settings.metrics ? toMetrics(enqueue, drains) : [],
      markdown: render(enqueue, drains, settings),
    };
  } catch (err) {
    return {
      metrics: [],
      markdown:
        `Not measured: the PostgreSQL rows failed (${String(err)}). ` +
        `Check that ${PG_URL_ENV} points at a running server.`,
    };
  }
}

function schemaName(): string {
  return `bench_${randomBytes(5).toString('hex')}`;
}

async function withSchema<T>(
  url: string,
  fn: (store: PostgresStore) => Promise<T>,
): Promise<T> {
  const store = await openStore(url, { schema: schemaName() });
  try {
    return await fn(store);
  } finally {
    await store.pool
      .query(`DROP SCHEMA ${store.schema} CASCADE`)
      .catch(() => undefined);
    await store.close();
  }
}

/** Store-level enqueueMany, jobs/s per round. */
async function measureBatchEnqueue(
  url: string,
  payload: Uint8Array,
  settings: (typeof SETTINGS)[BenchMode],
): Promise<number[]> {
  const jobs = new JobSource(payload);
  const samples: number[] = [];
  for (let r = 0; r < settings.rounds; r++) {
    samples.push(
      await withSchema(url, async (store) => {
        const started = performance.now();
        for (let b = 0; b < settings.batches; b++) {
          await store.enqueueMany(jobs.many(settings.batchSize));
        }
        const seconds = (performance.now() - started) / 1000;
        return (settings.batches * settings.batchSize) / seconds;
      }),
    );
  }
  return samples;
}

/**
 * Fill a fresh schema with `jobs` calls of noop() (untimed), start the
 * worker processes and wait until each has connected, then time from 'go'
 * until the last one has drained the queue. Returns jobs/s.
 */
async function drainOnce(
  url: string,
  workers: number,
  jobs: number,
): Promise<number> {
  const schema = schemaName();
  const queue = await DuckQueue.open(url, {
    store: 'postgres',
    storeOptions: { schema } as object,
    serialization: 'v8',
  });
  const children: ChildProcess[] = [];
  try {
    const items = Array.from({ length: jobs }, () => ({ fn: noop }));
    for (let i = 0; i < items.length; i += 5_000) {
      await queue.enqueueBatch(items.slice(i, i + 5_000));
    }
    const ready: Promise<unknown>[] = [];
    for (let w = 0; w < workers; w++) {
      const child = fork(WORKER_SCRIPT, [url, schema, `bench-${w}`], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      ready.push(nextMessage(child));
    }
    await Promise.all(ready);
    const finished = children.map(
      (c) =>
        nextMessage(c) as Promise<{
          done: number;
          failed: number;
          lastDoneAt: number;
        }>,
    );
    // Wall clock on both sides (one machine): stop at the last job done,
    // not at the workers' idle checks after it.
    const started = Date.now();
    for (const c of children) c.send('go');
    const results = await Promise.all(finished);
    const ended = Math.max(...results.map((r) => r.lastDoneAt));
    const seconds = (ended - started) / 1000;
    const done = results.reduce((sum, r) => sum + r.done, 0);
    if (done !== jobs) {
      throw new Error(
        `${workers} workers finished ${done} of ${jobs} jobs ` +
          `(${results.reduce((s, r) => s + r.failed, 0)} failed)`,
      );
    }
    return jobs / seconds;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    await (queue.store as PostgresStore).pool
      .query(`DROP SCHEMA ${schema} CASCADE`)
      .catch(() => undefined);
    await queue.close();
  }
}

function nextMessage(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`worker process exited early (code ${code})`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function toMetrics(enqueue: number[], drains: DrainRow[]): Metric[] {
  const tags = ['postgres'];
  return [
    timing('storage.postgres.enqueue.batch', enqueue, {
      unit: 'jobs/s',
      better: 'higher',
      label: 'postgres store · enqueueMany',
      tags,
    }),
    ...drains.map((d) =>
      timing(`storage.postgres.drain.workers-${d.workers}`, d.samples, {
        unit: 'jobs/s',
        better: 'higher',
        label: `postgres · drained by ${d.workers} worker processes`,
        tags,
      }),
    ),
  ];
}

function render(
  enqueue: number[],
  drains: DrainRow[],
  settings: (typeof SETTINGS)[BenchMode],
): string {
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');
  const one = median(drains[0]!.samples);
  const lines = [
    `Batch enqueue through the store (enqueueMany, ${settings.batchSize} ` +
      `jobs per call): **${rate(median(enqueue))} jobs/s**.`,
    '',
    `End to end with real worker processes (each its own connections, ` +
      `Worker with concurrency 64, a no-op job stored by reference), ` +
      `${drains[0]!.jobs.toLocaleString('en-US')} jobs per round, median ` +
      `of ${settings.rounds}:`,
    '',
    '| worker processes | jobs/s | vs 1 process |',
    '| ---: | ---: | ---: |',
    ...drains.map((d) => {
      const m = median(d.samples);
      return `| ${d.workers} | ${rate(m)} | ${(m / one).toFixed(2)}x |`;
    }),
    '',
    'Workers, the benchmark and the server share this machine\'s cores, so ' +
      'scaling here is a floor; workers on separate machines each bring ' +
      'their own CPU and the server becomes the limit.',
  ];
  return lines.join('\n');
}
