// The storage page (reports/storage.md), written from this run's numbers
// only: every sentence that compares stores is computed here, so the page
// cannot claim what the run did not measure.

import type { Metric, TimingMetric } from '../../src/bench/results.js';
import {
  barChart,
  formatBytes,
  formatPercent,
  formatRate,
  formatRatio,
  spread,
  table,
} from '../../src/report/format.js';
import type { PostgresRates } from './postgres.js';
import type { WorkloadSizes } from './workloads.js';

/** Queuack's published figures (DuckDB-based Python queue), for comparison. */
export const QUEUACK_FIGURES = {
  batchEnqueuePerSec: 5_000,
  claimPerSec: 1_000,
};

/** What the brief for each store asks of batch enqueue. */
export const TARGETS: Record<string, number> = {
  duckdb: 5_000,
  sqlite: 100_000,
};

export interface StorageData {
  mode: string;
  rounds: number;
  queue: string;
  clock: number;
  smallPayloadBytes: number;
  sizes: Record<string, WorkloadSizes>;
  workloads: Record<string, { label: string; units: Record<string, number> }>;
  scaling: { store: string; rows: number; claims: number; jobsPerSec: number }[];
  batchSizes: { store: string; batchSize: number; jobsPerSec: number }[];
  /** SQLite enqueueMany: store, raw per row, raw multi-row (full runs). */
  sqliteInserts: { variant: string; jobsPerSec: number }[];
  durability: {
    workload: string;
    sqliteNormal: number;
    sqliteFull: number;
    duckdb: number;
  }[];
  disk: {
    store: string;
    payload: string;
    payloadBytes: number;
    jobs: number;
    emptyFileBytes: number;
    fileBytes: number;
    /** Freed space kept inside the file for reuse. */
    freeBytes: number;
    bytesPerJob: number;
  }[];
  /** Rates through the PostgreSQL store, or why it was not measured. */
  postgres: string | PostgresRates;
  /** Worker-process scaling section (suites/storage/postgres-scaling.ts). */
  postgresScaling: string;
}

const STORE_TITLES: Record<string, string> = {
  sqlite: 'SQLite (WAL)',
  duckdb: 'DuckDB',
};

function title(store: string): string {
  return STORE_TITLES[store] ?? store;
}

export function renderStoragePage(metrics: Metric[], data: StorageData): string {
  const byId = new Map(
    metrics
      .filter((m): m is TimingMetric => m.kind === 'timing')
      .map((m) => [m.id, m]),
  );
  const stores = [...new Set(data.disk.map((d) => d.store))];
  const rate = (store: string, w: string) => byId.get(`storage.${store}.${w}`);
  const rawRate = (store: string, w: string) =>
    byId.get(`storage.${store}.raw.${w}`);
  const median = (m: TimingMetric | undefined) => m?.stats.median ?? NaN;

  const out: string[] = [];
  out.push(
    'Queue operations per store, measured through the `Store` interface ' +
      'the queue uses, beside the same operations written straight ' +
      'against the driver ("raw", the limit a store can reach) and ' +
      "beside Queuack's published figures.",
  );

  // Verdict first: what the numbers say about the default store.
  out.push('', '## In short', '');
  out.push(...verdict(stores, rate, median, data));

  out.push('', '## Targets', '');
  const targetRows = stores
    .filter((s) => TARGETS[s] !== undefined)
    .map((s) => {
      const m = rate(s, 'enqueue.batch');
      const got = median(m);
      return [
        `${title(s)} batch enqueue`,
        `≥ ${formatRate(TARGETS[s]!)}`,
        m ? `${formatRate(got)} (${spread(m.stats)})` : '—',
        got >= TARGETS[s]! ? 'met' : '**missed**',
      ];
    });
  out.push(
    table(['target', 'required', 'measured (median)', 'result'], targetRows),
  );

  if (data.sqliteInserts.length) {
    out.push(
      '',
      'Where SQLite\'s batch enqueue spends its time (enqueueMany of ' +
        `${data.sizes['sqlite']?.batchSize ?? ''} jobs, median of 3, same ` +
        'rounds):',
      '',
      table(
        ['SQLite enqueueMany', 'jobs/s'],
        data.sqliteInserts.map((r) => [r.variant, formatRate(r.jobsPerSec)]),
      ),
    );
  }

  out.push('', '## Beside Queuack', '');
  out.push(
    'Queuack (a DuckDB-backed Python queue) publishes about ' +
      `${formatRate(QUEUACK_FIGURES.batchEnqueuePerSec)} batch enqueues ` +
      `and about ${formatRate(QUEUACK_FIGURES.claimPerSec)} claims. ` +
      'Their figures come from their machine, ours from this run.',
    '',
  );
  const queuackRows = [
    [
      'batch enqueue',
      formatRate(QUEUACK_FIGURES.batchEnqueuePerSec),
      ...stores.map((s) => formatRate(median(rate(s, 'enqueue.batch')))),
    ],
    [
      'claim, one per call',
      formatRate(QUEUACK_FIGURES.claimPerSec),
      ...stores.map((s) => formatRate(median(rate(s, 'claim.single')))),
    ],
    [
      'claim, batches',
      '—',
      ...stores.map((s) => formatRate(median(rate(s, 'claim.batch')))),
    ],
  ];
  const pg = typeof data.postgres === 'string' ? null : data.postgres;
  const pgRate = (w: string) =>
    pg?.rates.find((r) => r.workload === w)?.jobsPerSec ?? NaN;
  if (pg) {
    queuackRows[0]!.push(formatRate(pgRate('enqueue.batch')));
    queuackRows[1]!.push(formatRate(pgRate('claim.single')));
    queuackRows[2]!.push(formatRate(pgRate('claim.batch')));
  }
  out.push(
    table(
      [
        'operation',
        'Queuack (published)',
        ...stores.map(title),
        ...(pg ? ['PostgreSQL'] : []),
      ],
      queuackRows,
    ),
  );

  out.push('', '## Throughput per operation', '');
  out.push(
    'Jobs per second, median over rounds (n), each round on a fresh ' +
      'database; store and raw alternate who goes first. ' +
      '"of raw" is the store\'s rate over the raw rate, round by round ' +
      '(median of the ratios). The regression gate compares that ratio ' +
      'for the batched rows; one-job-per-call rates are bound by each ' +
      "commit's disk flush and are shown, not gated (quick runs time " +
      'them through the store only).',
    '',
  );
  const rows: unknown[][] = [];
  for (const [w, info] of Object.entries(data.workloads)) {
    for (const s of stores) {
      const m = rate(s, w);
      const r = rawRate(s, w);
      if (!m) continue;
      rows.push([
        info.label,
        title(s),
        info.units[s] ?? '',
        `${formatRate(m.stats.median)} (${spread(m.stats)})`,
        r ? formatRate(r.stats.median) : '—',
        r ? formatPercent(pairedRatio(m, r)) : '—',
        m.ratio ? 'yes' : 'no',
      ]);
    }
  }
  out.push(
    table(
      ['operation', 'store', 'jobs per round', 'store', 'raw', 'of raw', 'gated'],
      rows,
    ),
  );
  for (const w of ['enqueue.batch', 'claim.single', 'e2e.batch']) {
    const label = data.workloads[w]?.label ?? w;
    const chart = barChart(
      label,
      'jobs/s',
      stores.map((s) => ({ label: title(s), value: median(rate(s, w)) })),
    );
    if (chart) out.push('', chart);
  }

  out.push('', '## SQLite over DuckDB, per operation', '');
  out.push(
    'Both stores run in the same rounds, one after the other; the ratio ' +
      'is taken round by round and its median shown, so load from other ' +
      'processes that hits a round hits both stores.',
    '',
  );
  if (stores.includes('sqlite') && stores.includes('duckdb')) {
    out.push(
      table(
        ['operation', 'SQLite', 'DuckDB', 'SQLite ÷ DuckDB (per round)'],
        Object.entries(data.workloads).map(([w, info]) => {
          const a = rate('sqlite', w);
          const b = rate('duckdb', w);
          return [
            info.label,
            formatRate(median(a)),
            formatRate(median(b)),
            formatRatio(crossRatio(a, b)),
          ];
        }),
      ),
    );
  }

  const fullOnly = '_Measured in full runs only (`npm run bench`)._';
  out.push('', '## Claim cost as the table grows', '');
  out.push(
    'Single claims with this many waiting jobs in the table (median of 3). ' +
      'SQLite finds the next job through a partial index on ' +
      '(queue, priority, run_at, id); DuckDB has no ordered index and ' +
      'scans the waiting rows on every claim (finished rows too, until ' +
      'they are purged).' +
      scalingSentence(data),
    '',
  );
  out.push(
    data.scaling.length === 0
      ? fullOnly
      : table(
          ['store', 'jobs in table', 'claims timed', 'claims/s'],
          data.scaling.map((r) => [
            title(r.store),
            r.rows.toLocaleString('en-US'),
            r.claims,
            formatRate(r.jobsPerSec),
          ]),
        ),
  );

  out.push('', '## Batch size', '');
  out.push(
    'enqueueMany at several batch sizes (median of 3). A DuckDB batch ' +
      'pays a fixed cost (transaction, id reservation, appender) that ' +
      'larger batches spread out.',
    '',
  );
  out.push(
    data.batchSizes.length === 0
      ? fullOnly
      : table(
          ['store', 'batch size', 'jobs/s'],
          data.batchSizes.map((r) => [
            title(r.store),
            r.batchSize,
            formatRate(r.jobsPerSec),
          ]),
        ),
  );

  out.push('', '## What a commit costs: the disk flush', '');
  out.push(
    'DuckDB flushes its write-ahead log to disk (fsync) on every commit. ' +
      'The SQLite store runs WAL with synchronous=NORMAL, which survives a ' +
      'crashed process but not a power cut, and flushes only at ' +
      'checkpoints. The rows below rerun the one-job-per-call loops on ' +
      'raw SQLite with synchronous=FULL (a flush per commit, like DuckDB) ' +
      'to show how much of the gap is that flush (median of 3).',
    '',
  );
  out.push(
    data.durability.length === 0
      ? fullOnly
      : table(
          ['operation', 'SQLite NORMAL (raw)', 'SQLite FULL (raw)', 'DuckDB (raw)'],
          data.durability.map((r) => [
            data.workloads[r.workload]?.label ?? r.workload,
            formatRate(r.sqliteNormal),
            formatRate(r.sqliteFull),
            formatRate(r.duckdb),
          ]),
        ),
  );

  out.push('', '## Bytes on disk per job', '');
  out.push(
    'Waiting jobs written with enqueueMany, file size after the store ' +
      'closed (SQLite folds its WAL in; DuckDB checkpoints), minus the ' +
      'size of an empty store, divided by the job count (jobs go in ' +
      '1,000 per enqueueMany). The rows use a fixed clock, so these sizes ' +
      'are exact and gated. "Of which free" is space the database freed ' +
      'and keeps for reuse instead of shrinking the file: DuckDB ' +
      'checkpoints while batches keep arriving and leaves the old blocks ' +
      'behind. "In use" leaves that space out; below the payload size it ' +
      "means the database compressed the column.",
    '',
  );
  out.push(
    table(
      [
        'store',
        'payload',
        'payload bytes',
        'jobs',
        'file',
        'of which free',
        'per job',
        'per job, in use',
        'beyond the payload',
      ],
      data.disk.map((d) => {
        const inUse = Math.round(d.bytesPerJob - d.freeBytes / d.jobs);
        return [
          title(d.store),
          d.payload,
          d.payloadBytes,
          d.jobs.toLocaleString('en-US'),
          formatBytes(d.fileBytes),
          formatBytes(d.freeBytes),
          `${d.bytesPerJob} B`,
          `${inUse} B`,
          `${inUse - d.payloadBytes} B`,
        ];
      }),
    ),
  );

  out.push('', '## PostgreSQL', '');
  out.push(...postgresSection(data));
  // Without a server both parts say so; once is enough.
  if (data.postgresScaling && typeof data.postgres !== 'string') {
    out.push('', '### Worker processes', '', data.postgresScaling);
  }

  out.push('', '## How this was measured', '');
  out.push(
    `- Payload of the rate rows: ${data.smallPayloadBytes} bytes (a ` +
      'by-reference call encoded with node:v8). The disk rows add GitHub\'s ' +
      'push webhook example as the argument (@octokit/webhooks-examples).',
    '- "store" calls the `Store` methods the queue calls (enqueue, ' +
      'enqueueMany, claim, claimMany, ack). "raw" runs the same SQL ' +
      'shape with the driver directly: positional prepared statements ' +
      '(better-sqlite3) or the appender and prepared statements ' +
      '(@duckdb/node-api), on the same table and indexes.',
    '- End to end: enqueue, claim and ack with no job function and no ' +
      'serializer, so the rows isolate storage. The queue suite measures ' +
      'the whole queue with a worker.',
    '- Work per round:',
    '',
    table(
      ['store', ...Object.keys(Object.values(data.sizes)[0] ?? {})],
      Object.entries(data.sizes).map(([s, sizes]) => [
        title(s),
        ...Object.values(sizes),
      ]),
    ),
  );
  return out.join('\n');
}

/** What the flush-per-commit rows say, when the run measured them. */
function flushBullet(data: StorageData): string[] {
  const row = data.durability.find((r) => r.workload === 'enqueue.single');
  if (!row) return [];
  return [
    '- Most of the one-job-per-call gap is the disk flush: DuckDB flushes ' +
      'on every commit, the SQLite store (synchronous=NORMAL) does not. ' +
      'With a flush per commit on both, one-by-one enqueue runs at ' +
      `${formatRate(row.sqliteFull)} (raw SQLite, synchronous=FULL) ` +
      `against ${formatRate(row.duckdb)} (raw DuckDB).`,
  ];
}

/** How each store's claim rate moved from the smallest table to the largest. */
function scalingSentence(data: StorageData): string {
  const parts: string[] = [];
  let duckdbChange: number | null = null;
  for (const store of [...new Set(data.scaling.map((r) => r.store))]) {
    const rows = data.scaling
      .filter((r) => r.store === store)
      .sort((a, b) => a.rows - b.rows);
    if (rows.length < 2) continue;
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    const change = last.jobsPerSec / first.jobsPerSec - 1;
    if (store === 'duckdb') duckdbChange = change;
    parts.push(
      `${title(store)} ${change >= 0 ? '+' : ''}${formatPercent(change)}`,
    );
  }
  if (parts.length === 0) return '';
  const sizes = [...new Set(data.scaling.map((r) => r.rows))].sort(
    (a, b) => a - b,
  );
  return (
    ` From ${sizes[0]!.toLocaleString('en-US')} to ` +
    `${sizes[sizes.length - 1]!.toLocaleString('en-US')} jobs in the ` +
    `table, the claim rate changed by: ${parts.join(', ')}.` +
    (duckdbChange === null
      ? ''
      : duckdbChange > -0.25
        ? " At these sizes a DuckDB claim's commit flush, not its scan, " +
          'sets the pace.'
        : " DuckDB's scan shows as the table grows.")
  );
}

function postgresSection(data: StorageData): string[] {
  const pg = data.postgres;
  if (typeof pg === 'string') return [pg || 'not measured in this run.'];
  const rows = pg.rates.map((r) => [
    data.workloads[r.workload]?.label ?? r.workload,
    formatRate(r.jobsPerSec),
    `min ${formatRate(Math.min(...r.samples))}, max ` +
      formatRate(Math.max(...r.samples)),
  ]);
  return [
    `Through the PostgreSQL store on ${pg.server} (a fresh schema per ` +
      `round, median of ${pg.rounds} rounds, no raw rows). The throwaway ` +
      'cluster scripts/pg-test-cluster.sh starts runs with fsync and ' +
      'synchronous_commit off; on it, commits skip the disk flush DuckDB ' +
      'always pays. Shown for ' +
      'orientation and not gated: whether a server is configured differs ' +
      'between machines. Every statement here is a network round trip ' +
      'to a server process, where SQLite and DuckDB run in this process.',
    '',
    table(['operation', 'jobs/s', 'spread'], rows),
    '',
    table(
      ['', ...Object.keys(pg.sizes)],
      [['jobs per round', ...Object.values(pg.sizes)]],
    ),
  ];
}

/** Median of a/b taken round by round; NaN when either is missing. */
function crossRatio(
  a: TimingMetric | undefined,
  b: TimingMetric | undefined,
): number {
  if (!a || !b || a.samples.length !== b.samples.length) return NaN;
  return pairedRatio(a, b);
}

/** Median of store/raw taken round by round (samples are in round order). */
function pairedRatio(store: TimingMetric, raw: TimingMetric): number {
  const ratios = store.samples
    .map((x, i) => x / raw.samples[i]!)
    .sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  return ratios.length % 2
    ? ratios[mid]!
    : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

function verdict(
  stores: string[],
  rate: (s: string, w: string) => TimingMetric | undefined,
  median: (m: TimingMetric | undefined) => number,
  data: StorageData,
): string[] {
  if (!stores.includes('sqlite') || !stores.includes('duckdb')) {
    return ['Only one store was measured in this run.'];
  }
  const ratio = (w: string) => crossRatio(rate('sqlite', w), rate('duckdb', w));
  const ratios = Object.keys(data.workloads).map(ratio).filter(Number.isFinite);
  const lo = Math.min(...ratios);
  const hi = Math.max(...ratios);
  const batch = median(rate('duckdb', 'enqueue.batch'));
  const compare =
    lo >= 1
      ? `- SQLite is ${formatRatio(lo)} to ${formatRatio(hi)} as fast as ` +
        'DuckDB across the queue operations measured here'
      : `- SQLite's rate over DuckDB's ranges from ${formatRatio(lo)} to ` +
        `${formatRatio(hi)} across the operations measured here`;
  const lines = [
    `${compare} (one job per call: claim ${formatRatio(
      ratio('claim.single'),
    )}, end to end ${formatRatio(ratio('e2e.single'))}; batches: enqueue ` +
      `${formatRatio(ratio('enqueue.batch'))}, claim ` +
      `${formatRatio(ratio('claim.batch'))}).`,
    `- DuckDB's batch enqueue reaches ${formatRate(batch)}, ` +
      `${formatRatio(batch / QUEUACK_FIGURES.batchEnqueuePerSec)} ` +
      "Queuack's published figure; its single claims reach " +
      `${formatRate(median(rate('duckdb', 'claim.single')))}.`,
    ...flushBullet(data),
    '- DuckDB also allows one process per database file, so workers ' +
      'cannot run in separate processes.' +
      (lo >= 1
        ? ' With SQLite ahead on every operation and open to many ' +
          'processes, SQLite is the default; DuckDB suits one process ' +
          'that wants its job history next to its analytics ' +
          '(`duckqueue export` gives every store Parquet).'
        : ' DuckDB is ahead on some operations in this run; see the ' +
          'table below before choosing.'),
  ];
  return lines;
}
