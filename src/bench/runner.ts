// Runs each suite in a fresh `node --import tsx suites/<name>.ts` process so
// one suite's JIT state, heap and open handles cannot colour the next one's
// numbers. A suite that crashes, hangs or exits without a result becomes a
// failed SuiteResult; the other suites still run.

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.js';
import type { SuiteEntry } from './registry.js';
import type { SuiteResult } from './results.js';
import {
  benchSettings,
  MODE_ENV,
  RESULT_FILE_ENV,
  type BenchMode,
} from './settings.js';
import type { ProgressMessage } from './suite.js';

export { PROJECT_ROOT };

export interface RunnerOptions {
  mode: BenchMode;
  suites: SuiteEntry[];
  /** Per-suite limit; default from the mode's settings. */
  suiteTimeoutMs?: number;
  /** Extra environment for the suite processes. */
  env?: NodeJS.ProcessEnv;
}

export interface SuiteStartEvent {
  index: number;
  total: number;
  suite: SuiteEntry;
}
export interface SuiteEndEvent extends SuiteStartEvent {
  result: SuiteResult;
}

export interface RunnerEvents {
  'suite:start': [SuiteStartEvent];
  'suite:progress': [
    SuiteStartEvent & { task: string; taskDone?: number; taskTotal?: number },
  ];
  'suite:end': [SuiteEndEvent];
}

const TAIL_BYTES = 4000;

function tail(text: string): string {
  return text.length > TAIL_BYTES ? `…${text.slice(-TAIL_BYTES)}` : text;
}

export class SuiteRunner extends EventEmitter<RunnerEvents> {
  constructor(private readonly options: RunnerOptions) {
    super();
  }

  get suites(): readonly SuiteEntry[] {
    return this.options.suites;
  }

  async run(): Promise<SuiteResult[]> {
    const results: SuiteResult[] = [];
    const { suites } = this.options;
    for (const [index, suite] of suites.entries()) {
      const where = { index, total: suites.length, suite };
      this.emit('suite:start', where);
      const result = await this.runOne(suite, where);
      results.push(result);
      this.emit('suite:end', { ...where, result });
    }
    return results;
  }

  private runOne(
    suite: SuiteEntry,
    where: SuiteStartEvent,
  ): Promise<SuiteResult> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-bench-'));
    const resultFile = path.join(dir, `${suite.name}.json`);
    const timeoutMs =
      this.options.suiteTimeoutMs ??
      benchSettings(this.options.mode).suiteTimeoutMs;
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', suite.file], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        ...this.options.env,
        [MODE_ENV]: this.options.mode,
        [RESULT_FILE_ENV]: resultFile,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output = tail(output + chunk.toString());
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output = tail(output + chunk.toString());
    });
    child.on('message', (message: ProgressMessage) => {
      if (message?.type !== 'progress') return;
      const event: SuiteStartEvent & {
        task: string;
        taskDone?: number;
        taskTotal?: number;
      } = { ...where, task: message.task };
      if (message.done !== undefined) event.taskDone = message.done;
      if (message.total !== undefined) event.taskTotal = message.total;
      this.emit('suite:progress', event);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);

    return new Promise((resolve) => {
      const finish = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        const durationMs = Math.round(performance.now() - started);
        let result: SuiteResult | undefined;
        if (!timedOut && existsSync(resultFile)) {
          try {
            result = JSON.parse(readFileSync(resultFile, 'utf8'));
          } catch {
            result = undefined;
          }
        }
        rmSync(dir, { recursive: true, force: true });
        if (result) {
          result.suite = suite.name;
          result.title ??= suite.title;
          resolve(result);
          return;
        }
        const how = timedOut
          ? `was stopped after ${Math.round(timeoutMs / 1000)} s ` +
            '(raise suiteTimeoutMs in src/bench/settings.ts if it is ' +
            'expected to take longer)'
          : signal
            ? `was killed by ${signal}`
            : `exited with code ${code} without writing a result`;
        const shown = output.trim() ? `; last output:\n${output.trim()}` : '';
        resolve({
          suite: suite.name,
          title: suite.title,
          status: 'failed',
          reason: `suite process ${how}${shown}`,
          durationMs,
          metrics: [],
        });
      };
      child.on('error', (error) => {
        output = tail(`${output}\n${error.message}`);
      });
      child.on('close', finish);
    });
  }
}
