// Timing harness. Every timed metric is measured against a reference in the
// same process, round by round: in each round tinybench times the operation
// and its reference back to back (alternating which goes first), and the
// ratio sample is the operation's median over the reference's median. A
// machine that is busier as a whole moves both, and the ratio stays put.

import { Bench } from 'tinybench';
import type { SampleStats, TimingMetric } from './results.js';
import { slowdownFromEnv, withSlowdown, type SlowdownPlan } from './slowdown.js';
import { summarize } from './stats.js';
import type { TimingSettings } from './settings.js';

/** One timed operation: what it is called and which backends it runs. */
export interface Operation {
  id: string;
  label?: string;
  /** Backends or libraries involved; DUCKQUEUE_BENCH_SLOWDOWN keys on them. */
  tags: readonly string[];
  run: () => unknown;
}

export class MeasurementError extends Error {
  constructor(
    readonly operationId: string,
    override readonly cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(`operation '${operationId}' threw while being timed: ${why}`);
    this.name = 'MeasurementError';
  }
}

const MS_TO_NS = 1e6;

interface RoundTiming {
  median: number;
  latencies: number[];
}

function collect(bench: Bench, name: string): RoundTiming {
  const task = bench.getTask(name);
  const result = task?.result;
  if (!result || result.state !== 'completed') {
    const error =
      result && 'error' in result ? result.error : `state ${result?.state}`;
    throw new MeasurementError(name, error);
  }
  const latencies = (result.latency.samples ?? []).map((ms) => ms * MS_TO_NS);
  return { median: result.latency.p50 * MS_TO_NS, latencies };
}

function newBench(settings: TimingSettings, timeMs: number): Bench {
  return new Bench({
    time: timeMs,
    iterations: settings.minIterations,
    warmup: false,
    retainSamples: true,
    throws: false,
    timestampProvider: 'hrtimeNow',
  });
}

/** Runs both operations for the warm-up budget and discards the timings. */
async function warmUp(
  ops: Operation[],
  fns: Array<() => unknown>,
  settings: TimingSettings,
): Promise<void> {
  const bench = newBench(settings, settings.warmupMs);
  ops.forEach((op, i) => bench.add(op.id, fns[i]!));
  await bench.run();
  for (const op of ops) collect(bench, op.id);
}

export interface PairTiming {
  task: TimingMetric;
  /** The reference's own per-round medians (ns). */
  referenceSamples: number[];
}

/**
 * Times `task` against `reference` for `settings.rounds` rounds. Throws a
 * MeasurementError when either operation throws, so callers can record the
 * failure as data.
 */
export async function measureAgainst(
  task: Operation,
  reference: Operation,
  settings: TimingSettings,
  plan: SlowdownPlan = slowdownFromEnv(),
): Promise<PairTiming> {
  if (task.id === reference.id) {
    throw new Error(`operation '${task.id}' cannot be its own reference`);
  }
  const taskFn = withSlowdown(task.tags, task.run, plan);
  const referenceFn = withSlowdown(reference.tags, reference.run, plan);
  await warmUp([task, reference], [taskFn, referenceFn], settings);

  const samples: number[] = [];
  const referenceSamples: number[] = [];
  const ratios: number[] = [];
  const pooled: number[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const bench = newBench(settings, settings.roundTimeMs);
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      if (which === 0) bench.add(task.id, taskFn);
      else bench.add(reference.id, referenceFn);
    }
    await bench.run();
    const mine = collect(bench, task.id);
    const theirs = collect(bench, reference.id);
    samples.push(mine.median);
    referenceSamples.push(theirs.median);
    ratios.push(mine.median / theirs.median);
    for (const latency of mine.latencies) pooled.push(latency);
  }

  return {
    task: pairMetric(task, reference, { samples, ratios, pooled }),
    referenceSamples,
  };
}

/** The task's metric: per-round medians (ns) and ratios to `reference`. */
function pairMetric(
  task: Operation,
  reference: Operation,
  rounds: { samples: number[]; ratios: number[]; pooled: number[] },
): TimingMetric {
  const { samples, ratios, pooled } = rounds;
  const metric: TimingMetric = {
    kind: 'timing',
    id: task.id,
    unit: 'ns',
    better: 'lower',
    samples,
    stats: summarize(samples, task.id),
    ratio: {
      to: reference.id,
      samples: ratios,
      stats: summarize(ratios, `${task.id} ratio`),
    },
    detail: { iterations: pooled.length, latency: summarize(pooled) },
  };
  if (task.label) metric.label = task.label;
  if (task.tags.length) metric.tags = [...task.tags];
  return metric;
}

/**
 * Times `task` against `reference` one call of each at a time, alternating
 * which goes first. For slow, jittery operations (a queue job is a few
 * database commits) this keeps the two under the same conditions far
 * better than timing a block of one and then a block of the other: disk
 * and scheduler noise lasts longer than one call. Per round, the ratio
 * sample is the median call of `task` over the median call of `reference`.
 */
export async function measureInterleaved(
  task: Operation,
  reference: Operation,
  settings: { rounds: number; pairsPerRound: number; warmupPairs: number },
  plan: SlowdownPlan = slowdownFromEnv(),
): Promise<PairTiming> {
  if (task.id === reference.id) {
    throw new Error(`operation '${task.id}' cannot be its own reference`);
  }
  const taskFn = withSlowdown(task.tags, task.run, plan);
  const referenceFn = withSlowdown(reference.tags, reference.run, plan);
  const timeOne = async (op: Operation, fn: () => unknown): Promise<number> => {
    const start = process.hrtime.bigint();
    try {
      await fn();
    } catch (err) {
      throw new MeasurementError(op.id, err);
    }
    return Number(process.hrtime.bigint() - start);
  };
  for (let i = 0; i < settings.warmupPairs; i++) {
    await timeOne(task, taskFn);
    await timeOne(reference, referenceFn);
  }
  const samples: number[] = [];
  const referenceSamples: number[] = [];
  const ratios: number[] = [];
  const pooled: number[] = [];
  for (let round = 0; round < settings.rounds; round++) {
    const mine: number[] = [];
    const theirs: number[] = [];
    for (let pair = 0; pair < settings.pairsPerRound; pair++) {
      if (pair % 2 === 0) {
        mine.push(await timeOne(task, taskFn));
        theirs.push(await timeOne(reference, referenceFn));
      } else {
        theirs.push(await timeOne(reference, referenceFn));
        mine.push(await timeOne(task, taskFn));
      }
    }
    const taskMedian = medianOf(mine);
    const referenceMedian = medianOf(theirs);
    samples.push(taskMedian);
    referenceSamples.push(referenceMedian);
    ratios.push(taskMedian / referenceMedian);
    pooled.push(...mine);
  }
  return {
    task: pairMetric(task, reference, { samples, ratios, pooled }),
    referenceSamples,
  };
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A workload of many units (e.g. jobs) timed as a whole per round. */
export interface BatchOperation extends Omit<Operation, 'run'> {
  /** Untimed set-up before each timed run (open a database, ...). */
  prepare?: () => unknown;
  /** Does the work; resolves to the number of units done. */
  run: () => Promise<number>;
  /** Untimed tear-down after each timed run. */
  cleanup?: () => unknown;
}

async function timedRate(
  op: BatchOperation,
  run: () => Promise<number>,
): Promise<number> {
  await op.prepare?.();
  try {
    const start = process.hrtime.bigint();
    const units = await run();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return units / seconds;
  } finally {
    await op.cleanup?.();
  }
}

/**
 * Times a batch workload (e.g. 2,000 queue jobs) once per round against a
 * reference batch, alternating which goes first. The metric is units per
 * second; the ratio is task rate over reference rate (0.6 means 60% of the
 * reference's throughput), so higher is better for both.
 */
export async function measureThroughputAgainst(
  task: BatchOperation,
  reference: BatchOperation,
  rounds: number,
  plan: SlowdownPlan = slowdownFromEnv(),
): Promise<{ task: TimingMetric; reference: TimingMetric }> {
  const taskFn = withSlowdown(task.tags, task.run, plan);
  const referenceFn = withSlowdown(reference.tags, reference.run, plan);
  // One untimed round of each warms the JIT, the page cache and SQLite.
  await timedRate(task, taskFn);
  await timedRate(reference, referenceFn);
  const taskRates: number[] = [];
  const referenceRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      taskRates.push(await timedRate(task, taskFn));
      referenceRates.push(await timedRate(reference, referenceFn));
    } else {
      referenceRates.push(await timedRate(reference, referenceFn));
      taskRates.push(await timedRate(task, taskFn));
    }
  }
  const ratios = taskRates.map((r, i) => r / referenceRates[i]!);
  const asMetric = (op: BatchOperation, values: number[]): TimingMetric => {
    const metric: TimingMetric = {
      kind: 'timing',
      id: op.id,
      unit: 'jobs/s',
      better: 'higher',
      samples: values,
      stats: summarize(values, op.id),
    };
    if (op.label) metric.label = op.label;
    if (op.tags.length) metric.tags = [...op.tags];
    return metric;
  };
  const taskMetric = asMetric(task, taskRates);
  taskMetric.ratio = {
    to: reference.id,
    samples: ratios,
    stats: summarize(ratios, `${task.id} ratio`),
  };
  return { task: taskMetric, reference: asMetric(reference, referenceRates) };
}

export type { SampleStats };
