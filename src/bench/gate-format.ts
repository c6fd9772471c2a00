// Renders a gate report as markdown for a terminal, a CI log or a pull
// request comment: a verdict line, the thresholds used, the failures, then
// every compared metric.

import {
  type GateReport,
  type GateRow,
  percent,
  type TimingSide,
  type Verdict,
} from './gate.js';
import type { LoadedResults } from './gate-input.js';

export interface FormatSources {
  baseline: LoadedResults;
  current: LoadedResults;
}

const VERDICT_ORDER: Verdict[] = [
  'regressed', 'changed', 'missing',
  'too-few-samples', 'improved', 'new', 'ok', 'info',
];

export function renderGateMarkdown(
  report: GateReport,
  sources: FormatSources,
): string {
  const lines: string[] = [];
  const total = report.rows.length;
  lines.push(
    `## Regression gate: ${report.passed ? 'PASSED' : 'FAILED'} — ` +
      `${report.failures.length} of ${total} metrics failed`,
    '',
    `- Baseline: \`${sources.baseline.file}\` — ${describeBaseline(sources.baseline)}`,
    `- Current: \`${sources.current.file}\` — ${describeRun(sources.current)}`,
    `- Timing rule: a metric with a same-run ratio fails when its median ` +
      `ratio is at least ${percent(report.options.minEffect, false)} worse ` +
      `than the baseline's, a one-sided Mann–Whitney U test on its round ` +
      `samples gives p < ${report.options.alpha}, and the run lies beyond ` +
      `the baseline's ${report.baselineRuns} separate runs (one-sided t ` +
      `prediction test on log medians at ${report.options.alpha} / 2 / ` +
      `${report.gatedTimingMetrics} gated metrics, the runs' spread taken ` +
      'as at least 10%). A backend composite (`suite[tag]`: weighted ' +
      "geometric mean of that backend's gated ratios) fails on the effect " +
      `floor and the run test alone (${report.options.alpha} / 2 / ` +
      `${report.groups} composites, spread at least 2%). Each row says the ` +
      'slowdown above which it fails. Timing metrics without a ratio, or ' +
      'listed as informational, are shown and not gated.',
    '- Exact metrics (sizes, capability cells, refusal reasons) must be ' +
      'identical; re-record with `npm run bench:baseline -- --reason "..."` ' +
      'when a change is intended.',
  );
  for (const o of report.options.overrides) {
    const parts = [];
    if (o.minEffect !== undefined) parts.push(`minEffect ${percent(o.minEffect, false)}`);
    if (o.alpha !== undefined) parts.push(`alpha ${o.alpha}`);
    lines.push(`- Override for \`${o.prefix}*\`: ${parts.join(', ')}`);
  }
  if (report.options.informational.length > 0) {
    lines.push(
      `- Informational (not gated): ${codeList(report.options.informational, '*')}`,
    );
  }
  if (report.options.only.length > 0) {
    lines.push(
      `- Only metrics starting with: ${codeList(report.options.only, '')}`,
    );
  }
  for (const s of report.unhealthySuites) {
    const why = s.reason ? `: ${escapeCell(s.reason)}` : '';
    lines.push(`- Suite \`${s.suite}\` ${s.status}${why}`);
  }
  lines.push(`- Verdicts: ${countVerdicts(report.rows)}`, '');

  if (report.failures.length > 0) {
    lines.push('### Failures', '', '| metric | verdict | why |', '|---|---|---|');
    for (const row of report.failures) {
      lines.push(`| \`${row.id}\` | **${row.verdict}** | ${escapeCell(row.note)} |`);
    }
    lines.push('');
  }

  const unjudged = report.rows.filter((r) => r.verdict === 'too-few-samples');
  if (unjudged.length > 0) {
    lines.push('### Not judged (too few samples)', '');
    for (const row of unjudged) {
      lines.push(`- \`${row.id}\`: ${escapeCell(row.note)}`);
    }
    lines.push('');
  }

  lines.push(
    `### All compared metrics (${total})`,
    '',
    '| metric | baseline | current | change | verdict | note |',
    '|---|---:|---:|---:|---|---|',
  );
  for (const row of report.rows) {
    const verdict = row.failed ? `**${row.verdict}**` : row.verdict;
    lines.push(
      `| \`${row.id}\` | ${side(row, 'baseline')} | ${side(row, 'current')} ` +
        `| ${change(row)} | ${verdict} | ${escapeCell(row.note)} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function describeBaseline(loaded: LoadedResults): string {
  const r = loaded.record;
  if (!r) {
    return `${describeRun(loaded)}; no recording record (not made by ` +
      'bench:baseline)';
  }
  const who = r.email ? `${r.recordedBy} <${r.email}>` : r.recordedBy;
  const sha = r.gitSha ? shortSha(r.gitSha, r.gitDirty) : 'no git';
  return `recorded ${r.date} by ${who} on ${r.host} at ${sha}: ` +
    `"${escapeCell(r.reason)}"`;
}

function describeRun(loaded: LoadedResults): string {
  const env = loaded.results.environment;
  const sha = env?.gitSha ? ` at ${shortSha(env.gitSha, env.gitDirty)}` : '';
  return `${loaded.results.mode} run ${env?.date ?? '(no date)'}${sha}`;
}

function countVerdicts(rows: GateRow[]): string {
  const counts = new Map<Verdict, number>();
  for (const row of rows) counts.set(row.verdict, (counts.get(row.verdict) ?? 0) + 1);
  const parts = VERDICT_ORDER.filter((v) => counts.has(v)).map(
    (v) => `${v} ${counts.get(v)}`,
  );
  return parts.length > 0 ? parts.join(', ') : 'no metrics compared';
}

function side(row: GateRow, which: 'baseline' | 'current'): string {
  if (row.group && row.ratio) {
    const value = which === 'baseline'
      ? row.ratio.baselineCentre
      : row.ratio.currentMedian;
    const extra = which === 'baseline'
      ? ` (${row.group.members.length} metrics, ${row.ratio.baselineRuns} runs)`
      : '';
    return `geo ×${value.toPrecision(4)}${extra}`;
  }
  const value = which === 'baseline' ? row.baselineValue : row.currentValue;
  const timing = which === 'baseline' ? row.baselineTiming : row.currentTiming;
  if (timing) return formatTiming(timing, row.ratio !== undefined);
  if (value === undefined) return '—';
  const unit = which === 'baseline' ? row.baselineUnit : row.currentUnit;
  const text = typeof value === 'number' && unit
    ? `${value} ${unit}`
    : JSON.stringify(value);
  return escapeCell(truncate(text, 60));
}

function formatTiming(t: TimingSide, gated: boolean): string {
  const raw = `${formatQuantity(t.median, t.unit)}`;
  if (gated && t.ratioMedian !== undefined) {
    const runs = t.runs && t.runs > 1 ? `, ${t.runs} runs` : '';
    return `×${t.ratioMedian.toPrecision(4)} (${raw}, n=${t.ratioN}${runs})`;
  }
  return `${raw} (n=${t.n})`;
}

function change(row: GateRow): string {
  if (row.ratio) return percent(row.ratio.change);
  const a = row.baselineTiming;
  const b = row.currentTiming;
  if (a && b && a.median !== 0) return percent(b.median / a.median - 1);
  const x = row.baselineValue;
  const y = row.currentValue;
  if (typeof x === 'number' && typeof y === 'number' && x !== y) {
    const diff = `${y > x ? '+' : ''}${y - x}`;
    return x === 0 ? diff : `${diff} (${percent(y / x - 1)})`;
  }
  return '';
}

export function formatQuantity(value: number, unit: TimingSide['unit']): string {
  if (unit === 'ns') {
    if (value >= 1e9) return `${(value / 1e9).toPrecision(3)} s`;
    if (value >= 1e6) return `${(value / 1e6).toPrecision(3)} ms`;
    if (value >= 1e3) return `${(value / 1e3).toPrecision(3)} µs`;
    return `${value.toPrecision(3)} ns`;
  }
  if (unit === 'jobs/s') return `${Math.round(value).toLocaleString('en-US')} jobs/s`;
  return `${value.toPrecision(4)} ${unit}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function codeList(prefixes: string[], suffix: string): string {
  return prefixes.map((p) => `\`${p}${suffix}\``).join(', ');
}

function shortSha(sha: string, dirty: boolean | null): string {
  return `${sha.slice(0, 10)}${dirty ? ' (dirty)' : ''}`;
}
