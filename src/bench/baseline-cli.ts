// `npm run bench:baseline -- --reason "..."`: run the quick benchmark and
// record it as the baseline the regression gate compares against, with
// who recorded it, where, from which commit, when and why.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  BaselineReasonError,
  collectBaselineRecord,
  makeBaseline,
  writeBaseline,
} from './baseline.js';
import { GateInputError } from './gate-errors.js';
import { readResultsFile } from './gate-input.js';

const PROJECT_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
);

export const DEFAULT_BASELINE_FILE = 'reports/baseline.json';
/** Where the quick run writes its results before they are recorded. */
export const QUICK_OUT_DIR = 'reports/quick';

export const BASELINE_USAGE = `usage: npm run bench:baseline -- --reason "why" [options]

Runs the quick benchmark (npm run bench -- --quick) and records its
results as the regression gate's baseline.

  --reason TEXT   required: why the numbers are expected to change
  --from FILE     record this existing results.json instead of running
                  the benchmark (it must be a quick run)
  --out FILE      where to write the baseline (default ${DEFAULT_BASELINE_FILE})
`;

export async function run(argv: string[]): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: argv,
      options: {
        reason: { type: 'string' },
        from: { type: 'string' },
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

  let resultsFile = flags.from;
  let command = `record ${flags.from ?? ''}`.trim();
  if (!resultsFile) {
    const benchArgs = ['src/cli.ts', 'bench', '--quick', '--out', QUICK_OUT_DIR];
    command = `tsx ${benchArgs.join(' ')}`;
    console.log(`bench:baseline: running ${command}`);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', ...benchArgs],
      { cwd: PROJECT_ROOT, stdio: 'inherit' },
    );
    if (child.status !== 0) {
      console.error(
        `bench:baseline: the quick benchmark exited with ` +
          `${child.status ?? child.signal}; no baseline recorded. Fix the ` +
          'failing suite first: a baseline must come from a complete run.',
      );
      return 1;
    }
    resultsFile = path.join(PROJECT_ROOT, QUICK_OUT_DIR, 'results.json');
  }

  try {
    const { results } = readResultsFile(resultsFile, 'current');
    if (results.mode !== 'quick') {
      console.error(
        `bench:baseline: ${resultsFile} is a ${results.mode} run; the gate ` +
          'compares quick runs, so record a quick one (leave out --from)',
      );
      return 2;
    }
    const failed = results.suites.filter((s) => s.status === 'failed');
    if (failed.length > 0) {
      console.error(
        `bench:baseline: suites ${failed.map((s) => s.suite).join(', ')} ` +
          'failed in that run; fix them before recording a baseline',
      );
      return 1;
    }
    const record = collectBaselineRecord(flags.reason, command, PROJECT_ROOT);
    writeBaseline(flags.out, makeBaseline(results, record));
    const metrics = results.suites.reduce((n, s) => n + s.metrics.length, 0);
    console.log(
      `bench:baseline: wrote ${flags.out} (${metrics} metrics, ` +
        `${record.recordedBy} on ${record.host} at ` +
        `${record.gitSha?.slice(0, 10) ?? 'no git'}). Commit it with the ` +
        'change that explains it.',
    );
    return 0;
  } catch (err) {
    if (err instanceof GateInputError) {
      console.error(`bench:baseline: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
