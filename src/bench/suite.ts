// The child-process side of a benchmark suite. A suite file in suites/
// declares itself with `defineSuite` and ends with `runSuiteIfMain`; the
// runner starts it as `node --import tsx suites/<name>.ts`, tells it the
// mode through the environment, and reads its SuiteResult from a temp file.
// Progress goes to the parent over the IPC channel when there is one.

import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Metric, SuiteResult } from './results.js';
import {
  benchSettings,
  MODE_ENV,
  RESULT_FILE_ENV,
  type BenchMode,
  type BenchSettings,
} from './settings.js';

export interface SuiteContext {
  mode: BenchMode;
  settings: BenchSettings;
  /** Reports what the suite is doing now; `done`/`total` drive the ETA. */
  progress(task: string, done?: number, total?: number): void;
}

/** What a suite's `run` returns; the harness adds name and duration. */
export interface SuiteOutput {
  /**
   * 'failed' with metrics keeps what was measured while still failing the
   * run (e.g. one backend was missing); a thrown error fails with none.
   */
  status?: 'ok' | 'skipped' | 'failed';
  /** Required unless status is 'ok': why, and what to do about it. */
  reason?: string;
  metrics: Metric[];
  data?: unknown;
  /** A ready page body, for suites without a renderer in src/report/. */
  markdown?: string;
}

export interface SuiteDefinition {
  name: string;
  title: string;
  run(ctx: SuiteContext): Promise<SuiteOutput>;
}

/** Messages a suite process sends to the runner. */
export interface ProgressMessage {
  type: 'progress';
  task: string;
  done?: number;
  total?: number;
}

export function defineSuite(definition: SuiteDefinition): SuiteDefinition {
  return definition;
}

export class SuiteSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuiteSetupError';
  }
}

function modeFromEnv(): BenchMode {
  const mode = process.env[MODE_ENV] ?? 'full';
  if (mode !== 'quick' && mode !== 'full') {
    throw new SuiteSetupError(
      `${MODE_ENV}='${mode}' is not a mode; use 'quick' or 'full'`,
    );
  }
  return mode;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

/** Runs a suite in this process and returns its result; never throws. */
export async function executeSuite(
  definition: SuiteDefinition,
  mode: BenchMode,
  progress: SuiteContext['progress'] = () => {},
): Promise<SuiteResult> {
  const started = performance.now();
  const base = { suite: definition.name, title: definition.title };
  try {
    const out = await definition.run({
      mode,
      settings: benchSettings(mode),
      progress,
    });
    const result: SuiteResult = {
      ...base,
      status: out.status ?? 'ok',
      durationMs: Math.round(performance.now() - started),
      metrics: out.metrics,
    };
    if (out.reason) result.reason = out.reason;
    if (out.data !== undefined) result.data = out.data;
    if (out.markdown) result.markdown = out.markdown;
    return result;
  } catch (error) {
    return {
      ...base,
      status: 'failed',
      reason: describeError(error),
      durationMs: Math.round(performance.now() - started),
      metrics: [],
    };
  }
}

/**
 * When this module is the process entry point (the runner started it),
 * runs the suite and writes its result where the runner asked. The exit
 * code is 1 when the suite failed, so a suite also works when started by
 * hand: `node --import tsx suites/size.ts` prints its result as JSON.
 */
export function runSuiteIfMain(
  definition: SuiteDefinition,
  moduleUrl: string,
): void {
  const entry = process.argv[1];
  if (!entry || pathToFileURL(entry).href !== moduleUrl) return;
  const progress = (task: string, done?: number, total?: number): void => {
    const message: ProgressMessage = { type: 'progress', task };
    if (done !== undefined) message.done = done;
    if (total !== undefined) message.total = total;
    if (process.send) process.send(message);
    else process.stderr.write(`${definition.name}: ${task}\n`);
  };
  void (async () => {
    const result = await executeSuite(definition, modeFromEnv(), progress);
    const target = process.env[RESULT_FILE_ENV];
    const json = JSON.stringify(result, null, 2);
    if (target) writeFileSync(target, json);
    else process.stdout.write(`${json}\n`);
    if (result.status === 'failed') {
      process.stderr.write(`${definition.name} failed: ${result.reason}\n`);
    }
    process.exitCode = result.status === 'failed' ? 1 : 0;
    // Suites may leave handles open (pools, timers); the result is written.
    process.disconnect?.();
    setImmediate(() => process.exit());
  })();
}
