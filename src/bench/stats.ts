// Summaries of repeated samples. Kept free of any benchmark library so the
// runner, the suites and the report agree on one definition of each number.

import type { SampleStats } from './results.js';

/** Two-sided 95% Student t critical values for 1..30 degrees of freedom. */
const T_CRITICAL_95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
  2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08,
  2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t critical value; past 30 degrees of freedom a Cornish–Fisher step. */
export function tCritical95(degreesOfFreedom: number): number {
  const df = Math.max(1, Math.floor(degreesOfFreedom));
  if (df <= T_CRITICAL_95.length) return T_CRITICAL_95[df - 1]!;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df);
}

/** Linear interpolation between order statistics of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lower = Math.floor(pos);
  const upper = Math.ceil(pos);
  const lo = sorted[lower]!;
  const hi = sorted[upper]!;
  return lo + (hi - lo) * (pos - lower);
}

export class EmptySamplesError extends Error {
  constructor(what: string) {
    super(
      `cannot summarise ${what}: no samples were recorded; ` +
        'run at least one round',
    );
    this.name = 'EmptySamplesError';
  }
}

/** n, min, max, mean, median, p99, sd and relative margin of error. */
export function summarize(
  samples: readonly number[],
  what = 'samples',
): SampleStats {
  if (samples.length === 0) throw new EmptySamplesError(what);
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((sum, x) => sum + x, 0) / n;
  const variance =
    n > 1 ? sorted.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1) : 0;
  const sd = Math.sqrt(variance);
  const moe = n > 1 ? (tCritical95(n - 1) * sd) / Math.sqrt(n) : 0;
  return {
    n,
    min: sorted[0]!,
    max: sorted[n - 1]!,
    mean,
    median: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    sd,
    rme: mean === 0 ? 0 : (100 * moe) / Math.abs(mean),
  };
}

export function median(samples: readonly number[]): number {
  return quantile([...samples].sort((a, b) => a - b), 0.5);
}
