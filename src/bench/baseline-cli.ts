// `npm run bench:baseline -- --reason "..."`: run the quick benchmark and
// record it as the baseline the regression gate compares against, with
// who recorded it, where, from which commit, when and why.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  BaselineReasonError,
  collectBaselineRecord,
  makeBaseline,
  NondeterministicMetricError,
  writeBaseline,
} from './baseline.js';
import { GateInputError } from './gate-errors.js';
import { readResultsFile } from './gate-input.js';
import { DEFAULT_CONFIG_FILE, readGateConfig } from './gate-options.js';
import type { Results } from './results.js';

const PROJECT_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
);

export const DEFAULT_BASELINE_FILE = 'reports/baseline.json';
/** Where the quick run writes its results before they are recorded. */
export const QUICK_OUT_DIR = 'reports/quick';

export const DEFAULT_RUNS = 8;

export const BASELINE_USAGE = `usage: npm run bench:baseline -- --reason "why" [options]

Runs the quick benchmark (npm run bench -- --quick), then re-runs the
suites that carry gated timing metrics (ratio metrics not listed as
informational in ${DEFAULT_CONFIG_FILE}) until there are --runs separate
runs, and records the merged results as the regression gate's baseline.
The separate runs tell the gate how much a metric moves between two
processes of the same code. Takes a few minutes.

  --reason TEXT   required: why the numbers are expected to change
  --runs N        separate runs of the timing suites (default ${DEFAULT_RUNS}; the
                  gate's run-to-run test needs at least 3)
  --from FILE     record existing quick results.json files instead of
                  running the benchmark (repeat for several runs)
  --out FILE      where to write the baseline (default ${DEFAULT_BASELINE_FILE})
`;

export async function run(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        reason: { type: 'string' },
        runs: { type: 'string', default: String(DEFAULT_RUNS) },
        from: { type: 'string', multiple: true },
        out: { type: 'string', default: DEFAULT_BASELINE_FILE },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    console.error(`bench:baseline: ${(err as Error).message}\n${BASELINE_USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(BASELINE_USAGE);
    return 0;
  }
  if (!flags.reason || flags.reason.trim() === '') {
    console.error(`bench:baseline: ${new BaselineReasonError().message}`);
    return 2;
  }
  const wantedRuns = Number(flags.runs);
  if (!Number.isInteger(wantedRuns) || wantedRuns < 1) {
    console.error(
      `bench:baseline: --runs ${flags.runs} must be a whole number >= 1`,
    );
    return 2;
  }

  try {
    const runs: Results[] = [];
    let command: string;
    if (flags.from) {
      command = `record ${flags.from.join(' ')}`;
      for (const file of flags.from) runs.push(readQuickRun(file));
    } else {
      const first = benchArgs([], QUICK_OUT_DIR);
      command = `tsx ${first.join(' ')}`;
      if (!runBench(first)) return 1;
      runs.push(readQuickRun(path.join(PROJECT_ROOT, QUICK_OUT_DIR, 'results.json')));
      const timed = suitesWithGatedRatios(
        runs[0]!,
        path.join(PROJECT_ROOT, DEFAULT_CONFIG_FILE),
      );
      if (wantedRuns > 1 && timed.length > 0) {
        command += `, then ${wantedRuns - 1} more runs of --suite ${timed.join(',')}`;
      }
      for (let i = 2; i <= wantedRuns && timed.length > 0; i++) {
        const dir = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-baseline-'));
        try {
          console.log(`bench:baseline: run ${i} of ${wantedRuns} (${timed.join(', ')})`);
          if (!runBench(benchArgs(timed, dir))) return 1;
          runs.push(readQuickRun(path.join(dir, 'results.json')));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    const failed = runs.flatMap((r) =>
      r.suites.filter((s) => s.status === 'failed').map((s) => s.suite));
    if (failed.length > 0) {
      console.error(
        `bench:baseline: suites ${[...new Set(failed)].join(', ')} failed; ` +
          'fix them before recording a baseline',
      );
      return 1;
    }
    const provenance = collectBaselineRecord(flags.reason, command, PROJECT_ROOT);
    const baseline = makeBaseline(runs, provenance);
    writeBaseline(flags.out, baseline);
    const metrics = baseline.suites.reduce((n, s) => n + s.metrics.length, 0);
    console.log(
      `bench:baseline: wrote ${flags.out} (${metrics} metrics, ` +
        `${runs.length} run(s), ${provenance.recordedBy} on ` +
        `${provenance.host} at ${provenance.gitSha?.slice(0, 10) ?? 'no git'}). ` +
        'Commit it with the change that explains it.',
    );
    return 0;
  } catch (err) {
    if (err instanceof GateInputError || err instanceof NondeterministicMetricError) {
      console.error(`bench:baseline: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

function benchArgs(suites: string[], out: string): string[] {
  const args = ['src/cli.ts', 'bench', '--quick', '--out', out];
  return suites.length > 0 ? [...args, '--suite', suites.join(',')] : args;
}

/** Runs the benchmark in a child process; false (after saying why) on failure. */
function runBench(args: string[]): boolean {
  console.log(`bench:baseline: running tsx ${args.join(' ')}`);
  const child = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  });
  if (child.status === 0) return true;
  console.error(
    `bench:baseline: the quick benchmark exited with ` +
      `${child.status ?? child.signal}; no baseline recorded. Fix the ` +
      'failing suite first: a baseline must come from complete runs.',
  );
  return false;
}

function readQuickRun(file: string): Results {
  const { results } = readResultsFile(file, 'current');
  if (results.mode !== 'quick') {
    throw new GateInputError(
      'bad-shape',
      `${file} is a ${results.mode} run; the gate compares quick runs, so ` +
        'record quick ones',
    );
  }
  return results;
}

/**
 * Suites that produced at least one gated timing metric: one with a ratio
 * that the gate config does not list as informational.
 */
function suitesWithGatedRatios(results: Results, config: string): string[] {
  const informational = readGateConfig(config, false).informational ?? [];
  const gated = (id: string): boolean =>
    !informational.some((prefix) => id.startsWith(prefix));
  return results.suites
    .filter((s) =>
      s.metrics.some((m) => m.kind === 'timing' && m.ratio && gated(m.id)))
    .map((s) => s.suite);
}
