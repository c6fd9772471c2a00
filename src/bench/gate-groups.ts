// Backend composites: one gated quantity per suite and backend tag, the
// weighted geometric mean of that backend's gated ratios.

import { median } from './compare-stats.js';
import {
  decide,
  type DecisionInput,
  MIN_RUN_SPREAD,
} from './gate-decision.js';
import {
  FAILING_VERDICTS,
  type GateRow,
  type Located,
  percent,
  type TimingContext,
} from './gate-report.js';
import type { TimingMetric } from './results.js';

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
export function groupRows(
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
      minRunSpread: MIN_RUN_SPREAD.composite,
      roundsMustAgree: false,
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
type CompositeValues = Pick<
  DecisionInput,
  'currentRounds' | 'baselineRounds' | 'runLogs'
>;

function compositeInput(
  group: Group,
  context: TimingContext,
): CompositeValues | undefined {
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
 * Inverse-variance weights (normalised to 1): each member counts by how
 * steady its median was across the baseline runs, so one operation that
 * wanders by 50% between processes does not drown ten that hold within
 * 5% (no member counts as steadier than that). Equal
 * weights when the baseline has fewer than 3 runs.
 */
/** No member counts as steadier than this when weighting (log units). */
const MEMBER_MIN_SPREAD = 0.05;

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
    return 1 / Math.max(variance, MEMBER_MIN_SPREAD ** 2);
  });
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / total);
}

