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
  mannWhitneyU,
  median,
  predictionBand,
  predictionPGreater,
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
  /** The centre the gate compares against (see RatioComparison). */
  ratioMedian?: number;
  ratioN?: number;
  /** Separate benchmark processes behind the samples (baseline only). */
  runs?: number;
}

/** The statistics behind a gated timing verdict. */
export interface RatioComparison {
  to: string;
  better: TimingMetric['better'];
  /**
   * The baseline centre: the geometric mean of the per-run median ratios
   * when the baseline has several runs, else the median ratio.
   */
  baselineCentre: number;
  currentMedian: number;
  /** currentMedian / baselineCentre - 1 (signed). */
  change: number;
  /**
   * The change expressed as extra time per operation: equal to `change`
   * for lower-is-better metrics, baseline/current - 1 for higher-is-better
   * ones, so that "25% slower" reads 0.25 for both.
   */
  slowdown: number;
  /** Mann–Whitney U on round samples: p for "current is worse". */
  pWorse: number;
  /** Mann–Whitney U on round samples: p for "current is better". */
  pBetter: number;
  method: 'exact' | 'normal';
  /** Baseline runs with their own median; the run test needs >= 3. */
  baselineRuns: number;
  /** Run-level prediction test p for "worse", when baselineRuns >= 3. */
  pRunWorse?: number;
  pRunBetter?: number;
  /** alpha / gated metrics: the level the run test is held to. */
  runAlpha?: number;
  /** Smallest slowdown this metric can fail at (floor or noise band). */
  failsAbove: number;
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
  /** Set on composite rows: the tag and the metrics averaged. */
  group?: { tag: string; members: string[] };
  /** One sentence on why the verdict is what it is. */
  note: string;
}

export interface GateReport {
  passed: boolean;
  /** Timing metrics judged statistically (a Bonferroni divisor). */
  gatedTimingMetrics: number;
  /** Backend groups judged as composites (the other divisor). */
  groups: number;
  /** Runs behind the baseline's timing metrics (1 for a plain results file). */
  baselineRuns: number;
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

interface TimingContext {
  informational: (id: string) => boolean;
  runMedians: Record<string, number[]>;
  thresholdsFor: (id: string) => GateThresholds;
  /** Run-test level for one metric: half of alpha over the metrics. */
  metricAlpha: (t: GateThresholds) => number;
  /** Run-test level for one group: the other half over the groups. */
  groupAlpha: (t: GateThresholds) => number;
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
        'give the suite more rounds');
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

/** The numbers `decide` works on, all as "log time per op" (worse = larger). */
interface DecisionInput {
  currentRounds: number[];
  baselineRounds: number[];
  /** One value per baseline run (that run's median). */
  runLogs: number[];
  thresholds: GateThresholds;
  /** Level of the run test for this comparison (already corrected). */
  runAlpha: number;
}

/** Comparison fields in log units; callers convert to ratios. */
type LogComparison = Omit<RatioComparison, 'to' | 'better' | 'change'>;

/**
 * The statistical decision shared by single metrics and groups: effect
 * floor, Mann–Whitney U on rounds, and the run-level prediction test.
 */
function decide(input: DecisionInput): {
  verdict: Verdict;
  note: string;
  comparison: LogComparison;
} {
  const { thresholds, runLogs, runAlpha } = input;
  const centre = runLogs.length >= 2
    ? runLogs.reduce((a, b) => a + b, 0) / runLogs.length
    : median(input.baselineRounds);
  const current = median(input.currentRounds);
  const slowdown = Math.exp(current - centre) - 1;
  const test = mannWhitneyU(input.currentRounds, input.baselineRounds);
  const comparison: LogComparison = {
    baselineCentre: centre,
    currentMedian: current,
    slowdown,
    pWorse: test.pGreater,
    pBetter: test.pLess,
    method: test.method,
    baselineRuns: runLogs.length,
    failsAbove: thresholds.minEffect,
    thresholds,
  };

  let runWorse = true;
  let runBetter = true;
  let runText: string;
  if (runLogs.length >= 3) {
    comparison.runAlpha = runAlpha;
    comparison.pRunWorse = predictionPGreater(current, runLogs);
    comparison.pRunBetter = predictionPGreater(
      -current,
      runLogs.map((x) => -x),
    );
    const band = Math.exp(predictionBand(runLogs, runAlpha)) - 1;
    comparison.failsAbove = Math.max(thresholds.minEffect, band);
    runWorse = comparison.pRunWorse < runAlpha;
    runBetter = comparison.pRunBetter < runAlpha;
    runText = `runs p = ${formatP(comparison.pRunWorse)} (needs < ` +
      `${formatP(runAlpha)})`;
  } else {
    runText = `baseline has ${runLogs.length || 1} run(s), so run-to-run ` +
      'noise is not accounted for: record it with --runs 3 or more';
  }

  const effect = `${percent(slowdown)} time per op`;
  const limit = `fails above ${percent(comparison.failsAbove)}`;
  const evidence = `rounds p = ${formatP(test.pGreater)}, ${runText}`;
  let verdict: Verdict = 'ok';
  let note: string;
  if (slowdown >= thresholds.minEffect && test.pGreater < thresholds.alpha &&
      runWorse) {
    verdict = 'regressed';
    note = `${effect} (${limit}); ${evidence}`;
  } else if (-slowdown >= thresholds.minEffect &&
      test.pLess < thresholds.alpha && runBetter) {
    verdict = 'improved';
    note = `${effect}; re-record the baseline to keep the gain`;
  } else if (slowdown >= thresholds.minEffect) {
    note = `${effect} but within noise (${limit}; ${evidence})`;
  } else {
    note = `${effect} (${limit})`;
  }
  return { verdict, note, comparison };
}

/** One composite per (suite, tag): a weighted geometric mean of its metrics. */
interface Group {
  suite: string;
  tag: string;
  members: { old: TimingMetric; now: TimingMetric; sign: number }[];
}

/**
 * Backend-level composites. A slower backend shows up in all of its
 * operations; averaging the log ratios of, say, ten operations cancels
 * most of each operation's own process luck, so a composite sees a
 * uniform slowdown that no single noisy metric could prove.
 */
function groupRows(
  rows: GateRow[],
  before: Map<string, Located>,
  after: Map<string, Located>,
  context: TimingContext,
): GateRow[] {
  const groups = new Map<string, Group>();
  for (const row of rows) {
    if (!row.ratio) continue;
    const old = before.get(row.id)!.metric as TimingMetric;
    const now = after.get(row.id)!.metric as TimingMetric;
    for (const tag of now.tags ?? []) {
      const key = `${row.suite}[${tag}]`;
      const group = groups.get(key) ?? { suite: row.suite, tag, members: [] };
      group.members.push({ old, now, sign: now.better === 'lower' ? 1 : -1 });
      groups.set(key, group);
    }
  }
  // Tags that always go together (a store and its serializer in one suite)
  // would make identical groups: keep one, named by all its tags.
  const unique = new Map<string, Group>();
  for (const group of groups.values()) {
    const key = `${group.suite}:${group.members.map((m) => m.now.id).join()}`;
    const seen = unique.get(key);
    if (seen) seen.tag = `${seen.tag}+${group.tag}`;
    else unique.set(key, { ...group });
  }
  const out: GateRow[] = [];
  for (const group of unique.values()) {
    const id = `${group.suite}[${group.tag}]`;
    if (group.members.length < 2) continue;
    const composite = compositeInput(group, context);
    if (!composite) continue;
    const thresholds = context.thresholdsFor(id);
    const decision = decide({
      ...composite,
      thresholds,
      runAlpha: context.groupAlpha(thresholds),
    });
    const c = decision.comparison;
    const members = group.members.map((m) => m.now.id);
    const worst = group.members
      .map((m) => ({
        id: m.now.id,
        slowdown: Math.exp(
          m.sign * (Math.log(median(m.now.ratio!.samples)) -
            Math.log(median(m.old.ratio!.samples))),
        ) - 1,
      }))
      .sort((a, b) => b.slowdown - a.slowdown)
      .slice(0, 3)
      .map((m) => `${m.id} ${percent(m.slowdown)}`);
    out.push({
      id,
      suite: group.suite,
      kind: 'timing',
      verdict: decision.verdict,
      failed: FAILING_VERDICTS.has(decision.verdict),
      group: { tag: group.tag, members },
      ratio: {
        ...c,
        to: 'each metric\'s own reference',
        better: 'lower',
        baselineCentre: Math.exp(c.baselineCentre),
        currentMedian: Math.exp(c.currentMedian),
        change: Math.exp(c.currentMedian - c.baselineCentre) - 1,
      },
      note: `all ${members.length} gated '${group.tag}' metrics of ` +
        `${group.suite}, weighted geometric mean: ${decision.note}; ` +
        `most changed: ${worst.join(', ')}`,
    });
  }
  return out;
}

/**
 * Per-round and per-run composite values of a group, or undefined when
 * its metrics do not line up (different round or run counts).
 */
function compositeInput(
  group: Group,
  context: TimingContext,
): Omit<DecisionInput, 'thresholds' | 'runAlpha'> | undefined {
  const first = group.members[0]!;
  const nOld = first.old.ratio!.samples.length;
  const nNow = first.now.ratio!.samples.length;
  const runCounts = new Set(
    group.members.map((m) => (context.runMedians[m.now.id] ?? []).length),
  );
  const aligned = group.members.every(
    (m) => m.old.ratio!.samples.length === nOld &&
      m.now.ratio!.samples.length === nNow,
  );
  if (!aligned || runCounts.size !== 1) return undefined;
  const runs = [...runCounts][0]!;
  const weights = memberWeights(group, context, runs);
  const mean = (pick: (m: Group['members'][number]) => number): number =>
    group.members.reduce((sum, m, i) => sum + weights[i]! * pick(m), 0);
  return {
    currentRounds: Array.from({ length: nNow }, (_, i) =>
      mean((m) => m.sign * Math.log(m.now.ratio!.samples[i]!))),
    baselineRounds: Array.from({ length: nOld }, (_, i) =>
      mean((m) => m.sign * Math.log(m.old.ratio!.samples[i]!))),
    runLogs: Array.from({ length: runs }, (_, k) =>
      mean((m) => m.sign * Math.log(context.runMedians[m.now.id]![k]!))),
  };
}

/**
 * Run-to-run spread below which a metric is not trusted to be steadier:
 * eight runs can make a metric look steadier than it is by chance.
 */
const MIN_RUN_SPREAD = 0.02;

/**
 * Inverse-variance weights (normalised to 1): each member counts by how
 * steady its median was across the baseline runs, so one operation that
 * wanders by 50% between processes does not drown ten that hold within
 * 3%. Equal weights when the baseline has fewer than 3 runs.
 */
function memberWeights(
  group: Group,
  context: TimingContext,
  runs: number,
): number[] {
  const raw = group.members.map((m) => {
    if (runs < 3) return 1;
    const logs = context.runMedians[m.now.id]!.map(Math.log);
    const mu = logs.reduce((a, b) => a + b, 0) / logs.length;
    const variance =
      logs.reduce((a, b) => a + (b - mu) ** 2, 0) / (logs.length - 1);
    return 1 / Math.max(variance, MIN_RUN_SPREAD ** 2);
  });
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
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
