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
  const signed = timingOf(suite.metrics, 'security.roundtrip.v8.signed');
  const parts = [
    `${value('security.catalogue.refused')} of ` +
      `${value('security.catalogue.cases')} hostile payloads refused`,
  ];
  if (signed?.ratio) {
    parts.push(`signing ${formatRatio(signed.ratio.stats.median)} (v8, 1 KB)`);
  }
  return parts.join(', ');
}

export function headline(suite: SuiteResult): string {
  if (suite.status !== 'ok' || suite.data === undefined) {
    return suite.status === 'ok' ? `${suite.metrics.length} metrics` : '';
  }
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
      default:
        return `${suite.metrics.length} metrics`;
    }
  } catch {
    // A headline is a convenience; a page still renders without it.
    return `${suite.metrics.length} metrics`;
  }
}
