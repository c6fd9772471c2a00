// The committed baseline the regression gate compares against: a quick
// run's results.json plus a record of who recorded it, where, from which
// commit, when and why. Changing the baseline is how a deliberate change
// in size or speed is accepted, so that decision leaves a trace.

import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { median } from './compare-stats.js';
import type { Metric, Results, TimingMetric } from './results.js';
import { summarize } from './stats.js';

export interface BaselineRecord {
  /** Why the baseline was (re-)recorded, in the recorder's words. */
  reason: string;
  /** git user.name, else $USER, else the OS account name. */
  recordedBy: string;
  /** git user.email when configured. */
  email: string | null;
  host: string;
  gitSha: string | null;
  /** True when the tree had uncommitted changes at recording time. */
  gitDirty: boolean | null;
  /** ISO 8601 time of recording. */
  date: string;
  /** The command that produced the measured run. */
  command: string;
  /**
   * How many separate benchmark processes the timing metrics come from.
   * Their ratio samples are pooled in the metrics; the per-run medians
   * below let the gate tell run-to-run noise from a real change.
   */
  runs: number;
  /** Metric id -> median ratio of each run, in run order. */
  ratioRunMedians: Record<string, number[]>;
}

export type Baseline = Results & { baseline: BaselineRecord };

/** Who, where, when and why: the part of the record known before merging. */
export type Provenance = Omit<BaselineRecord, 'runs' | 'ratioRunMedians'>;

/** Two runs of the same code disagree on a value that must be fixed. */
export class NondeterministicMetricError extends Error {
  override readonly name = 'NondeterministicMetricError';
  constructor(
    readonly metricId: string,
    first: unknown,
    later: unknown,
    run: number,
  ) {
    super(
      `exact metric '${metricId}' is ${JSON.stringify(first)} in run 1 but ` +
        `${JSON.stringify(later)} in run ${run} of the same code; the gate ` +
        'would fail at random. Make the suite produce a fixed value, or ' +
        'report it as a timing metric',
    );
  }
}

export class BaselineReasonError extends Error {
  override readonly name = 'BaselineReasonError';
  constructor() {
    super(
      'a baseline needs a reason: pass --reason "why the numbers are ' +
        'expected to change" (it is stored in reports/baseline.json)',
    );
  }
}

/** Gathers who/where/when for a baseline recorded from `cwd`. */
export function collectBaselineRecord(
  reason: string,
  command: string,
  cwd = process.cwd(),
): Provenance {
  if (reason.trim() === '') throw new BaselineReasonError();
  const git = (args: string[]): string | null => {
    try {
      const out = execFileSync('git', args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      return out === '' ? null : out;
    } catch {
      return null;
    }
  };
  const sha = git(['rev-parse', 'HEAD']);
  // Untracked files (a node_modules link, local reports) do not change
  // the measured code; modified tracked files do.
  const status =
    sha === null ? null : git(['status', '--porcelain', '--untracked-files=no']);
  return {
    reason: reason.trim(),
    recordedBy:
      git(['config', 'user.name']) ?? process.env.USER ?? os.userInfo().username,
    email: git(['config', 'user.email']),
    host: os.hostname(),
    gitSha: sha,
    gitDirty: sha === null ? null : status !== null,
    date: new Date().toISOString(),
    command,
  };
}

/**
 * Merges one or more quick runs of the same code into a baseline. The
 * first run supplies every suite; later runs (usually only the suites with
 * gated timing metrics) add their ratio samples and per-run medians, and
 * must agree with the first on every exact metric they share.
 */
export function makeBaseline(runs: Results[], provenance: Provenance): Baseline {
  if (runs.length === 0) {
    throw new RangeError('makeBaseline needs at least one run');
  }
  const first = structuredClone(runs[0]!);
  const byId = new Map<string, Metric>();
  for (const suite of first.suites) {
    for (const metric of suite.metrics) byId.set(metric.id, metric);
  }
  const ratioRunMedians: Record<string, number[]> = {};
  const pooled = new Map<string, { samples: number[]; ratios: number[] }>();
  runs.forEach((run, index) => {
    for (const suite of run.suites) {
      for (const metric of suite.metrics) {
        const kept = byId.get(metric.id);
        if (!kept) continue;
        if (kept.kind === 'exact' || metric.kind === 'exact') {
          const a = kept.kind === 'exact' ? kept.value : kept.kind;
          const b = metric.kind === 'exact' ? metric.value : metric.kind;
          if (a !== b) {
            throw new NondeterministicMetricError(metric.id, a, b, index + 1);
          }
          continue;
        }
        if (!kept.ratio || !metric.ratio || kept.ratio.to !== metric.ratio.to) {
          continue;
        }
        (ratioRunMedians[metric.id] ??= []).push(median(metric.ratio.samples));
        const pool = pooled.get(metric.id) ?? { samples: [], ratios: [] };
        pool.samples.push(...metric.samples);
        pool.ratios.push(...metric.ratio.samples);
        pooled.set(metric.id, pool);
      }
    }
  });
  if (runs.length > 1) {
    for (const [id, pool] of pooled) {
      const metric = byId.get(id) as TimingMetric;
      metric.samples = pool.samples;
      metric.stats = summarize(pool.samples, id);
      metric.ratio = {
        to: metric.ratio!.to,
        samples: pool.ratios,
        stats: summarize(pool.ratios, `${id} ratio`),
      };
    }
  }
  return {
    ...first,
    baseline: { ...provenance, runs: runs.length, ratioRunMedians },
  };
}

/** Writes atomically so a crash never leaves half a baseline behind. */
export function writeBaseline(file: string, baseline: Baseline): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(baseline, null, 2)}\n`);
  renameSync(temp, file);
}
