// `npm run gate:validate`: proves on this machine that the regression gate
// catches a real slowdown and stays quiet on unchanged code.
//
// It runs the quick benchmark of the suites that carry gated timing metrics
// (default: speed) 2 x N times, alternating a clean run with a run where
// DUCKQUEUE_BENCH_SLOWDOWN makes one backend's operations really slower,
// so both conditions see the same background load. After every run the
// real `duckqueue gate` CLI judges it against the committed baseline. The
// verdicts, the flagged metrics and the margins to the thresholds go to
// reports/gate-validation.md.

import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import type { GateReport, GateRow } from '../src/bench/gate.js';
import { formatP, percent } from '../src/bench/gate.js';
import { readResultsFile } from '../src/bench/gate-input.js';
import type { Results } from '../src/bench/results.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    suite: { type: 'string', default: 'speed' },
    slowdown: { type: 'string', default: 'source:1.25' },
    baseline: { type: 'string', default: 'reports/baseline.json' },
    out: { type: 'string', default: 'reports/gate-validation.md' },
    'gate-arg': { type: 'string', multiple: true, default: [] },
    // Keep every run's results.json here (clean-1.json, slowed-1.json...).
    keep: { type: 'string' },
    // Judge the results kept by an earlier --keep run instead of running
    // the benchmark again (for trying thresholds; the report says so).
    rejudge: { type: 'string' },
  },
  strict: true,
});

const runs = Number(flags.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`gate:validate: --runs ${flags.runs} must be a whole number >= 1`);
  process.exit(2);
}
const slowTags = flags.slowdown.split(',').map((entry) => entry.split(':')[0]!.trim());
const suites = flags.suite.split(',').map((s) => s.trim());
const only = suites.map((s) => `${s}.`).join(',');
const baselineFile = path.resolve(ROOT, flags.baseline);
const baseline = readResultsFile(baselineFile, 'baseline');

type Condition = 'clean' | 'slowed';

interface RunRecord {
  index: number;
  condition: Condition;
  benchMs: number;
  benchExit: number | null;
  gateExit: number | null;
  report?: GateReport;
  /** Metrics the injected slowdown should push up (tagged, reference not). */
  expected: string[];
  error?: string;
}

const benchArgs = (out: string): string[] => [
  'src/cli.ts', 'bench', '--quick', '--suite', flags.suite, '--out', out,
];
const gateArgs = (current: string): string[] => [
  'src/cli.ts', 'gate', '--baseline', path.relative(ROOT, baselineFile),
  '--current', current, '--only', only, '--json', ...flags['gate-arg'],
];

function runOnce(index: number, condition: Condition): RunRecord {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-gate-validate-'));
  const env = { ...process.env };
  delete env.DUCKQUEUE_BENCH_SLOWDOWN;
  if (condition === 'slowed') env.DUCKQUEUE_BENCH_SLOWDOWN = flags.slowdown;
  const record: RunRecord = {
    index, condition, benchMs: 0, benchExit: null, gateExit: null, expected: [],
  };
  try {
    let current = path.join(dir, 'results.json');
    const saved = flags.rejudge
      ? path.resolve(flags.rejudge, `${condition}-${index}.json`)
      : undefined;
    if (saved) {
      if (!existsSync(saved)) {
        record.error = `no kept results at ${saved}`;
        return record;
      }
      current = saved;
      record.benchExit = 0;
    } else {
      const started = performance.now();
      const bench = spawnSync(
        process.execPath,
        ['--import', 'tsx', ...benchArgs(dir)],
        { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      record.benchMs = Math.round(performance.now() - started);
      record.benchExit = bench.status;
      if (bench.status !== 0) {
        record.error = `bench exited ${bench.status ?? bench.signal}: ` +
          (bench.stderr || bench.stdout).trim().split('\n').slice(-3).join(' / ');
        return record;
      }
      if (flags.keep) {
        mkdirSync(flags.keep, { recursive: true });
        copyFileSync(current, path.join(flags.keep, `${condition}-${index}.json`));
      }
    }
    record.expected = expectedMetrics(readResultsFile(current, 'current').results);
    const gate = spawnSync(process.execPath, ['--import', 'tsx', ...gateArgs(current)], {
      cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20,
    });
    record.gateExit = gate.status;
    if (gate.status === 2 || gate.status === null) {
      record.error = `gate exited ${gate.status ?? gate.signal}: ${gate.stderr.trim()}`;
      return record;
    }
    record.report = JSON.parse(gate.stdout) as GateReport;
    return record;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the injected slowdown should push up: the backend composites of the
 * slowed tags, and the metrics whose own operation is tagged slow while
 * their reference is not.
 */
function expectedMetrics(results: Results): string[] {
  const tagsById = new Map<string, string[]>();
  for (const s of results.suites) {
    for (const m of s.metrics) tagsById.set(m.id, m.tags ?? []);
  }
  const slowed = (id: string): boolean =>
    (tagsById.get(id) ?? []).some((t) => slowTags.includes(t));
  const out: string[] = [];
  for (const s of results.suites) {
    for (const tag of slowTags) out.push(`${s.suite}[${tag}]`);
    for (const m of s.metrics) {
      if (m.kind !== 'timing' || !m.ratio) continue;
      if (slowed(m.id) && !slowed(m.ratio.to)) out.push(m.id);
    }
  }
  return out;
}

const records: RunRecord[] = [];
const startedAt = new Date();
const loadBefore = os.loadavg();
for (let i = 1; i <= runs; i++) {
  for (const condition of ['clean', 'slowed'] as const) {
    const record = runOnce(i, condition);
    records.push(record);
    const failed = record.report?.failures.map((f) => f.id) ?? [];
    console.error(
      `gate:validate: run ${i}/${runs} ${condition}: bench ${record.benchMs} ms, ` +
        `gate exit ${record.gateExit ?? '-'}` +
        (failed.length ? `, flagged ${failed.join(', ')}` : '') +
        (record.error ? ` (${record.error})` : ''),
    );
  }
}
const loadAfter = os.loadavg();

// A clean run passes when the gate exits 0. A slowed run is caught when the
// gate exits 1 and flags at least one slowed metric and nothing else.
const cleanRuns = records.filter((r) => r.condition === 'clean');
const slowRuns = records.filter((r) => r.condition === 'slowed');
const cleanPassed = cleanRuns.filter((r) => r.gateExit === 0).length;
const caught = slowRuns.filter((r) => isCaught(r)).length;

function isCaught(r: RunRecord): boolean {
  if (r.gateExit !== 1 || !r.report) return false;
  const flagged = r.report.failures.map((f) => f.id);
  return flagged.length > 0 && flagged.every((id) => r.expected.includes(id));
}

writeFileSync(path.resolve(ROOT, flags.out), render());
console.error(
  `gate:validate: clean runs passed ${cleanPassed}/${runs}, slowed runs ` +
    `caught ${caught}/${runs}; wrote ${flags.out}`,
);
process.exitCode = cleanPassed === runs && caught === runs ? 0 : 1;

function render(): string {
  const options = records.find((r) => r.report)?.report?.options;
  const rec = baseline.record;
  const env = baseline.results.environment;
  const lines: string[] = [
    '# Regression gate validation',
    '',
    `Generated by \`npm run gate:validate\` (scripts/gate-validation.ts) on ` +
      `${startedAt.toISOString()}. Do not edit by hand; re-run the script.` +
      (flags.rejudge
        ? ` The runs were measured earlier and kept (\`--keep\`); this ` +
          `report re-judges them (\`--rejudge ${flags.rejudge}\`).`
        : ''),
    '',
    '## Result',
    '',
    `- **Unchanged code: the gate passed ${cleanPassed} of ${runs} runs.**`,
    `- **${percent(slowFactor() - 1, false)} slowdown injected into ` +
      `\`${slowTags.join(', ')}\` (\`DUCKQUEUE_BENCH_SLOWDOWN=${flags.slowdown}\`): ` +
      `the gate failed and named only slowed metrics in ${caught} of ${runs} runs.**`,
    '',
    '## How it was measured',
    '',
    `- Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ` +
      `shared with other work; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} ` +
      `before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
    `- Baseline: \`${flags.baseline}\`` +
      (rec
        ? `, recorded ${rec.date} by ${rec.recordedBy} on ${rec.host} at ` +
          `${rec.gitSha?.slice(0, 10) ?? 'no git'}: "${rec.reason}"`
        : `, ${env?.date ?? 'undated'} (no recording record)`) + '.',
    `- ${runs} clean and ${runs} slowed runs, alternated so both see the same ` +
      'background load. Each run:',
    '',
    '  ```sh',
    `  node --import tsx ${benchArgs('$RUN_DIR').join(' ')}`,
    `  # slowed runs only: DUCKQUEUE_BENCH_SLOWDOWN=${flags.slowdown} in the environment`,
    `  node --import tsx ${gateArgs('$RUN_DIR/results.json').join(' ')}`,
    '  ```',
    '',
  ];
  if (options) {
    const report = records.find((r) => r.report)!.report!;
    lines.push(
      `- Thresholds (defaults plus \`duckqueue.config.json\`): a single ` +
        `metric fails when its median ratio is at least ` +
        `**${percent(options.minEffect, false)}** worse than the baseline's, ` +
        `the one-sided Mann–Whitney U test on its round samples gives ` +
        `**p < ${options.alpha}**, and a one-sided t prediction test against ` +
        `the baseline's ${report.baselineRuns} separate runs gives p < ` +
        `${options.alpha} / 2 / ${report.gatedTimingMetrics} gated metrics ` +
        `(the runs' spread taken as at least 10%). A backend composite ` +
        `(\`suite[tag]\`, weighted geometric mean of that backend's gated ` +
        `ratios) fails on the same effect floor and run test, at ` +
        `${options.alpha} / 2 / ${report.groups} composites (spread at ` +
        'least 2%).' +
        (options.overrides.length
          ? ` Overrides: ${options.overrides.map((o) => `\`${o.prefix}\` ` +
              `${o.minEffect !== undefined ? `minEffect ${o.minEffect}` : ''}` +
              `${o.alpha !== undefined ? ` alpha ${o.alpha}` : ''}`).join('; ')}.`
          : '') +
        (options.informational.length
          ? ` Informational, not gated: ${options.informational.map((p) => `\`${p}*\``).join(', ')}.`
          : ''),
      `- A slowed run counts as caught when the gate exits 1 and every ` +
        `flagged metric is one the slowdown applies to: the composite of a ` +
        `slowed tag, or a metric whose operation is tagged ` +
        `${slowTags.map((t) => `\`${t}\``).join(', ')} and whose ` +
        'reference is not.',
      '',
    );
  }
  const benchTimes = records.map((r) => r.benchMs / 1000);
  lines.push(
    flags.rejudge
      ? 'Bench times: see the report of the measuring run.'
      : `Quick \`${flags.suite}\` bench per run: ` +
        `${Math.min(...benchTimes).toFixed(1)}–` +
        `${Math.max(...benchTimes).toFixed(1)} s.`,
    '',
    '## Per-run verdicts',
    '',
    '| run | condition | gate exit | verdict | flagged metrics | slowed metrics flagged |',
    '|---:|---|---:|---|---|---:|',
  );
  for (const r of records) {
    const flagged = r.report?.failures ?? [];
    const verdict = r.error
      ? `error: ${r.error.replace(/\|/g, '\\|').slice(0, 160)}`
      : r.condition === 'clean'
        ? (r.gateExit === 0 ? 'pass (correct)' : '**false alarm**')
        : (isCaught(r) ? 'fail (caught)' : r.gateExit === 1
          ? '**caught with false alarms**' : '**missed**');
    const names = flagged.length
      ? flagged.map((f) => `\`${f.id}\` ${describe(f)}`).join('<br>')
      : '—';
    const expectedHit = flagged.filter((f) => r.expected.includes(f.id)).length;
    lines.push(
      `| ${r.index} | ${r.condition} | ${r.gateExit ?? '—'} | ${verdict} | ${names} | ` +
        `${r.condition === 'slowed' ? `${expectedHit}/${r.expected.length}` : '—'} |`,
    );
  }
  lines.push('', ...marginTable(), '');
  return lines.join('\n');
}

function describe(row: GateRow): string {
  if (!row.ratio) return `(${row.verdict})`;
  return `(${row.verdict}, ${percent(row.ratio.slowdown)}, p=${formatP(row.ratio.pWorse)})`;
}

function slowFactor(): number {
  const factor = Number(flags.slowdown.split(',')[0]!.split(':')[1]);
  return Number.isFinite(factor) ? factor : 1;
}

/**
 * Per gated metric: the largest slowdown and smallest p seen in clean runs
 * (how close noise came to failing) and, for slowed metrics, the smallest
 * slowdown and largest p seen in slowed runs (how close a miss came).
 */
function marginTable(): string[] {
  const byId = new Map<string, { clean: GateRow[]; slowed: GateRow[]; expected: boolean }>();
  for (const r of records) {
    for (const row of r.report?.rows ?? []) {
      if (!row.ratio) continue;
      const entry = byId.get(row.id) ?? { clean: [], slowed: [], expected: false };
      entry[r.condition].push(row);
      if (r.expected.includes(row.id)) entry.expected = true;
      byId.set(row.id, entry);
    }
  }
  const out = [
    '## Margins per gated metric',
    '',
    'Rows named `suite[tag]` are backend composites (geometric mean of ' +
      'all gated metrics of that backend). "Fails above" is the smallest ' +
      'slowdown the metric can fail at (the effect floor, or the noise band ' +
      'of the baseline runs if wider). Clean columns: the worst slowdown ' +
      'and smallest run-test p any clean run showed — noise must stay below ' +
      'the limits. Slowed columns: the smallest slowdown and largest p over ' +
      'the slowed runs, for what the slowdown applies to — these show how ' +
      'close a miss came.',
    '',
    '| metric | slowed? | fails above | clean: max slowdown | clean: min runs p | slowed: min slowdown | slowed: max runs p |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const runP = (r: GateRow): number => r.ratio!.pRunWorse ?? r.ratio!.pWorse;
  const sorted = [...byId].sort((a, b) =>
    Number(b[0].includes('[')) - Number(a[0].includes('[')) ||
    a[0].localeCompare(b[0]));
  for (const [id, e] of sorted) {
    const all = [...e.clean, ...e.slowed];
    const limit = Math.min(...all.map((r) => r.ratio!.failsAbove));
    const cleanMax = Math.max(...e.clean.map((r) => r.ratio!.slowdown));
    const cleanP = Math.min(...e.clean.map(runP));
    const slowMin = Math.min(...e.slowed.map((r) => r.ratio!.slowdown));
    const slowP = Math.max(...e.slowed.map(runP));
    out.push(
      `| \`${id}\` | ${e.expected ? 'yes' : 'no'} | ${percent(limit)} | ` +
        `${e.clean.length ? percent(cleanMax) : '—'} | ` +
        `${e.clean.length ? formatP(cleanP) : '—'} | ` +
        `${e.expected && e.slowed.length ? percent(slowMin) : '—'} | ` +
        `${e.expected && e.slowed.length ? formatP(slowP) : '—'} |`,
    );
  }
  return out;
}
