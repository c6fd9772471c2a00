// The regression gate's decision: compare a benchmark run against the
// committed baseline, metric by metric.
//
// - exact metrics (payload sizes, capability cells, refusal reasons) must be
//   equal; any change fails until the baseline is re-recorded on purpose;
// - timing metrics with a `ratio` are judged on the ratio samples (the
//   metric divided by a reference measured in the same round), which cancels
//   a machine that is busier as a whole. A metric regresses only when BOTH
//   the one-sided Mann–Whitney U test says the current ratios are larger
//   (p < alpha) AND the median ratio moved by at least `minEffect`;
// - timing metrics without a ratio are reported but never gated: raw times
//   from two different moments on a shared machine are not comparable.

import {
  mannWhitneyU,
  median,
  smallestPossibleP,
} from './compare-stats.js';
import {
  DEFAULT_GATE_OPTIONS,
  type GateOptions,
  type GateThresholds,
  thresholdsFor,
} from './gate-options.js';
import type {
  ExactMetric,
  Metric,
  Results,
  SuiteResult,
  TimingMetric,
} from './results.js';

export type Verdict =
  /** Within thresholds (timing) or identical (exact). */
  | 'ok'
  /** Ratio significantly and materially worse. Fails. */
  | 'regressed'
  /** Ratio significantly and materially better. Passes. */
  | 'improved'
  /** Exact value, metric kind or ratio reference differs. Fails. */
  | 'changed'
  /** In the baseline, absent from the current run. Fails. */
  | 'missing'
  /** In the current run only. Passes; re-record the baseline to gate it. */
  | 'new'
  /** Timing without a ratio: shown for information, not gated. */
  | 'info'
  /** Too few samples for the test to ever reach alpha. Fails. */
  | 'too-few-samples';

export const FAILING_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>([
  'regressed',
  'changed',
  'missing',
  'too-few-samples',
]);

/** Summary of one side of a timing metric. */
export interface TimingSide {
  unit: TimingMetric['unit'];
  median: number;
  n: number;
  ratioMedian?: number;
  ratioN?: number;
}

/** The statistics behind a gated timing verdict. */
export interface RatioComparison {
  to: string;
  better: TimingMetric['better'];
  /** Current median ratio / baseline median ratio - 1 (signed). */
  change: number;
  /**
   * The change expressed as extra time per operation: equal to `change`
   * for lower-is-better metrics, baseline/current - 1 for higher-is-better
   * ones, so that "25% slower" reads 0.25 for both.
   */
  slowdown: number;
  /** One-sided p-value for "current is worse than baseline". */
  pWorse: number;
  /** One-sided p-value for "current is better than baseline". */
  pBetter: number;
  method: 'exact' | 'normal';
  thresholds: GateThresholds;
}

export interface GateRow {
  id: string;
  suite: string;
  kind: Metric['kind'];
  verdict: Verdict;
  failed: boolean;
  /** Exact values, when the metric is exact on that side. */
  baselineValue?: ExactMetric['value'];
  currentValue?: ExactMetric['value'];
  baselineUnit?: string;
  currentUnit?: string;
  /** Timing summaries, when the metric is timing on that side. */
  baselineTiming?: TimingSide;
  currentTiming?: TimingSide;
  ratio?: RatioComparison;
  /** One sentence on why the verdict is what it is. */
  note: string;
}

export interface GateReport {
  passed: boolean;
  rows: GateRow[];
  failures: GateRow[];
  options: GateOptions;
  /** Suites of the current run that did not finish, with their reasons. */
  unhealthySuites: { suite: string; status: string; reason?: string }[];
}

interface Located {
  metric: Metric;
  suite: SuiteResult;
}

/** Compares every metric of `current` against `baseline`. */
export function compareResults(
  baseline: Results,
  current: Results,
  options: GateOptions = { ...DEFAULT_GATE_OPTIONS },
): GateReport {
  const selected = (id: string): boolean =>
    options.only.length === 0 || options.only.some((p) => id.startsWith(p));
  const before = indexMetrics(baseline, selected);
  const after = indexMetrics(current, selected);
  const currentSuites = new Map(current.suites.map((s) => [s.suite, s]));

  const rows: GateRow[] = [];
  for (const [id, old] of before) {
    const now = after.get(id);
    if (!now) {
      rows.push(missingRow(id, old, currentSuites.get(old.suite.suite)));
      continue;
    }
    rows.push(compareMetric(id, old, now, thresholdsFor(id, options)));
  }
  for (const [id, now] of after) {
    if (before.has(id)) continue;
    rows.push(newRow(id, now));
  }

  const failures = rows.filter((row) => row.failed);
  // With --only, a suite matters if the baseline had selected metrics in it.
  const relevant = new Set([...before.values()].map((b) => b.suite.suite));
  const unhealthySuites = current.suites
    .filter((s) => s.status !== 'ok')
    .filter((s) => options.only.length === 0 || relevant.has(s.suite))
    .map((s) => ({ suite: s.suite, status: s.status, reason: s.reason }));
  return {
    passed: failures.length === 0,
    rows,
    failures,
    options,
    unhealthySuites,
  };
}

function indexMetrics(
  results: Results,
  selected: (id: string) => boolean,
): Map<string, Located> {
  const byId = new Map<string, Located>();
  for (const suite of results.suites) {
    for (const metric of suite.metrics) {
      if (selected(metric.id)) byId.set(metric.id, { metric, suite });
    }
  }
  return byId;
}

function compareMetric(
  id: string,
  old: Located,
  now: Located,
  thresholds: GateThresholds,
): GateRow {
  const a = old.metric;
  const b = now.metric;
  const row = baseRow(id, now.suite.suite, a, b);
  if (a.kind !== b.kind) {
    return finish(row, 'changed',
      `was a ${a.kind} metric in the baseline and is ${b.kind} now; ` +
        're-record the baseline if the suite changed on purpose');
  }
  if (a.kind === 'exact' && b.kind === 'exact') {
    return sameValue(a.value, b.value)
      ? finish(row, 'ok', 'identical')
      : finish(row, 'changed',
          'deterministic value changed; if intended, re-record with ' +
            'npm run bench:baseline -- --reason "..."');
  }
  return judgeTiming(row, a as TimingMetric, b as TimingMetric, thresholds);
}

function judgeTiming(
  row: GateRow,
  old: TimingMetric,
  now: TimingMetric,
  thresholds: GateThresholds,
): GateRow {
  if (!old.ratio) {
    return finish(row, 'info',
      now.ratio
        ? 'baseline has no ratio for it: not gated until the baseline ' +
            'is re-recorded'
        : 'raw time without a same-run reference: shown, not gated');
  }
  if (!now.ratio) {
    return finish(row, 'changed',
      `baseline gated it as a ratio to ${old.ratio.to}, the current run ` +
        'has no ratio; restore the reference measurement or re-record ' +
        'the baseline');
  }
  if (old.ratio.to !== now.ratio.to) {
    return finish(row, 'changed',
      `reference changed from ${old.ratio.to} to ${now.ratio.to}; ` +
        're-record the baseline if that was intended');
  }
  if (old.better !== now.better) {
    return finish(row, 'changed',
      `direction changed from ${old.better}-is-better to ` +
        `${now.better}-is-better; re-record the baseline`);
  }

  const nOld = old.ratio.samples.length;
  const nNow = now.ratio.samples.length;
  const floor = smallestPossibleP(nNow, nOld);
  if (floor >= thresholds.alpha) {
    return finish(row, 'too-few-samples',
      `${nOld} baseline and ${nNow} current ratio samples cannot reach ` +
        `p < ${thresholds.alpha} (best possible p = ${floor.toFixed(3)}); ` +
        'give the suite more rounds');
  }

  const medianOld = median(old.ratio.samples);
  const medianNow = median(now.ratio.samples);
  const change = medianNow / medianOld - 1;
  const slowdown =
    now.better === 'lower' ? change : medianOld / medianNow - 1;
  const test = mannWhitneyU(now.ratio.samples, old.ratio.samples);
  const pWorse = now.better === 'lower' ? test.pGreater : test.pLess;
  const pBetter = now.better === 'lower' ? test.pLess : test.pGreater;
  row.ratio = {
    to: now.ratio.to,
    better: now.better,
    change,
    slowdown,
    pWorse,
    pBetter,
    method: test.method,
    thresholds,
  };

  const effect = `${percent(slowdown)} time per op`;
  const floorText = `the ${percent(thresholds.minEffect, false)} floor`;
  if (slowdown >= thresholds.minEffect && pWorse < thresholds.alpha) {
    return finish(row, 'regressed',
      `${effect}, p = ${formatP(pWorse)} < ${thresholds.alpha}`);
  }
  if (-slowdown >= thresholds.minEffect && pBetter < thresholds.alpha) {
    return finish(row, 'improved',
      `${effect}, p = ${formatP(pBetter)}; re-record the baseline to ` +
        'keep the gain');
  }
  if (pWorse < thresholds.alpha) {
    return finish(row, 'ok',
      `${effect}: significant (p = ${formatP(pWorse)}) but below ${floorText}`);
  }
  if (Math.abs(slowdown) >= thresholds.minEffect) {
    return finish(row, 'ok',
      `${effect} but not significant (p = ` +
        `${formatP(Math.min(pWorse, pBetter))}): noise`);
  }
  return finish(row, 'ok', `${effect}: within noise`);
}

function missingRow(
  id: string,
  old: Located,
  suiteNow: SuiteResult | undefined,
): GateRow {
  const row = baseRow(id, old.suite.suite, old.metric, undefined);
  let why: string;
  if (!suiteNow) {
    why = `suite ${old.suite.suite} did not run`;
  } else if (suiteNow.status !== 'ok') {
    why = `suite ${suiteNow.suite} ${suiteNow.status}` +
      (suiteNow.reason ? `: ${suiteNow.reason}` : '');
  } else {
    why = `suite ${suiteNow.suite} no longer reports it`;
  }
  return finish(row, 'missing',
    `${why}; run the suite, or re-record the baseline if it was removed ` +
      'on purpose');
}

function newRow(id: string, now: Located): GateRow {
  const row = baseRow(id, now.suite.suite, undefined, now.metric);
  return finish(row, 'new',
    'not in the baseline: listed, not gated until the baseline is ' +
      're-recorded');
}

function baseRow(
  id: string,
  suite: string,
  old: Metric | undefined,
  now: Metric | undefined,
): GateRow {
  const row: GateRow = {
    id,
    suite,
    kind: (now ?? old)!.kind,
    verdict: 'ok',
    failed: false,
    note: '',
  };
  if (old?.kind === 'exact') {
    row.baselineValue = old.value;
    if (old.unit) row.baselineUnit = old.unit;
  }
  if (now?.kind === 'exact') {
    row.currentValue = now.value;
    if (now.unit) row.currentUnit = now.unit;
  }
  if (old?.kind === 'timing') row.baselineTiming = timingSide(old);
  if (now?.kind === 'timing') row.currentTiming = timingSide(now);
  return row;
}

function timingSide(metric: TimingMetric): TimingSide {
  const side: TimingSide = {
    unit: metric.unit,
    median: metric.samples.length > 0 ? median(metric.samples) : metric.stats.median,
    n: metric.samples.length,
  };
  if (metric.ratio && metric.ratio.samples.length > 0) {
    side.ratioMedian = median(metric.ratio.samples);
    side.ratioN = metric.ratio.samples.length;
  }
  return side;
}

function finish(row: GateRow, verdict: Verdict, note: string): GateRow {
  row.verdict = verdict;
  row.failed = FAILING_VERDICTS.has(verdict);
  row.note = note;
  return row;
}

function sameValue(a: ExactMetric['value'], b: ExactMetric['value']): boolean {
  return a === b;
}

/** Signed percentage with one decimal, e.g. "+24.9%". */
export function percent(fraction: number, signed = true): string {
  const text = `${(fraction * 100).toFixed(1)}%`;
  return signed && fraction >= 0 ? `+${text}` : text;
}

export function formatP(p: number): string {
  if (p < 0.0001) return p.toExponential(1);
  return p.toFixed(4);
}
