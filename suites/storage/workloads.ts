// The queue operations the storage suite times, each on a fresh database
// per round so one round's leftovers never slow the next. Only `run` is
// timed; opening, filling a backlog and closing are not.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewJobRow } from '../../src/store/types.js';
import type { Backend, QueueDriver } from './drivers.js';

/** How much work one round does, per backend and mode. */
export interface WorkloadSizes {
  /** Jobs enqueued one by one (one transaction each). */
  single: number;
  /** Jobs per enqueueMany call, and calls per round. */
  batchSize: number;
  batches: number;
  /** Jobs waiting before the claim rounds start. */
  backlog: number;
  /** Jobs claimed one by one per round (≤ backlog). */
  claims: number;
  /** Jobs per claimMany call. */
  claimBatch: number;
  /** Jobs taken through enqueue -> claim -> ack one at a time. */
  e2eSingle: number;
  /** Jobs taken through enqueueMany -> claimMany(50) -> ackMany. */
  e2eBatched: number;
}

export interface Workload {
  id: string;
  label: string;
  /** Work units (jobs) per round. */
  units(sizes: WorkloadSizes): number;
  /** Untimed: bring a fresh database to the starting state. */
  prepare?(driver: QueueDriver, sizes: WorkloadSizes): Promise<void>;
  /** Timed: do the work; returns the jobs handled. */
  run(driver: QueueDriver, sizes: WorkloadSizes, jobs: JobSource): Promise<number>;
}

export const QUEUE = 'bench';
/** A fixed clock: rows are identical run to run, so sizes are too. */
export const T0 = 1_700_000_000_000;

/** Builds NewJobRow values with one payload; cheap and allocation-light. */
export class JobSource {
  constructor(private readonly payload: Uint8Array) {}

  one(): NewJobRow {
    return {
      queue: QUEUE,
      payload: this.payload,
      format: 'v8',
      fnName: 'resize',
      priority: 50,
      runAt: T0,
      maxAttempts: 3,
      timeoutMs: null,
      createdAt: T0,
    };
  }

  many(n: number): NewJobRow[] {
    return Array.from({ length: n }, () => this.one());
  }
}

async function fill(driver: QueueDriver, n: number, jobs: JobSource) {
  for (let left = n; left > 0; left -= 10_000) {
    await driver.enqueueMany(jobs.many(Math.min(left, 10_000)));
  }
}

/** The workloads, in report order. */
export function workloads(jobs: JobSource): Workload[] {
  return [
    {
      id: 'enqueue.single',
      label: 'enqueue, one job per call',
      units: (s) => s.single,
      async run(d, s) {
        for (let i = 0; i < s.single; i++) await d.enqueue(jobs.one());
        return s.single;
      },
    },
    {
      id: 'enqueue.batch',
      label: 'enqueue, batches (enqueueMany)',
      units: (s) => s.batchSize * s.batches,
      async run(d, s) {
        const batch = jobs.many(s.batchSize);
        for (let i = 0; i < s.batches; i++) await d.enqueueMany(batch);
        return s.batchSize * s.batches;
      },
    },
    {
      id: 'claim.single',
      label: 'claim, one job per call',
      units: (s) => s.claims,
      prepare: (d, s) => fill(d, s.backlog, jobs),
      async run(d, s) {
        let claimed = 0;
        for (let i = 0; i < s.claims; i++) {
          claimed += (await d.claim(QUEUE, T0, 1)).length;
        }
        return expectAll(claimed, s.claims, 'claim.single');
      },
    },
    {
      id: 'claim.batch',
      label: 'claim, batches (claimMany)',
      units: (s) => s.backlog,
      prepare: (d, s) => fill(d, s.backlog, jobs),
      async run(d, s) {
        let claimed = 0;
        for (;;) {
          const got = (await d.claim(QUEUE, T0, s.claimBatch)).length;
          if (got === 0) break;
          claimed += got;
        }
        return expectAll(claimed, s.backlog, 'claim.batch');
      },
    },
    {
      id: 'e2e.single',
      label: 'end to end, one job at a time',
      units: (s) => s.e2eSingle,
      async run(d, s) {
        for (let i = 0; i < s.e2eSingle; i++) {
          const id = await d.enqueue(jobs.one());
          const [claimed] = await d.claim(QUEUE, T0, 1);
          if (claimed !== id) throw new Error(`claimed ${claimed}, not ${id}`);
          await d.ack(id, null, T0);
        }
        return s.e2eSingle;
      },
    },
    {
      id: 'e2e.batch',
      label: 'end to end, batched (enqueueMany, claimMany, ackMany)',
      units: (s) => s.e2eBatched,
      async run(d, s) {
        for (let left = s.e2eBatched; left > 0; left -= s.batchSize) {
          await d.enqueueMany(jobs.many(Math.min(left, s.batchSize)));
        }
        let done = 0;
        for (;;) {
          const ids = await d.claim(QUEUE, T0, 50);
          if (ids.length === 0) break;
          done += await d.ackMany(ids, T0);
        }
        return expectAll(done, s.e2eBatched, 'e2e.batch');
      },
    },
  ];
}

function expectAll(got: number, want: number, what: string): number {
  if (got !== want) {
    throw new Error(`${what}: handled ${got} jobs, expected ${want}`);
  }
  return got;
}

/** A temp directory for one round, removed by `done`. */
export function scratch(): { dir: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'duckqueue-storage-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run one workload on a fresh database; returns jobs per second. */
export async function timeRound(
  backend: Backend,
  open: (location: string) => Promise<QueueDriver>,
  workload: Workload,
  sizes: WorkloadSizes,
  jobs: JobSource,
  wrap: <T>(fn: () => Promise<T>) => () => Promise<T>,
): Promise<number> {
  const { dir, done } = scratch();
  try {
    const driver = await open(join(dir, backend.fileName));
    try {
      await workload.prepare?.(driver, sizes);
      const run = wrap(() => workload.run(driver, sizes, jobs));
      const start = process.hrtime.bigint();
      const units = await run();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      return units / seconds;
    } finally {
      await driver.close();
    }
  } finally {
    done();
  }
}
