// The gate's report types: what each compared metric got and why, plus
// the number formats the notes use. Shared by the decision modules, the
// markdown renderer and the validation script.

import type { GateOptions, GateThresholds } from './gate-options.js';
import type { Metric, SuiteResult, TimingMetric, ExactMetric } from './results.js';

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
  /**
   * Too few samples for the test to ever reach alpha: not judged. Passes,
   * and the report lists it so the suite gets more rounds (or the metric
   * an `informational` entry); failing would block merges over a metric
   * nobody can measure, not over a slowdown.
   */
  | 'too-few-samples';

export const FAILING_VERDICTS: ReadonlySet<Verdict> = new Set<Verdict>([
  'regressed',
  'changed',
  'missing',
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

/** A metric and the suite it came from. */
export interface Located {
  metric: Metric;
  suite: SuiteResult;
}

/** What judging a timing metric needs beyond the metric itself. */
export interface TimingContext {
  informational: (id: string) => boolean;
  runMedians: Record<string, number[]>;
  thresholdsFor: (id: string) => GateThresholds;
  /** Run-test level for one metric: half of alpha over the metrics. */
  metricAlpha: (t: GateThresholds) => number;
  /** Run-test level for one group: the other half over the groups. */
  groupAlpha: (t: GateThresholds) => number;
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

