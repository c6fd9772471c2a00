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

/**
 * Floors under the run-to-run spread the baseline shows (log units, about
 * a relative spread). The baseline's runs are recorded minutes apart and
 * share the machine's state of the moment; later runs do not. On the
 * shared 2-core machine single operations that held within 2-3% across
 * the eight baseline runs later came in 21% and 50% slower with unchanged
 * code, so one metric is never trusted to be steadier than 10%: alone it
 * fails only on roughly a doubling. A composite averages many operations
 * whose moods differ; its own floor is 2% and the effect floor governs.
 */
export const MIN_RUN_SPREAD = { metric: 0.1, composite: 0.02 } as const;
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
  /** Floor under the baseline runs' spread, in log units. */
  minRunSpread: number;
  /**
   * Whether the Mann–Whitney U test on rounds must agree. True for single
   * metrics. A composite's "rounds" average rounds of different operations
   * timed at different moments, so only its run-level test is evidence.
   */
  roundsMustAgree: boolean;
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
    const floor = input.minRunSpread;
    comparison.pRunWorse = predictionPGreater(current, runLogs, floor);
    comparison.pRunBetter = predictionPGreater(
      -current,
      runLogs.map((x) => -x),
      floor,
    );
    const band = Math.exp(predictionBand(runLogs, runAlpha, floor)) - 1;
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
  const evidence = input.roundsMustAgree
    ? `rounds p = ${formatP(test.pGreater)}, ${runText}`
    : runText;
  const roundsWorse = !input.roundsMustAgree || test.pGreater < thresholds.alpha;
  const roundsBetter = !input.roundsMustAgree || test.pLess < thresholds.alpha;
  let verdict: Verdict = 'ok';
  let note: string;
  if (slowdown >= thresholds.minEffect && roundsWorse &&
      runWorse) {
    verdict = 'regressed';
    note = `${effect} (${limit}); ${evidence}`;
  } else if (-slowdown >= thresholds.minEffect &&
      roundsBetter && runBetter) {
    verdict = 'improved';
    note = `${effect}; re-record the baseline to keep the gain`;
  } else if (slowdown >= thresholds.minEffect) {
    note = `${effect} but within noise (${limit}; ${evidence})`;
  } else {
    note = `${effect} (${limit})`;
  }
  return { verdict, note, comparison };
}

