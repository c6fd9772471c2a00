// queue.md: end-to-end jobs/s per store and serialization mode beside the
// raw SQLite loop measured in the same rounds, with targets and peers.

import type { Results, SuiteResult } from '../bench/results.js';
import type { QueueData } from '../bench/suite-data.js';
import { barChart, formatPercent, formatRate, spread, table } from './format.js';
import { timingOf } from './lookup.js';

export function renderQueueBody(suite: SuiteResult, results: Results): string {
  const data = suite.data as QueueData;
  const raw = timingOf(suite.metrics, data.rawMetricId);
  const rows = data.rows.map((row) => {
    const m = row.metricId ? timingOf(suite.metrics, row.metricId) : undefined;
    if (!m) {
      return [
        row.store,
        row.mode,
        row.jobsPerRound,
        `${row.status}: ${row.reason ?? ''}`,
        '—',
        '—',
      ];
    }
    const rate = m.stats.median;
    const share = m.ratio?.stats.median ?? NaN;
    const meets =
      rate >= data.targets.jobsPerSecond && share >= data.targets.fractionOfRaw;
    return [
      row.store,
      row.mode,
      row.jobsPerRound,
      `${formatRate(rate)} (${spread(m.stats)})`,
      m.ratio
        ? `${formatPercent(share)} (${spread(m.ratio.stats)})`
        : '—',
      row.store === 'sqlite' ? (meets ? 'met' : 'missed') : 'not a target',
    ];
  });
  return [
    `Each round enqueues ${data.jobsPerRound.toLocaleString('en-US')} no-op ` +
      'jobs one by one, then one worker (concurrency 1) claims, runs and ' +
      'acks them until the queue is empty; the rate is jobs over the whole ' +
      'round. The raw loop does the same work with prepared better-sqlite3 ' +
      'statements on the same table and pragmas (WAL, synchronous=NORMAL) ' +
      'and the worker’s batching (one INSERT per job, claims of up to ' +
      `${data.rawClaimBatch} rows per UPDATE … RETURNING, one transaction ` +
      'for the acks of a batch), without serialization or bookkeeping. It ' +
      'runs back to back with each queue row, round by round ' +
      `(${data.rounds} rounds), so "of raw" is a same-run ratio.`,
    '',
    `Targets: ≥ ${formatRate(data.targets.jobsPerSecond)} and ≥ ` +
      `${formatPercent(data.targets.fractionOfRaw)} of raw (SQLite store, ` +
      'one worker).',
    '',
    table(
      ['store', 'serialization', 'jobs/round', 'jobs/s (spread)', 'of raw', 'targets'],
      rows,
    ),
    '',
    raw
      ? `Raw SQLite loop: ${formatRate(raw.stats.median)} (${spread(raw.stats)}).`
      : 'Raw SQLite loop: not measured.',
    '',
    barChart(
      'jobs per second (median)',
      'jobs/s',
      [
        ...data.rows
          .filter((r) => r.metricId)
          .map((r) => ({
            label: `${r.store} ${r.mode}`,
            value: timingOf(suite.metrics, r.metricId!)?.stats.median ?? NaN,
          })),
        { label: 'raw sqlite', value: raw?.stats.median ?? NaN },
      ],
    ),
    '',
    ...dagSection(results),
    '## Published figures of other queues',
    '',
    'Cited, not measured here; different machines and setups.',
    '',
    table(
      ['queue', 'figure', 'note'],
      data.peers.map((p) => [p.name, p.figure, p.note]),
    ),
  ].join('\n');
}

// What a job costs as a DAG node, from the dag suite of the same run.
function dagSection(results: Results): string[] {
  const dag = results.suites.find((x) => x.suite === 'dag');
  const data = dag?.data as
    | { nodes?: number; overheadMicrosPerNode?: Record<string, number> }
    | undefined;
  const perNode = data?.overheadMicrosPerNode;
  if (!perNode || Object.keys(perNode).length === 0) return [];
  return [
    '## Jobs as DAG nodes',
    '',
    'Extra time per job when the same no-op jobs run as the nodes of a ' +
      `DAG of ${data.nodes?.toLocaleString('en-US') ?? '?'} nodes (one ` +
      'worker, SQLite, measured in this run by the dag suite; details in ' +
      '[dag.md](dag.md)).',
    '',
    table(
      ['shape', 'overhead per node'],
      Object.entries(perNode).map(([shape, micros]) => [
        shape,
        `${micros.toFixed(1)} µs`,
      ]),
    ),
    '',
  ];
}
