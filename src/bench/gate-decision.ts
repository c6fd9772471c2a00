// The statistical decision for one gated timing quantity (a metric or a
// backend composite): effect floor, Mann–Whitney U on rounds, and the
// run-level prediction test against the baseline's separate runs.

import {
  mannWhitneyU,
  median,
  predictionBand,
  predictionPGreater,
} from './compare-stats.js';
import type { GateThresholds } from './gate-options.js';
import {
  formatP,
  percent,
  type RatioComparison,
  type Verdict,
} from './gate-report.js';

/** The numbers `decide` works on, all as "log time per op" (worse = larger). */
export interface DecisionInput {
  currentRounds: number[];
  baselineRounds: number[];
  /** One value per baseline run (that run's median). */
  runLogs: number[];
  thresholds: GateThresholds;
  /** Level of the run test for this comparison (already corrected). */
  runAlpha: number;
}

/** Comparison fields in log units; callers convert to ratios. */
export type LogComparison = Omit<RatioComparison, 'to' | 'better' | 'change'>;

/**
 * The statistical decision shared by single metrics and groups: effect
 * floor, Mann–Whitney U on rounds, and the run-level prediction test.
 */
export function decide(input: DecisionInput): {
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

