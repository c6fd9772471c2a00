// `duckqueue gate`: compare a benchmark run with the committed baseline.
// Exit 0 when nothing regressed, 1 when something did, 2 when the input
// cannot be judged (missing file, bad JSON, schema mismatch, bad flag).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { compareResults } from './gate.js';
import { GateInputError } from './gate-errors.js';
import { renderGateMarkdown } from './gate-format.js';
import type { GateReport } from './gate-report.js';
import { readResultsFile } from './gate-input.js';
import {
  checkAlpha,
  checkMinEffect,
  DEFAULT_CONFIG_FILE,
  DEFAULT_GATE_OPTIONS,
  type GateOptions,
  readGateConfig,
} from './gate-options.js';

export const GATE_USAGE = `usage: duckqueue gate --baseline FILE --current FILE [options]

Compares a benchmark results.json with a baseline and exits 0 (pass),
1 (a metric regressed, changed or went missing) or 2 (bad input).

  --baseline FILE       committed baseline (reports/baseline.json)
  --current FILE        results.json of the run to judge
  --only PREFIX         compare only metric ids starting with PREFIX
                        (repeat or comma-separate for several)
  --alpha P             significance level: of the Mann-Whitney U test on a
                        metric's round samples, and, divided by the number
                        of gated metrics, of the test against the baseline's
                        separate runs (default ${DEFAULT_GATE_OPTIONS.alpha})
  --min-effect F        smallest relative slowdown of the median ratio that
                        fails, e.g. 0.1 = 10% (default ${DEFAULT_GATE_OPTIONS.minEffect})
  --config FILE         JSON file with a "gate" section holding the options
                        above, per-prefix "overrides" and "informational"
                        prefixes shown but not gated (default
                        ./${DEFAULT_CONFIG_FILE} when it exists); flags win
  --markdown-out FILE   also write the markdown report to FILE
  --json                print the report as JSON instead of markdown
`;

export async function run(argv: string[]): Promise<number> {
  try {
    return gate(argv);
  } catch (err) {
    if (err instanceof GateInputError) {
      console.error(`duckqueue gate: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

function gate(argv: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        baseline: { type: 'string' },
        current: { type: 'string' },
        only: { type: 'string', multiple: true },
        alpha: { type: 'string' },
        'min-effect': { type: 'string' },
        config: { type: 'string' },
        'markdown-out': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new GateInputError('bad-option', `${(err as Error).message}\n${GATE_USAGE}`);
  }
  const flags = parsed.values;
  if (flags.help) {
    console.log(GATE_USAGE);
    return 0;
  }
  if (!flags.baseline || !flags.current) {
    throw new GateInputError(
      'bad-option',
      `both --baseline and --current are required\n${GATE_USAGE}`,
    );
  }

  const options = resolveOptions(flags);
  const baseline = readResultsFile(flags.baseline, 'baseline');
  const current = readResultsFile(flags.current, 'current');
  const report = compareResults(baseline.results, current.results, options);
  const markdown = renderGateMarkdown(report, { baseline, current });

  if (flags['markdown-out']) {
    mkdirSync(path.dirname(flags['markdown-out']), { recursive: true });
    writeFileSync(flags['markdown-out'], markdown);
  }
  if (flags.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    console.log(markdown);
  }
  if (!report.passed) console.error(failureSummary(report));
  return report.passed ? 0 : 1;
}

/** How many failed metrics the one-line summary names before "N more". */
const SUMMARY_NAMES = 12;

// One line for the terminal: whole suites missing from the current run
// (usually a bench run with --suite) are named once, not metric by metric.
function failureSummary(report: GateReport): string {
  const notRun = new Set(
    report.failures
      .filter(
        (r) =>
          r.verdict === 'missing' &&
          r.note.startsWith(`suite ${r.suite} did not run`),
      )
      .map((r) => r.suite),
  );
  const others = report.failures.filter((r) => !notRun.has(r.suite));
  const parts: string[] = [];
  if (notRun.size > 0) {
    parts.push(
      `suites missing from the current results: ${[...notRun].join(', ')} ` +
        '(gate a whole quick run: npm run bench:quick, without --suite)',
    );
  }
  if (others.length > 0) {
    const names = others
      .slice(0, SUMMARY_NAMES)
      .map((r) => `${r.id} (${r.verdict})`);
    if (others.length > SUMMARY_NAMES) {
      names.push(`and ${others.length - SUMMARY_NAMES} more (see the table)`);
    }
    parts.push(
      `${names.join(', ')}. A real slowdown needs a fix; an intended ` +
        'change needs npm run bench:baseline -- --reason "..."',
    );
  }
  return `duckqueue gate: FAILED: ${parts.join('; ')}.`;
}

function resolveOptions(flags: {
  only?: string[];
  alpha?: string;
  'min-effect'?: string;
  config?: string;
}): GateOptions {
  const configFile = flags.config ?? DEFAULT_CONFIG_FILE;
  const fromConfig = readGateConfig(configFile, flags.config !== undefined);
  const options: GateOptions = {
    ...DEFAULT_GATE_OPTIONS,
    ...fromConfig,
    overrides: fromConfig.overrides ?? [],
    only: fromConfig.only ?? [],
    informational: fromConfig.informational ?? [],
  };
  if (flags.alpha !== undefined) {
    options.alpha = checkAlpha(numberFlag(flags.alpha), '--alpha');
  }
  if (flags['min-effect'] !== undefined) {
    options.minEffect = checkMinEffect(
      numberFlag(flags['min-effect']),
      '--min-effect',
    );
  }
  if (flags.only) {
    options.only = flags.only
      .flatMap((p) => p.split(','))
      .map((p) => p.trim())
      .filter((p) => p !== '');
  }
  return options;
}

function numberFlag(text: string): number | string {
  const n = Number(text);
  return text.trim() === '' || Number.isNaN(n) ? text : n;
}
