// What isolating jobs costs. One running worker per isolation mode drains
// batches of no-op jobs ('v8' by reference, SQLite); each mode is timed
// round by round against the in-process worker ('none'), so the ratios
// cancel out a busy machine. The worker and its isolates are started
// before the timed part: the rows are steady-state cost per job, and
// the first-job rows show what starting a pool costs once.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { noopJob } from '../src/bench/jobs.js';
import {
  measureThroughputAgainst,
  type BatchOperation,
} from '../src/bench/measure.js';
import { exact, timing } from '../src/bench/metrics.js';
import type { Metric, TimingMetric } from '../src/bench/results.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteOutput,
} from '../src/bench/suite.js';
// Types only: loaded in run(), so a missing module fails the suite with
// a reason instead of failing to start.
import type { DuckQueue } from '../src/queue/queue.js';
import type { Worker } from '../src/worker/worker.js';
import type { WorkerOptions } from '../src/worker/options.js';

interface Variant {
  key: string;
  label: string;
  options: WorkerOptions;
}

const REFERENCE: Variant = {
  key: 'none',
  label: 'in-process (none)',
  options: { isolation: 'none' },
};

const VARIANTS: Variant[] = [
  { key: 'thread', label: 'worker thread', options: { isolation: 'thread' } },
  {
    key: 'process',
    label: 'child process',
    options: { isolation: 'process' },
  },
  {
    key: 'process-sandbox',
    label: 'sandboxed child process',
    options: { isolation: 'process', sandbox: {} },
  },
];

/** Idle polls are short so a round does not wait on a sleeping worker. */
const POLL_MS = 2;

interface Api {
  DuckQueue: typeof DuckQueue;
  Worker: typeof Worker;
}

function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'duckqueue-isolation-bench-'));
}

/**
 * A worker that keeps running across rounds (its isolate starts once, in
 * the first prepare); run() enqueues a batch in one transaction and
 * resolves when the worker has done it. dispose() stops it.
 */
interface DrainOperation extends BatchOperation {
  dispose(): Promise<void>;
}

function drainOperation(
  variant: Variant,
  jobs: number,
  api: Api,
): DrainOperation {
  let dir = '';
  let queue: DuckQueue | undefined;
  let worker: Worker | undefined;
  let running: Promise<unknown> | undefined;
  let done = 0;
  let failed = 0;
  let wanted = Infinity;
  let reached: (() => void) | undefined;
  const batch = Array.from({ length: jobs }, () => ({ fn: noopJob }));
  return {
    id: `isolation.${variant.key}.jobsPerSec`,
    label: variant.label,
    tags: ['isolation', variant.key],
    async prepare() {
      if (queue) return;
      dir = tempDir();
      queue = await api.DuckQueue.open(path.join(dir, 'jobs.db'), {
        serialization: 'v8',
      });
      worker = new api.Worker(queue, { ...variant.options, pollMs: POLL_MS });
      worker.on('job:done', () => {
        done++;
        if (done >= wanted) reached?.();
      });
      worker.on('job:failed', () => failed++);
      running = worker.run();
      // Start the pool's isolate outside the timed part.
      const warm = await queue.enqueue(noopJob);
      await queue.result(warm, { waitMs: 120_000 });
    },
    async run() {
      const q = queue!;
      wanted = done + jobs;
      const all = new Promise<void>((resolve) => (reached = resolve));
      await q.enqueueBatch(batch);
      await all;
      if (failed > 0) {
        throw new Error(
          `${variant.key}: ${failed} no-op jobs failed; see the worker's errors`,
        );
      }
      return jobs;
    },
    async cleanup() {
      // Untimed: keep the table the same size from round to round.
      await queue?.purge({ status: 'done' });
    },
    async dispose() {
      await worker?.stop();
      await running;
      await queue?.close();
      queue = undefined;
      worker = undefined;
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Time from run() to the first job done: pool start-up, once. */
async function firstJobMs(variant: Variant, api: Api): Promise<number> {
  const dir = tempDir();
  const queue = await api.DuckQueue.open(path.join(dir, 'jobs.db'), {
    serialization: 'v8',
  });
  try {
    const id = await queue.enqueue(noopJob);
    const worker = new api.Worker(queue, { ...variant.options, pollMs: POLL_MS });
    const started = performance.now();
    const running = worker.run();
    await queue.result(id, { waitMs: 120_000 });
    const ms = performance.now() - started;
    await worker.stop();
    await running;
    return ms;
  } finally {
    await queue.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per-job milliseconds from jobs/s, round by round. */
function msPerJob(rates: readonly number[]): number[] {
  return rates.map((rate) => 1_000 / rate);
}

function fixed(n: number, digits = 2): string {
  return n.toFixed(digits);
}

const suite = defineSuite({
  name: 'isolation',
  title: 'Isolation cost',
  async run(ctx): Promise<SuiteOutput> {
    const { queueJobs, queueRounds } = ctx.settings;
    ctx.progress('loading the queue');
    const [queueModule, workerModule] = await Promise.all([
      import('../src/queue/queue.js'),
      import('../src/worker/worker.js'),
    ]);
    const api: Api = {
      DuckQueue: queueModule.DuckQueue,
      Worker: workerModule.Worker,
    };
    const metrics: Metric[] = [];
    const lines = [
      `No-op 'v8' jobs on SQLite, one running worker, concurrency 1, ` +
        `${queueJobs} jobs enqueued per round in one batch, ${queueRounds} ` +
        'rounds; each mode against the in-process worker in the same ' +
        'rounds. "first job" is a fresh worker\'s first job (pool start).',
      '',
      '| mode | jobs/s | × none | ms per job | × none | added ms per job ' +
        '| first job ms |',
      '|---|---:|---:|---:|---:|---:|---:|',
    ];
    const failures: string[] = [];
    const firstJob = new Map<string, number[]>();
    // Starting a pool is slow (seconds for the sandbox from sources):
    // one sample in quick mode.
    const startRounds = ctx.mode === 'quick' ? 1 : 3;
    for (const variant of [REFERENCE, ...VARIANTS]) {
      ctx.progress(`first job · ${variant.key}`);
      const samples: number[] = [];
      try {
        for (let i = 0; i < startRounds; i++) {
          samples.push(await firstJobMs(variant, api));
        }
        firstJob.set(variant.key, samples);
      } catch (error) {
        failures.push(`${variant.key} start-up: ${String(error)}`);
      }
    }
    const noneStart = firstJob.get('none');
    for (const [key, samples] of firstJob) {
      metrics.push(
        timing(`isolation.${key}.firstJobMs`, samples, {
          unit: 'ms',
          label: `first job · ${key}`,
          tags: ['isolation', key],
          ...(noneStart && key !== 'none'
            ? { ratioTo: { id: 'isolation.none.firstJobMs', samples: noneStart } }
            : {}),
        }),
      );
    }

    let referencePublished = false;
    for (const [i, variant] of VARIANTS.entries()) {
      ctx.progress(`${variant.key} against none`, i, VARIANTS.length);
      const task = drainOperation(variant, queueJobs, api);
      const reference = drainOperation(REFERENCE, queueJobs, api);
      try {
        const timed = await measureThroughputAgainst(
          task,
          reference,
          queueRounds,
        );
        metrics.push(timed.task);
        if (!referencePublished) {
          metrics.push(timed.reference);
          referencePublished = true;
        }
        const mine = msPerJob(timed.task.samples);
        const theirs = msPerJob(timed.reference.samples);
        const perJob: TimingMetric = timing(
          `isolation.${variant.key}.msPerJob`,
          mine,
          {
            unit: 'ms',
            label: `${variant.label} · ms per job`,
            tags: ['isolation', variant.key],
            ratioTo: { id: 'isolation.none.msPerJob', samples: theirs },
          },
        );
        const added = mine.map((ms, r) => ms - theirs[r]!);
        metrics.push(
          perJob,
          timing(`isolation.${variant.key}.addedMsPerJob`, added, {
            unit: 'ms',
            label: `${variant.label} · added ms per job`,
            tags: ['isolation', variant.key],
          }),
        );
        const start = firstJob.get(variant.key);
        lines.push(
          `| ${variant.label} | ${fixed(timed.task.stats.median, 0)} | ` +
            `${fixed(timed.task.ratio!.stats.median)} | ` +
            `${fixed(perJob.stats.median, 3)} | ` +
            `${fixed(perJob.ratio!.stats.median)} | ` +
            `${fixed(median(added), 3)} | ` +
            `${start ? fixed(median(start), 0) : 'n/a'} |`,
        );
        if (i === 0) {
          const noneStartMs = noneStart ? fixed(median(noneStart), 0) : 'n/a';
          lines.splice(
            4,
            0,
            `| ${REFERENCE.label} | ${fixed(timed.reference.stats.median, 0)} | ` +
              `1.00 | ${fixed(median(theirs), 3)} | 1.00 | 0 | ${noneStartMs} |`,
          );
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push(`${variant.key}: ${message.split('\n')[0]}`);
        const first = message.split('\n')[0];
        lines.push(`| ${variant.label} | failed: ${first} ||||||`);
      } finally {
        await task.dispose();
        await reference.dispose();
      }
    }
    metrics.push(exact('isolation.jobsPerRound', queueJobs, { unit: 'jobs' }));
    lines.push(
      '',
      'Ratios above 1 in "ms per job" are slower than in-process. The ' +
        'sandboxed row loads the TypeScript loader when run from sources, ' +
        'which shows in its first job, not in its steady state.',
    );
    const markdown = lines.join('\n');
    if (failures.length > 0) {
      return { status: 'failed', reason: failures.join('; '), metrics, markdown };
    }
    return { metrics, markdown };
  },
});

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export default suite;
runSuiteIfMain(suite, import.meta.url);
