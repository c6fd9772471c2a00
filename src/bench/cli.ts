// `duckqueue bench` / `npm run bench`: runs the suites, writes
// <out>/results.json and the markdown reports, prints a summary table.
// Full runs write to reports/ (committed), quick runs to reports/quick/
// (what CI and the regression gate read; not committed).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Table from 'cli-table3';
import { renderReports } from '../report/render.js';
import { collectEnvironment } from './environment.js';
import { formatDuration, showProgress } from './progress.js';
import { discoverSuites, selectSuites, UnknownSuiteError } from './registry.js';
import {
  RESULTS_SCHEMA_VERSION,
  type Results,
  type SuiteResult,
} from './results.js';
import { PROJECT_ROOT, SuiteRunner } from './runner.js';
import type { BenchMode } from './settings.js';
import { headline } from '../report/headline.js';

export interface BenchCliOptions {
  mode: BenchMode;
  suites: string[];
  /** Output folder; default reports/ (full) or reports/quick/ (quick). */
  out: string;
  list: boolean;
  /** Re-render the pages from <out>/results.json without measuring. */
  reportOnly: boolean;
  help: boolean;
}

export class BenchUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchUsageError';
  }
}

export const USAGE = `usage: duckqueue bench [--quick] [--suite a,b] [--out DIR] [--list]

  --quick        short run (CI and the regression gate); writes reports/quick/
  --suite a,b    run only these suites (default: every file in suites/)
  --out DIR      where results.json and the .md pages go
                 (default: reports/ for a full run, reports/quick/ for quick)
  --list         print the available suites and exit
  --report-only  re-render the .md pages from DIR/results.json, measure nothing`;

export function defaultOutDir(mode: BenchMode): string {
  return path.join(
    PROJECT_ROOT,
    'reports',
    ...(mode === 'quick' ? ['quick'] : []),
  );
}

export function parseBenchArgs(argv: string[]): BenchCliOptions {
  let mode: BenchMode = 'full';
  const suites: string[] = [];
  let out: string | undefined;
  let list = false;
  let reportOnly = false;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') ? arg.split(/=(.*)/s) : [arg];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) {
        throw new BenchUsageError(`${flag} needs a value`);
      }
      return v;
    };
    switch (flag) {
      case '--quick':
        mode = 'quick';
        break;
      case '--full':
        mode = 'full';
        break;
      case '--suite':
      case '--suites':
        suites.push(...value().split(',').map((s) => s.trim()).filter(Boolean));
        break;
      case '--out':
        out = value();
        break;
      case '--list':
        list = true;
        break;
      case '--report-only':
        reportOnly = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        throw new BenchUsageError(
          `unknown argument '${arg}'; valid: --quick, --full, --suite, ` +
            '--out, --list, --report-only, --help',
        );
    }
  }
  return {
    mode,
    suites,
    out: path.resolve(out ?? defaultOutDir(mode)),
    list,
    reportOnly,
    help,
  };
}

/** Per-suite durations of the previous run in this folder, for the ETA. */
function previousDurations(outDir: string): Map<string, number> {
  const file = path.join(outDir, 'results.json');
  const found = new Map<string, number>();
  if (!existsSync(file)) return found;
  try {
    const previous = JSON.parse(readFileSync(file, 'utf8')) as Results;
    for (const s of previous.suites) found.set(s.suite, s.durationMs);
  } catch {
    // A damaged previous file only costs the estimate.
  }
  return found;
}

function summaryTable(suites: SuiteResult[]): string {
  const table = new Table({
    head: ['suite', 'status', 'time', 'metrics', 'headline'],
    colWidths: [18, 9, 8, 9, 60],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const s of suites) {
    const note =
      s.status === 'ok'
        ? headline(s)
        : (s.reason ?? '').split('\n')[0]!.slice(0, 200);
    table.push([
      s.suite,
      s.status,
      formatDuration(s.durationMs),
      String(s.metrics.length),
      note,
    ]);
  }
  return table.toString();
}

export async function runBench(options: BenchCliOptions): Promise<number> {
  const suites = selectSuites(options.suites);
  if (suites.length === 0) {
    console.error('duckqueue bench: no suites found in suites/');
    return 2;
  }
  const started = performance.now();
  const environment = collectEnvironment(PROJECT_ROOT);
  const runner = new SuiteRunner({ mode: options.mode, suites });
  const previous = previousDurations(options.out);
  const fallbackMs = options.mode === 'quick' ? 15_000 : 150_000;
  showProgress(runner, {
    stream: process.stderr,
    expectedMs: (name) => previous.get(name) ?? fallbackMs,
  });
  console.error(
    `duckqueue bench: ${options.mode} run of ${suites.length} suites ` +
      `(${suites.map((s) => s.name).join(', ')}) → ${options.out}`,
  );
  const suiteResults = await runner.run();
  const results: Results = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    mode: options.mode,
    environment,
    suites: suiteResults,
    durationMs: Math.round(performance.now() - started),
  };
  mkdirSync(options.out, { recursive: true });
  const resultsFile = path.join(options.out, 'results.json');
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const pages = renderReports(results, options.out);
  console.log(summaryTable(suiteResults));
  console.log(
    `wrote ${path.relative(process.cwd(), resultsFile) || resultsFile} and ` +
      `${pages.length} report pages in ${formatDuration(results.durationMs!)}`,
  );
  const failed = suiteResults.filter((s) => s.status === 'failed');
  if (failed.length) {
    console.error(
      `duckqueue bench: ${failed.length} suite(s) failed: ` +
        `${failed.map((s) => s.suite).join(', ')}. ` +
        'Their reason is in the table above and in results.json; the other ' +
        'suites were measured and reported.',
    );
    return 1;
  }
  return 0;
}

/** Re-renders the pages of an earlier run, e.g. after a renderer change. */
function renderOnly(outDir: string): number {
  const file = path.join(outDir, 'results.json');
  if (!existsSync(file)) {
    console.error(
      `duckqueue bench: ${file} does not exist; run the bench first ` +
        '(or point --out at the folder that holds results.json)',
    );
    return 2;
  }
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  if (results.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    console.error(
      `duckqueue bench: ${file} has schemaVersion ${results.schemaVersion}, ` +
        `this renderer reads ${RESULTS_SCHEMA_VERSION}; run the bench again`,
    );
    return 2;
  }
  const pages = renderReports(results, outDir);
  console.log(summaryTable(results.suites));
  console.log(`re-rendered ${pages.length} pages in ${outDir}`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  let options: BenchCliOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    if (error instanceof BenchUsageError) {
      console.error(`duckqueue bench: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.list) {
    for (const s of discoverSuites()) console.log(`${s.name}\t${s.title}`);
    return 0;
  }
  if (options.reportOnly) return renderOnly(options.out);
  try {
    return await runBench(options);
  } catch (error) {
    if (error instanceof UnknownSuiteError) {
      console.error(`duckqueue bench: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
