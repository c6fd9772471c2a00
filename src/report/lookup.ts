// Finding metrics and suites in a results document by id.

import type {
  ExactMetric,
  Metric,
  Results,
  SuiteResult,
  TimingMetric,
} from '../bench/results.js';

export function findSuite(
  results: Results,
  name: string,
): SuiteResult | undefined {
  return results.suites.find((s) => s.suite === name);
}

export function okSuite(
  results: Results,
  name: string,
): SuiteResult | undefined {
  const suite = findSuite(results, name);
  return suite?.status === 'ok' ? suite : undefined;
}

export function metricIndex(metrics: Metric[]): Map<string, Metric> {
  return new Map(metrics.map((m) => [m.id, m]));
}

export function timingOf(
  metrics: Metric[] | undefined,
  id: string,
): TimingMetric | undefined {
  const m = metrics?.find((x) => x.id === id);
  return m?.kind === 'timing' ? m : undefined;
}

export function exactOf(
  metrics: Metric[] | undefined,
  id: string,
): ExactMetric | undefined {
  const m = metrics?.find((x) => x.id === id);
  return m?.kind === 'exact' ? m : undefined;
}

/** All metrics of every suite that ran, for cross-suite pages. */
export function allMetrics(results: Results): Metric[] {
  return results.suites.flatMap((s) => s.metrics);
}
