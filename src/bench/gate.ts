// The regression gate's decision: compare a benchmark run against the
// committed baseline, metric by metric.
//
// - exact metrics (payload sizes, capability cells, refusal reasons) must be
//   equal; any change fails until the baseline is re-recorded on purpose;
// - timing metrics with a `ratio` are judged on the ratio samples (the
//   metric divided by a reference measured in the same round), which cancels
//   a machine that is busier as a whole. What a ratio does not cancel is the
//   luck of one process (JIT and GC timing), so the baseline holds several
//   runs. A metric regresses only when ALL of these hold:
//     1. its median ratio is at least `minEffect` worse than the baseline's;
//     2. the one-sided Mann–Whitney U test on the round samples, current vs
//        baseline, gives p < alpha;
//     3. with >= 3 baseline runs: the current run lies beyond what those
//        runs predict (one-sided Student t prediction test on log medians)
//        at alpha / 2 divided by the number of gated metrics (Bonferroni);
// - the same three conditions are applied to a composite per suite and
//   backend tag (`speed[source]`: geometric mean of all that backend's
//   gated ratios), with the other alpha / 2 split over the composites. A
//   slower backend shows in all its operations, and the mean of ten noisy
//   operations is far steadier than any one of them. Together the gate
//   raises a false alarm on unchanged code at most about `alpha` of the
//   time;
// - timing metrics without a ratio, or under an `informational` prefix, are
//   shown but never gated.

import type { BaselineRecord } from './baseline.js';
import {
  median,
  smallestPossibleP,
} from './compare-stats.js';
import { decide, MIN_RUN_SPREAD } from './gate-decision.js';
import { groupRows } from './gate-groups.js';
import {
  DEFAULT_GATE_OPTIONS,
  type GateOptions,
  type GateThresholds,
  thresholdsFor,
} from './gate-options.js';
import {
  FAILING_VERDICTS,
  type GateReport,
  type GateRow,
  type Located,
  type TimingContext,
  type TimingSide,
  type Verdict,
} from './gate-report.js';
import type {
  ExactMetric,
  Metric,
  Results,
  SuiteResult,
  TimingMetric,
} from './results.js';

export * from './gate-report.js';

/** Compares every metric of `current` against `baseline`. */
export function compareResults(
  baseline: Results & { baseline?: Partial<BaselineRecord> },
  current: Results,
  options: GateOptions = { ...DEFAULT_GATE_OPTIONS },
): GateReport {
  const selected = (id: string): boolean =>
    options.only.length === 0 || options.only.some((p) => id.startsWith(p));
  const before = indexMetrics(baseline, selected);
  const after = indexMetrics(current, selected);
  const currentSuites = new Map(current.suites.map((s) => [s.suite, s]));
  const runMedians = baseline.baseline?.ratioRunMedians ?? {};

  const informational = (id: string): boolean =>
    options.informational.some((p) => id.startsWith(p));
  let gated = 0;
  for (const [id, old] of before) {
    const now = after.get(id)?.metric;
    if (old.metric.kind === 'timing' && old.metric.ratio &&
        now?.kind === 'timing' && now.ratio && !informational(id)) {
      gated++;
    }
  }
  // The run test's alpha is split in two halves, one Bonferroni-corrected
  // over single metrics and one over groups, so the whole gate raises a
  // false alarm on unchanged code at most about `alpha` of the time.
  let groups = 1;
  const context: TimingContext = {
    informational,
    runMedians,
    thresholdsFor: (id) => thresholdsFor(id, options),
    metricAlpha: (t) => t.alpha / 2 / Math.max(gated, 1),
    groupAlpha: (t) => t.alpha / 2 / groups,
  };

  const rows: GateRow[] = [];
  for (const [id, old] of before) {
    const now = after.get(id);
    if (!now) {
      rows.push(missingRow(id, old, currentSuites.get(old.suite.suite)));
      continue;
    }
    rows.push(compareMetric(id, old, now, thresholdsFor(id, options), context));
  }
  for (const [id, now] of after) {
    if (before.has(id)) continue;
    rows.push(newRow(id, now));
  }
  // Count the groups first (the divisor), then judge them.
  groups = Math.max(groupRows(rows, before, after, context).length, 1);
  const groupResults = groupRows(rows, before, after, context);
  rows.unshift(...groupResults);

  const failures = rows.filter((row) => row.failed);
  // With --only, a suite matters if the baseline had selected metrics in it.
  const relevant = new Set([...before.values()].map((b) => b.suite.suite));
  const unhealthySuites = current.suites
    .filter((s) => s.status !== 'ok')
    .filter((s) => options.only.length === 0 || relevant.has(s.suite))
    .map((s) => ({ suite: s.suite, status: s.status, reason: s.reason }));
  return {
    passed: failures.length === 0,
    gatedTimingMetrics: gated,
    groups: groupResults.length,
    baselineRuns: baseline.baseline?.runs ?? 1,
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
  context: TimingContext,
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
  return judgeTiming(
    row,
    a as TimingMetric,
    b as TimingMetric,
    thresholds,
    context,
  );
}

function judgeTiming(
  row: GateRow,
  old: TimingMetric,
  now: TimingMetric,
  thresholds: GateThresholds,
  context: TimingContext,
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
  if (context.informational(row.id)) {
    return finish(row, 'info',
      'listed as informational in the gate config: shown, not gated');
  }

  const nOld = old.ratio.samples.length;
  const nNow = now.ratio.samples.length;
  const floor = smallestPossibleP(nNow, nOld);
  if (floor >= thresholds.alpha) {
    return finish(row, 'too-few-samples',
      `${nOld} baseline and ${nNow} current ratio samples cannot reach ` +
        `p < ${thresholds.alpha} (best possible p = ${floor.toFixed(3)}); ` +
        'not judged: give the suite more rounds, or list the metric as ' +
        'informational');
  }

  // Work in "log of time per op" so that worse is larger for both
  // directions: a jobs/s ratio that halves is a time ratio that doubles.
  const sign = now.better === 'lower' ? 1 : -1;
  const runs = (context.runMedians[row.id] ?? []).filter((r) => r > 0);
  const decision = decide({
    currentRounds: now.ratio.samples.map((r) => sign * Math.log(r)),
    baselineRounds: old.ratio.samples.map((r) => sign * Math.log(r)),
    runLogs: runs.map((r) => sign * Math.log(r)),
    thresholds,
    runAlpha: context.metricAlpha(thresholds),
    minRunSpread: MIN_RUN_SPREAD.metric,
    roundsMustAgree: true,
  });
  const c = decision.comparison;
  row.ratio = {
    ...c,
    to: now.ratio.to,
    better: now.better,
    baselineCentre: Math.exp(sign * c.baselineCentre),
    currentMedian: Math.exp(sign * c.currentMedian),
    change: Math.exp(sign * (c.currentMedian - c.baselineCentre)) - 1,
  };
  if (row.baselineTiming) {
    row.baselineTiming.ratioMedian = row.ratio.baselineCentre;
    row.baselineTiming.runs = Math.max(runs.length, 1);
  }
  return finish(row, decision.verdict, decision.note);
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

