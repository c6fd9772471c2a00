// Synthetic results.json builders for the regression gate's tests. Samples
// come from a seeded generator so every run of the tests sees the same
// numbers: the tests check the decision logic, not the machine.

import {
  RESULTS_SCHEMA_VERSION,
  type ExactMetric,
  type Metric,
  type Results,
  type SampleStats,
  type SuiteResult,
  type TimingMetric,
} from '../src/bench/results.js';

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` samples around `center`, each off by up to ±`spread` (relative). */
export function noisy(
  center: number,
  spread: number,
  n: number,
  seed: number,
): number[] {
  const next = seeded(seed);
  return Array.from({ length: n }, () => center * (1 + spread * (2 * next() - 1)));
}

function stats(samples: number[]): SampleStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  return {
    n,
    min: sorted[0] ?? 0,
    max: sorted[n - 1] ?? 0,
    mean,
    median: sorted[n >> 1] ?? 0,
    p99: sorted[n - 1] ?? 0,
    sd: 0,
    rme: 0,
  };
}

export function timing(
  id: string,
  ratios: number[] | undefined,
  opts: {
    better?: 'lower' | 'higher';
    to?: string;
    unit?: TimingMetric['unit'];
    tags?: string[];
  } = {},
): TimingMetric {
  const samples = (ratios ?? noisy(1, 0.05, 8, id.length)).map((r) => r * 1000);
  const metric: TimingMetric = {
    kind: 'timing',
    id,
    unit: opts.unit ?? (opts.better === 'higher' ? 'jobs/s' : 'ns'),
    better: opts.better ?? 'lower',
    samples,
    stats: stats(samples),
  };
  if (opts.tags) metric.tags = opts.tags;
  if (ratios) {
    metric.ratio = { to: opts.to ?? 'speed.reference', samples: ratios, stats: stats(ratios) };
  }
  return metric;
}

export function exact(id: string, value: ExactMetric['value'], unit?: string): ExactMetric {
  return unit ? { kind: 'exact', id, value, unit } : { kind: 'exact', id, value };
}

export function suite(
  name: string,
  metrics: Metric[],
  extra: Partial<SuiteResult> = {},
): SuiteResult {
  return { suite: name, status: 'ok', durationMs: 1, metrics, ...extra };
}

export function results(suites: SuiteResult[]): Results {
  return {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    mode: 'quick',
    environment: {
      node: process.version,
      v8: process.versions.v8,
      cpuModel: 'synthetic',
      cores: 2,
      memoryBytes: 0,
      os: 'synthetic',
      gitSha: null,
      gitDirty: null,
      date: '2025-01-01T00:00:00.000Z',
      packages: {},
    },
    suites,
  };
}
