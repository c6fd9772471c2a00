// One line per suite for the index and the CLI summary table: the figure a
// reader wants first.

import type { SuiteResult } from '../bench/results.js';
import type {
  PythonReferenceData,
  QueueData,
  SizeData,
  SpeedData,
} from '../bench/suite-data.js';
import { formatBytes, formatNs, formatPercent, formatRate, formatRatio } from './format.js';
import { timingOf } from './lookup.js';

function sizeHeadline(data: SizeData): string {
  const bytes = (b: string, s: string) =>
    data.functionRows.find((r) => r.backend === b && r.shape === s)?.bytes;
  const v8 = bytes('v8', 'moduleFunction');
  const source = bytes('source', 'lambda');
  const parts: string[] = [];
  if (v8 !== undefined) parts.push(`v8 module fn ${formatBytes(v8)}`);
  if (source !== undefined) parts.push(`source lambda ${formatBytes(source)}`);
  return parts.join(', ');
}

function speedHeadline(suite: SuiteResult, data: SpeedData): string {
  const row = data.functionRows.find(
    (r) => r.backend === 'source' && r.shape === 'closure3',
  );
  const closure = row?.serializeId
    ? timingOf(suite.metrics, row.serializeId)
    : undefined;
  const v8 = timingOf(suite.metrics, 'speed.serialize.v8.moduleFunction');
  const parts: string[] = [];
  if (v8) parts.push(`v8 by reference ${formatNs(v8.stats.median)}`);
  if (closure) parts.push(`source closure3 ${formatNs(closure.stats.median)}`);
  return parts.join(', ');
}

function queueHeadline(suite: SuiteResult, data: QueueData): string {
  const best = data.rows
    .map((r) => (r.metricId ? timingOf(suite.metrics, r.metricId) : undefined))
    .filter((m) => m !== undefined)
    .find((m) => m.id === 'queue.sqlite.v8.jobsPerSec');
  if (!best) return '';
  return (
    `sqlite/v8 ${formatRate(best.stats.median)}` +
    (best.ratio ? `, ${formatPercent(best.ratio.stats.median)} of raw SQLite` : '')
  );
}

function pythonHeadline(suite: SuiteResult, data: PythonReferenceData): string {
  const bytes = (lib: string, shape: string) =>
    data.rows.find((r) => r.library === lib && r.shape === shape)?.bytes;
  const cloud = timingOf(suite.metrics, 'python.dumps.cloudpickle.lambda');
  return (
    `pickle ${bytes('pickle', 'moduleFunction') ?? '?'} B vs cloudpickle ` +
    `lambda ${bytes('cloudpickle', 'lambda') ?? '?'} B` +
    (cloud?.ratio ? `, ${formatRatio(cloud.ratio.stats.median)} the time` : '')
  );
}

function capabilityHeadline(suite: SuiteResult): string {
  const cells = suite.metrics.filter(
    (m) => m.kind === 'exact' && /^capability\.[^.]+\.[^.]+$/.test(m.id),
  );
  const works = cells.filter(
    (m) => m.kind === 'exact' && m.value === 'works',
  ).length;
  return cells.length ? `${works} of ${cells.length} cells work` : '';
}

function securityHeadline(suite: SuiteResult): string {
  const value = (id: string) => {
    const metric = suite.metrics.find((m) => m.id === id);
    return metric?.kind === 'exact' ? metric.value : '?';
  };
  const queued = timingOf(suite.metrics, 'security.queued.v8.signed');
  const signed =
    queued ?? timingOf(suite.metrics, 'security.roundtrip.v8.signed');
  const what = queued ? 'per v8 job, 1 KB' : 'v8 round trip, 1 KB';
  const parts = [
    `${value('security.catalogue.refused')} of ` +
      `${value('security.catalogue.cases')} hostile payloads refused`,
  ];
  if (signed?.ratio) {
    parts.push(`signing ${formatRatio(signed.ratio.stats.median)} (${what})`);
  }
  return parts.join(', ');
}

function rateOf(suite: SuiteResult, id: string): string | undefined {
  const m = timingOf(suite.metrics, id);
  return m ? formatRate(m.stats.median) : undefined;
}

function storageHeadline(suite: SuiteResult): string {
  const parts = [
    ['SQLite batch enqueue', 'storage.sqlite.enqueue.batch'],
    ['DuckDB batch enqueue', 'storage.duckdb.enqueue.batch'],
    ['PostgreSQL batch enqueue', 'storage.postgres.enqueue.batch'],
  ].flatMap(([label, id]) => {
    const rate = rateOf(suite, id!);
    return rate ? [`${label} ${rate}`] : [];
  });
  return parts.join(', ');
}

function dagHeadline(data: { overheadMicrosPerNode?: Record<string, number> }) {
  const perNode = data.overheadMicrosPerNode ?? {};
  return Object.entries(perNode)
    .map(([shape, micros]) => `${shape} +${micros.toFixed(0)} µs/node`)
    .join(', ');
}

function isolationHeadline(suite: SuiteResult): string {
  const parts = ['thread', 'process'].flatMap((mode) => {
    const m = timingOf(suite.metrics, `isolation.${mode}.jobsPerSec`);
    return m?.ratio
      ? [`${mode} ${formatPercent(m.ratio.stats.median)} of in-process jobs/s`]
      : [];
  });
  return parts.join(', ');
}

export function headline(suite: SuiteResult): string {
  if (suite.status !== 'ok') return '';
  // Suites that keep their figures in metrics alone.
  if (suite.suite === 'isolation') {
    return isolationHeadline(suite) || `${suite.metrics.length} metrics`;
  }
  if (suite.suite === 'storage') {
    return storageHeadline(suite) || `${suite.metrics.length} metrics`;
  }
  if (suite.data === undefined) return `${suite.metrics.length} metrics`;
  try {
    switch (suite.suite) {
      case 'size':
        return sizeHeadline(suite.data as SizeData);
      case 'speed':
        return speedHeadline(suite, suite.data as SpeedData);
      case 'queue':
        return queueHeadline(suite, suite.data as QueueData);
      case 'python-reference':
        return pythonHeadline(suite, suite.data as PythonReferenceData);
      case 'capability':
        return capabilityHeadline(suite);
      case 'security':
        return securityHeadline(suite);
      case 'dag':
        return dagHeadline(
          suite.data as { overheadMicrosPerNode?: Record<string, number> },
        );
      default:
        return `${suite.metrics.length} metrics`;
    }
  } catch {
    // A headline is a convenience; a page still renders without it.
    return `${suite.metrics.length} metrics`;
  }
}
