// Storage: how fast each store enqueues and claims, end to end, and how
// many bytes a job takes on disk, beside the same operations written
// straight against the database driver (the limit a store can reach) and
// beside Queuack's published figures. Answers which store should be the
// default, with numbers: reports/storage.md.

import { serialize } from 'node:v8';
import { exact, timing } from '../src/bench/metrics.js';
import type { Metric } from '../src/bench/results.js';
import type { BenchMode } from '../src/bench/settings.js';
import { withSlowdown } from '../src/bench/slowdown.js';
import { typicalJobArgument } from '../src/bench/inputs.js';
import {
  defineSuite,
  runSuiteIfMain,
  type SuiteContext,
} from '../src/bench/suite.js';
import {
  BACKENDS,
  duckdbBackend,
  fileBytes,
  openRawSqlite,
  sqliteBackend,
  type Backend,
  type QueueDriver,
} from './storage/drivers.js';
import { renderStoragePage, type StorageData } from './storage/page.js';
import { measurePostgres } from './storage/postgres.js';
import { measurePostgresScaling } from './storage/postgres-scaling.js';
import {
  JobSource,
  QUEUE,
  T0,
  scratch,
  timeRound,
  workloads,
  type WorkloadSizes,
} from './storage/workloads.js';

/** Every knob of the suite, per mode and backend, in one place. */
const SETTINGS: Record<
  BenchMode,
  {
    /** Rounds of store and raw, alternating; the gate needs at least 5. */
    rounds: number;
    /**
     * Whether the rates the gate ignores also get raw rows and all rounds;
     * quick mode times them through the store only, in fewer rounds.
     */
    rawForAll: boolean;
    ungatedRounds: number;
    sizes: Record<string, WorkloadSizes>;
    /** Rows in the table for the claim-cost rows; empty skips them. */
    tableSizes: number[];
    /** Claims timed at each table size, per backend. */
    scalingClaims: Record<string, number>;
    /** enqueueMany batch sizes compared; empty skips the rows. */
    batchSizes: number[];
    batchJobs: Record<string, number>;
    /** Jobs written for the bytes-on-disk rows. */
    diskJobs: number;
    /** Jobs per round for the fsync-per-commit rows; 0 skips them. */
    durabilityJobs: number;
    /** Work per round on PostgreSQL (page data only), and its rounds. */
    postgres: WorkloadSizes;
    postgresRounds: number;
  }
> = {
  // Quick runs in CI before the gate: the gated rates and the disk sizes
  // only, kept small because DuckDB commits cost milliseconds each.
  quick: {
    rounds: 5,
    rawForAll: false,
    ungatedRounds: 3,
    sizes: {
      sqlite: {
        single: 500, batchSize: 1000, batches: 10, backlog: 2000,
        claims: 500, claimBatch: 100, e2eSingle: 300, e2eBatched: 2000,
      },
      duckdb: {
        single: 30, batchSize: 1000, batches: 3, backlog: 500,
        claims: 30, claimBatch: 100, e2eSingle: 15, e2eBatched: 300,
      },
    },
    tableSizes: [],
    scalingClaims: {},
    batchSizes: [],
    batchJobs: {},
    diskJobs: 2_000,
    durabilityJobs: 0,
    postgres: {
      single: 200, batchSize: 1000, batches: 5, backlog: 1000,
      claims: 200, claimBatch: 100, e2eSingle: 100, e2eBatched: 1000,
    },
    postgresRounds: 3,
  },
  full: {
    rounds: 6,
    rawForAll: true,
    ungatedRounds: 6,
    sizes: {
      sqlite: {
        single: 2000, batchSize: 1000, batches: 20, backlog: 5000,
        claims: 1000, claimBatch: 100, e2eSingle: 1000, e2eBatched: 5000,
      },
      duckdb: {
        single: 60, batchSize: 1000, batches: 10, backlog: 2000,
        claims: 60, claimBatch: 100, e2eSingle: 30, e2eBatched: 1000,
      },
    },
    tableSizes: [1_000, 10_000, 100_000],
    scalingClaims: { sqlite: 1000, duckdb: 30 },
    batchSizes: [10, 100, 1000, 10_000],
    batchJobs: { sqlite: 20_000, duckdb: 2_000 },
    diskJobs: 10_000,
    durabilityJobs: 100,
    postgres: {
      single: 300, batchSize: 1000, batches: 10, backlog: 2000,
      claims: 300, claimBatch: 100, e2eSingle: 150, e2eBatched: 2000,
    },
    postgresRounds: 3,
  },
};

/**
 * Rates the regression gate compares (store over raw, round by round).
 * One-job-per-call rates are shown but not gated: they are dominated by
 * each commit's disk flush, which a shared machine makes noisy.
 */
const GATED = new Set(['enqueue.batch', 'claim.batch', 'e2e.batch']);

/** Rounds of the page-only rows (table size, batch size, flushes). */
const SIDE_ROUNDS = 3;

/** Rows per statement in the multi-row SQLite INSERT comparison. */
const SQLITE_ROWS_PER_INSERT = 10;

/**
 * Payloads for the rate rows and the disk rows: a small by-reference call
 * and a job whose argument is GitHub's push webhook example, both encoded
 * with node:v8 as the v8 format's body is.
 */
function payloads(): Record<'small' | 'push', Uint8Array> {
  return {
    small: serialize(['jobs/images.ts', 'resize', [{ id: 42, width: 640 }]]),
    push: serialize(['jobs/hooks.ts', 'onPush', [typicalJobArgument()]]),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Odd rounds run the list backwards, so order favours no one. */
function turn<T>(items: readonly T[], round: number): T[] {
  return round % 2 ? [...items].reverse() : [...items];
}

/**
 * Every rate row, interleaved: each round runs every workload on every
 * store and its raw loop before the next round starts. Load from other
 * processes on a shared machine then lands on all rows alike, and the
 * per-round ratios (store/raw, SQLite/DuckDB) cancel it.
 */
async function measureRates(
  ctx: SuiteContext,
  jobs: JobSource,
  metrics: Metric[],
  data: StorageData,
): Promise<void> {
  const settings = SETTINGS[ctx.mode];
  const all = workloads(jobs);
  const samples = new Map<string, number[]>();
  const record = (key: string, rate: number) => {
    const list = samples.get(key) ?? [];
    list.push(rate);
    samples.set(key, list);
  };
  const wrap = (tags: string[]) => <T>(fn: () => Promise<T>) =>
    withSlowdown(tags, fn);
  const rounds = Math.max(settings.rounds, settings.ungatedRounds);
  for (let round = 0; round < rounds; round++) {
    for (const w of all) {
      const gated = GATED.has(w.id);
      if (round >= (gated ? settings.rounds : settings.ungatedRounds)) continue;
      const withRaw = gated || settings.rawForAll;
      ctx.progress(`round ${round + 1}/${rounds}: ${w.id}`);
      for (const backend of turn(BACKENDS, round)) {
        const sizes = settings.sizes[backend.name]!;
        const variants = withRaw ? turn(['store', 'raw'], round) : ['store'];
        for (const variant of variants) {
          const open =
            variant === 'store' ? backend.openStore : backend.openRaw;
          const tags =
            variant === 'store' ? [backend.name] : [`raw-${backend.name}`];
          const rate = await timeRound(backend, open, w, sizes, jobs, wrap(tags));
          record(`${backend.name}.${variant}.${w.id}`, rate);
        }
      }
    }
  }
  for (const backend of BACKENDS) {
    const sizes = settings.sizes[backend.name]!;
    for (const w of all) {
      const gated = GATED.has(w.id);
      const store = samples.get(`${backend.name}.store.${w.id}`)!;
      const raw = samples.get(`${backend.name}.raw.${w.id}`);
      const id = `storage.${backend.name}.${w.id}`;
      const rawId = `storage.${backend.name}.raw.${w.id}`;
      metrics.push(
        timing(id, store, {
          unit: 'jobs/s',
          better: 'higher',
          label: `${backend.name} store · ${w.label}`,
          tags: [backend.name],
          ...(gated && raw ? { ratioTo: { id: rawId, samples: raw } } : {}),
        }),
      );
      if (raw) {
        metrics.push(
          timing(rawId, raw, {
            unit: 'jobs/s',
            better: 'higher',
            label: `${backend.name} raw driver · ${w.label}`,
            tags: [`raw-${backend.name}`],
          }),
        );
      }
      data.workloads[w.id] ??= { label: w.label, units: {} };
      data.workloads[w.id]!.units[backend.name] = w.units(sizes);
    }
  }
}

/** Claim cost as the table grows: DuckDB scans, SQLite walks an index. */
async function measureScaling(
  ctx: SuiteContext,
  jobs: JobSource,
  data: StorageData,
): Promise<void> {
  const settings = SETTINGS[ctx.mode];
  const claimSingle = workloads(jobs).find((w) => w.id === 'claim.single')!;
  const rates = new Map<string, number[]>();
  for (let round = 0; round < SIDE_ROUNDS; round++) {
    for (const rows of settings.tableSizes) {
      ctx.progress(`claim with ${rows} jobs in the table`);
      for (const backend of turn(BACKENDS, round)) {
        const sizes = scalingSizes(ctx, backend, rows);
        const rate = await timeRound(
          backend,
          backend.openStore,
          claimSingle,
          sizes,
          jobs,
          (f) => f,
        );
        const key = `${backend.name}:${rows}`;
        rates.set(key, [...(rates.get(key) ?? []), rate]);
      }
    }
  }
  for (const backend of BACKENDS) {
    for (const rows of settings.tableSizes) {
      data.scaling.push({
        store: backend.name,
        rows,
        claims: scalingSizes(ctx, backend, rows).claims,
        jobsPerSec: median(rates.get(`${backend.name}:${rows}`)!),
      });
    }
  }
}

function scalingSizes(
  ctx: SuiteContext,
  backend: Backend,
  rows: number,
): WorkloadSizes {
  const settings = SETTINGS[ctx.mode];
  return {
    ...settings.sizes[backend.name]!,
    backlog: rows,
    claims: Math.min(settings.scalingClaims[backend.name]!, rows),
  };
}

async function measureBatchSizes(
  ctx: SuiteContext,
  jobs: JobSource,
  data: StorageData,
): Promise<void> {
  const settings = SETTINGS[ctx.mode];
  const enqueueBatch = workloads(jobs).find((w) => w.id === 'enqueue.batch')!;
  const rates = new Map<string, number[]>();
  const sizesFor = (backend: Backend, batchSize: number) => ({
    ...settings.sizes[backend.name]!,
    batchSize,
    batches: Math.max(
      1,
      Math.round(settings.batchJobs[backend.name]! / batchSize),
    ),
  });
  for (let round = 0; round < SIDE_ROUNDS; round++) {
    for (const batchSize of settings.batchSizes) {
      ctx.progress(`enqueueMany in batches of ${batchSize}`);
      for (const backend of turn(BACKENDS, round)) {
        const rate = await timeRound(
          backend,
          backend.openStore,
          enqueueBatch,
          sizesFor(backend, batchSize),
          jobs,
          (f) => f,
        );
        const key = `${backend.name}:${batchSize}`;
        rates.set(key, [...(rates.get(key) ?? []), rate]);
      }
    }
  }
  for (const backend of BACKENDS) {
    for (const batchSize of settings.batchSizes) {
      data.batchSizes.push({
        store: backend.name,
        batchSize,
        jobsPerSec: median(rates.get(`${backend.name}:${batchSize}`)!),
      });
    }
  }
}

/**
 * SQLite batch enqueue three ways: the store, raw one-row INSERTs (what
 * the store does, minus the interface) and raw INSERTs of
 * SQLITE_ROWS_PER_INSERT rows each, to show where the time goes.
 */
async function measureSqliteInserts(
  ctx: SuiteContext,
  jobs: JobSource,
  data: StorageData,
): Promise<void> {
  const settings = SETTINGS[ctx.mode];
  if (settings.batchSizes.length === 0) return;
  const w = workloads(jobs).find((x) => x.id === 'enqueue.batch')!;
  const sizes = settings.sizes['sqlite']!;
  const plain = <T>(f: () => Promise<T>) => f;
  const loops: [string, (l: string) => Promise<QueueDriver>][] = [
    ['store (one INSERT per row)', sqliteBackend.openStore],
    ['raw, one INSERT per row', (l) => openRawSqlite(l)],
    [
      `raw, ${SQLITE_ROWS_PER_INSERT} rows per INSERT`,
      (l) => openRawSqlite(l, 'NORMAL', SQLITE_ROWS_PER_INSERT),
    ],
  ];
  const rates: Record<string, number[]> = {};
  for (let round = 0; round < SIDE_ROUNDS; round++) {
    ctx.progress('SQLite enqueueMany: rows per INSERT');
    for (const [name, open] of turn(loops, round)) {
      const rate = await timeRound(sqliteBackend, open, w, sizes, jobs, plain);
      (rates[name] ??= []).push(rate);
    }
  }
  data.sqliteInserts = loops.map(([name]) => ({
    variant: name,
    jobsPerSec: median(rates[name]!),
  }));
}

/**
 * One-job-per-call loops on raw SQLite with a disk flush per commit
 * (synchronous=FULL), beside NORMAL and DuckDB, which always flushes.
 */
async function measureDurability(
  ctx: SuiteContext,
  jobs: JobSource,
  data: StorageData,
): Promise<void> {
  const n = SETTINGS[ctx.mode].durabilityJobs;
  if (n === 0) return;
  const sizes = {
    ...SETTINGS[ctx.mode].sizes['sqlite']!,
    single: n,
    e2eSingle: n,
  };
  const plain = <T>(f: () => Promise<T>) => f;
  const loops: [string, Backend, (l: string) => Promise<QueueDriver>][] = [
    ['sqliteNormal', sqliteBackend, sqliteBackend.openRaw],
    ['sqliteFull', sqliteBackend, (l) => openRawSqlite(l, 'FULL')],
    ['duckdb', duckdbBackend, duckdbBackend.openRaw],
  ];
  for (const w of workloads(jobs)) {
    if (w.id !== 'enqueue.single' && w.id !== 'e2e.single') continue;
    ctx.progress(`flush per commit: ${w.id}`);
    const rates: Record<string, number[]> = {};
    for (let round = 0; round < SIDE_ROUNDS; round++) {
      for (const [name, backend, open] of turn(loops, round)) {
        const rate = await timeRound(backend, open, w, sizes, jobs, plain);
        (rates[name] ??= []).push(rate);
      }
    }
    data.durability.push({
      workload: w.id,
      sqliteNormal: median(rates['sqliteNormal']!),
      sqliteFull: median(rates['sqliteFull']!),
      duckdb: median(rates['duckdb']!),
    });
  }
}

/**
 * Bytes on disk per waiting job, after the store is closed (SQLite folds
 * its WAL in, DuckDB checkpoints). Rows use a fixed clock, so the files
 * are the same every run.
 */
async function measureDisk(
  ctx: SuiteContext,
  backend: Backend,
  metrics: Metric[],
  data: StorageData,
): Promise<void> {
  const n = SETTINGS[ctx.mode].diskJobs;
  for (const [name, payload] of Object.entries(payloads())) {
    ctx.progress(`${backend.name} bytes on disk, ${name} payload`);
    const sizeWith = async (count: number) => {
      const { dir, done } = scratch();
      try {
        const location = `${dir}/${backend.fileName}`;
        const driver = await backend.openStore(location);
        const jobs = new JobSource(payload);
        for (let left = count; left > 0; left -= 1000) {
          await driver.enqueueMany(jobs.many(Math.min(left, 1000)));
        }
        await driver.close();
        const free = (await backend.freeBytes?.(location)) ?? 0;
        return { file: fileBytes(backend.files(location)), free };
      } finally {
        done();
      }
    };
    const empty = (await sizeWith(0)).file;
    const { file: full, free } = await sizeWith(n);
    const perJob = Math.round((full - empty) / n);
    metrics.push(
      exact(`storage.${backend.name}.disk.${name}.bytesPerJob`, perJob, {
        unit: 'bytes',
        label: `${backend.name} · bytes on disk per job (${name} payload)`,
        tags: [backend.name],
      }),
    );
    data.disk.push({
      store: backend.name,
      payload: name,
      payloadBytes: payload.byteLength,
      jobs: n,
      emptyFileBytes: empty,
      fileBytes: full,
      freeBytes: free,
      bytesPerJob: perJob,
    });
  }
}

const suite = defineSuite({
  name: 'storage',
  title: 'Storage',
  async run(ctx) {
    const settings = SETTINGS[ctx.mode];
    const metrics: Metric[] = [];
    const data: StorageData = {
      mode: ctx.mode,
      rounds: settings.rounds,
      queue: QUEUE,
      clock: T0,
      smallPayloadBytes: payloads().small.byteLength,
      sizes: settings.sizes,
      workloads: {},
      scaling: [],
      batchSizes: [],
      durability: [],
      sqliteInserts: [],
      disk: [],
      postgres: '',
      postgresScaling: '',
    };
    const jobs = new JobSource(payloads().small);
    await measureRates(ctx, jobs, metrics, data);
    await measureScaling(ctx, jobs, data);
    await measureBatchSizes(ctx, jobs, data);
    await measureDurability(ctx, jobs, data);
    await measureSqliteInserts(ctx, jobs, data);
    for (const backend of BACKENDS) {
      await measureDisk(ctx, backend, metrics, data);
    }
    data.postgres = await measurePostgres(
      settings.postgres,
      settings.postgresRounds,
      jobs,
      (task) => ctx.progress(task),
    );
    const scaling = await measurePostgresScaling(ctx, payloads().small);
    metrics.push(...scaling.metrics);
    data.postgresScaling = scaling.markdown;
    return { metrics, data, markdown: renderStoragePage(metrics, data) };
  },
});

export default suite;
runSuiteIfMain(suite, import.meta.url);
