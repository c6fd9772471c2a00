// speed.md: serialize/deserialize time per backend and shape, the peers
// beside ours, and the data-only formats over real payloads.

import type { Results, SuiteResult, TimingMetric } from '../bench/results.js';
import type { FunctionRow, SpeedData } from '../bench/suite-data.js';
import {
  barChart,
  formatBytes,
  formatNs,
  formatRatio,
  spread,
  table,
} from './format.js';
import { timingOf } from './lookup.js';

function timeCell(metric: TimingMetric | undefined): string {
  if (!metric) return '—';
  return `${formatNs(metric.stats.median)} (${spread(metric.stats)})`;
}

function ratioCell(metric: TimingMetric | undefined): string {
  if (!metric?.ratio) return '—';
  const to = metric.ratio.to.replace(/^speed\.(data\.)?/, '');
  return `${formatRatio(metric.ratio.stats.median)} of ${to} (${spread(metric.ratio.stats)})`;
}

/** First sentence of a reason, short enough for a table cell. */
export function shortReason(reason: string | undefined): string {
  if (!reason) return '';
  const sentence = reason.split(/(?<=\.)\s/)[0] ?? reason;
  return sentence.length > 140 ? `${sentence.slice(0, 139)}…` : sentence;
}

function statusCell(row: FunctionRow): string {
  if (row.status === 'works') {
    return row.timingError ? `works; ${shortReason(row.timingError)}` : 'works';
  }
  return `${row.status}: ${row.error ?? ''} ${shortReason(row.reason)}`.trim();
}

/** Median of a timing metric, or NaN when it was not measured. */
export function medianOf(suite: SuiteResult, id: string | undefined): number {
  if (!id) return NaN;
  return timingOf(suite.metrics, id)?.stats.median ?? NaN;
}

function targetLines(suite: SuiteResult, data: SpeedData): string[] {
  const lines: string[] = [];
  const row = (backend: string, shape: string) =>
    data.functionRows.find((r) => r.backend === backend && r.shape === shape);
  const v8Module = row('v8', 'moduleFunction');
  const sourceLambda = row('source', 'lambda');
  if (v8Module?.status === 'works' && sourceLambda?.status === 'works') {
    // The same-round ratio: source on the lambda over v8 on the module
    // function, each round timing both back to back.
    const paired = timingOf(suite.metrics, sourceLambda.serializeId ?? '');
    const ratio = paired?.ratio;
    const sameRound = ratio?.to === v8Module.serializeId ? ratio : undefined;
    const timeFactor = sameRound
      ? sameRound.stats.median
      : medianOf(suite, sourceLambda.serializeId) /
        medianOf(suite, v8Module.serializeId);
    const timeSpread = sameRound ? ` (${spread(sameRound.stats)})` : '';
    const sizeFactor = sourceLambda.bytes! / v8Module.bytes!;
    lines.push(
      `- source capture of a closure-free arrow vs v8 by reference ` +
        `(module function): ${formatRatio(timeFactor)} the time${timeSpread}, ` +
        `${formatRatio(sizeFactor)} the bytes — target ≤ 3× ` +
        `(${timeFactor <= 3 && sizeFactor <= 3 ? 'met' : 'missed'}; ` +
        'cloudpickle is 15–19× pickle).',
    );
  }
  const closure = row('source', 'closure3');
  if (closure?.serializeId) {
    const m = timingOf(suite.metrics, closure.serializeId);
    if (m) {
      lines.push(
        `- source, closure with 3 captures and one import: ` +
          `${timeCell(m)} median — target ≤ 50 µs ` +
          `(${m.stats.median <= 50_000 ? 'met' : 'missed'}).`,
      );
    }
  }
  const pulumi = row('pulumi', 'lambda');
  if (pulumi?.serializeId) {
    lines.push(
      `- Pulumi runtime.serializeFunction on \`x => x * 2\`: ` +
        `${timeCell(timingOf(suite.metrics, pulumi.serializeId))}.`,
    );
  }
  const pulumiCrypto = row('pulumi', 'closure3');
  if (pulumiCrypto && pulumiCrypto.status !== 'works') {
    lines.push(
      `- Pulumi on the closure that imports node:crypto: ` +
        `${pulumiCrypto.status} (${pulumiCrypto.error}).`,
    );
  }
  return lines;
}

export function renderSpeedBody(suite: SuiteResult, _results: Results): string {
  const data = suite.data as SpeedData;
  const parts: string[] = [
    'Reference for each row: the v8 backend (by reference) on the same ' +
      'call — or on the module function when v8 refuses the shape — timed ' +
      'in the same rounds; the v8 rows themselves are divided by a fixed ' +
      `calibration workload (\`${data.calibrationId}\`). A sample is the ` +
      'median of one tinybench round.',
    '',
    '## Targets',
    '',
    ...targetLines(suite, data),
    '',
    '## Function serializers',
  ];
  for (const shape of data.shapes) {
    const rows = data.functionRows.filter((r) => r.shape === shape.id);
    parts.push(
      '',
      `### ${shape.label} (\`${shape.id}\`)`,
      '',
      table(
        ['backend', 'result', 'bytes', 'serialize', 'ratio', 'deserialize', 'ratio'],
        rows.map((r) => {
          const ser = r.serializeId
            ? timingOf(suite.metrics, r.serializeId)
            : undefined;
          const de = r.deserializeId
            ? timingOf(suite.metrics, r.deserializeId)
            : undefined;
          return [
            `${r.backend}${r.kind === 'peer' ? ' (peer)' : ''}`,
            statusCell(r),
            r.bytes !== undefined ? formatBytes(r.bytes) : '—',
            timeCell(ser),
            ratioCell(ser),
            timeCell(de),
            ratioCell(de),
          ];
        }),
      ),
    );
    // Pulumi takes milliseconds; on one axis it would flatten the rest.
    const charted = rows.filter(
      (r) => r.serializeId && r.backend !== 'pulumi',
    );
    const chart = barChart(
      `serialize ${shape.id} (µs, median)`,
      'µs',
      charted.map((r) => ({
        label: r.backend,
        value: medianOf(suite, r.serializeId) / 1000,
      })),
    );
    if (chart && charted.length > 1) parts.push('', chart);
  }

  parts.push(
    '',
    '## Data formats over real payloads',
    '',
    'Arguments only, no function. Ratio is to node:v8 on the same payload ' +
      '(v8 rows: to the calibration workload).',
  );
  for (const payload of data.payloads) {
    const rows = data.dataRows.filter((r) => r.payload === payload.id);
    parts.push(
      '',
      `### ${payload.id} — ${payload.source}, ${formatBytes(payload.jsonBytes)} as JSON`,
      '',
      table(
        ['format', 'result', 'bytes', 'encode', 'ratio', 'decode', 'ratio'],
        rows.map((r) => {
          const enc = r.encodeId ? timingOf(suite.metrics, r.encodeId) : undefined;
          const dec = r.decodeId ? timingOf(suite.metrics, r.decodeId) : undefined;
          return [
            r.codecLabel,
            r.timingError ? `timing failed: ${r.timingError}` : r.status,
            r.bytes !== undefined ? formatBytes(r.bytes) : '—',
            timeCell(enc),
            ratioCell(enc),
            timeCell(dec),
            ratioCell(dec),
          ];
        }),
      ),
      '',
      barChart(
        `encode + decode ${payload.id} (µs, median)`,
        'µs',
        rows.map((r) => ({
          label: r.codec,
          value:
            (medianOf(suite, r.encodeId) + medianOf(suite, r.decodeId)) / 1000,
        })),
      ),
    );
  }
  return parts.join('\n');
}
