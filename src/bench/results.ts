// The shape of reports/results.json. The benchmark runner writes it, the
// report renderer and the regression gate read it. Bump the version on any
// change a reader would notice; optional fields may be added without a bump.
// src/bench/results.schema.json describes the same shape for validators.

export const RESULTS_SCHEMA_VERSION = 1;

export interface Environment {
  node: string;
  v8: string;
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  gitSha: string | null;
  gitDirty: boolean | null;
  date: string;
  /** Versions of the packages that were measured or compared. */
  packages: Record<string, string>;
}

/** Summary of repeated samples; times are in nanoseconds. */
export interface SampleStats {
  n: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  p99: number;
  sd: number;
  /** Relative margin of error of the mean, in percent (95% level). */
  rme: number;
}

/** Fields every metric may carry for the report pages. */
interface MetricLabels {
  /** Short human name, e.g. 'source · closure3'. */
  label?: string;
  /** Backends or libraries the metric measures, e.g. ['source']. */
  tags?: string[];
}

/**
 * A measured quantity that varies run to run. `samples` are kept so the gate
 * can run a statistical test rather than compare two single numbers.
 *
 * For per-operation timings each sample is the median time of one round
 * (tinybench, many calls); `detail` pools every call of every round.
 */
export interface TimingMetric extends MetricLabels {
  kind: 'timing';
  id: string;
  unit: 'ns' | 'jobs/s' | 'ms' | 'bytes';
  better: 'lower' | 'higher';
  samples: number[];
  stats: SampleStats;
  /**
   * The same quantity divided by a reference measured in the same run,
   * round by round. Ratios are what the gate compares: they cancel out a
   * machine that is slower or busier as a whole. A ratio has the same
   * direction as the metric (`better`).
   */
  ratio?: { to: string; samples: number[]; stats: SampleStats };
  /** Every call of every round pooled (tinybench latencies), in `unit`. */
  detail?: { iterations: number; latency: SampleStats };
}

/** A quantity that must not change unless the code changed on purpose. */
export interface ExactMetric extends MetricLabels {
  kind: 'exact';
  id: string;
  value: string | number | boolean | null;
  unit?: string;
}

export type Metric = TimingMetric | ExactMetric;

export interface SuiteResult {
  suite: string;
  status: 'ok' | 'failed' | 'skipped';
  /** Why a suite failed or was skipped, in words an operator can act on. */
  reason?: string;
  durationMs: number;
  metrics: Metric[];
  /** Suite-specific structured data the report pages render. */
  data?: unknown;
  /** Human title of the suite, e.g. 'Payload size'. */
  title?: string;
  /**
   * A page body the suite rendered itself. Used for suites that have no
   * renderer in src/report/, so a new suite is one file in suites/.
   */
  markdown?: string;
}

export interface Results {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  mode: 'quick' | 'full';
  environment: Environment;
  suites: SuiteResult[];
  /** Wall time of the whole run. */
  durationMs?: number;
}
