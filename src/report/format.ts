// Number formatting shared by every report page and the CLI summary, so a
// figure reads the same wherever it appears.

import type { SampleStats, TimingMetric } from '../bench/results.js';

export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(ns < 10_000 ? 2 : 1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  if (bytes < 10_000) return `${bytes} B`;
  if (bytes < 10_000_000) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 10 * 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '—';
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  if (ratio >= 100) return `${ratio.toFixed(0)}×`;
  if (ratio >= 10) return `${ratio.toFixed(1)}×`;
  return `${ratio.toFixed(2)}×`;
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(0)}%`;
}

/** "±3.1%, n=20": the spread every figure carries. */
export function spread(stats: SampleStats): string {
  return `±${stats.rme.toFixed(1)}%, n=${stats.n}`;
}

/** A timing's median in its unit, with its spread. */
export function formatTiming(metric: TimingMetric): string {
  const value =
    metric.unit === 'ns'
      ? formatNs(metric.stats.median)
      : metric.unit === 'jobs/s'
        ? formatRate(metric.stats.median)
        : metric.unit === 'bytes'
          ? formatBytes(metric.stats.median)
          : `${metric.stats.median.toFixed(2)} ms`;
  return `${value} (${spread(metric.stats)})`;
}

/** Escapes a value for a markdown table cell. */
export function cell(value: unknown): string {
  return String(value ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function table(head: string[], rows: unknown[][]): string {
  const lines = [
    `| ${head.map(cell).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** Mermaid label text: no quotes or brackets, which break the parser. */
function chartLabel(text: string): string {
  return text.replace(/["[\]]/g, '').slice(0, 40);
}

/**
 * A mermaid `xychart-beta` bar chart, which GitHub renders in markdown.
 * Values are rounded to 3 significant digits to keep the source legible.
 */
export function barChart(
  title: string,
  yLabel: string,
  bars: Array<{ label: string; value: number }>,
): string {
  const usable = bars.filter((b) => Number.isFinite(b.value));
  if (usable.length === 0) return '';
  const max = Math.max(...usable.map((b) => b.value));
  const values = usable.map((b) => Number(b.value.toPrecision(3)));
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${chartLabel(title)}"`,
    `  x-axis [${usable.map((b) => `"${chartLabel(b.label)}"`).join(', ')}]`,
    `  y-axis "${chartLabel(yLabel)}" 0 --> ${Number((max * 1.1).toPrecision(3))}`,
    `  bar [${values.join(', ')}]`,
    '```',
  ].join('\n');
}
