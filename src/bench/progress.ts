// What the bench command shows while it runs: one live status line on a
// terminal (suite i/n, current task, estimated time left), plain
// timestamped lines otherwise so CI logs stay readable.

import type { SuiteRunner } from './runner.js';
import type { SuiteResult } from './results.js';

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  /** Expected duration per suite name, e.g. from the previous run. */
  expectedMs: (suite: string) => number;
  /** Non-TTY only: at most one progress line per this many ms. */
  plainIntervalMs?: number;
}

/** Subscribes to a runner and draws its progress. */
export function showProgress(runner: SuiteRunner, options: ProgressOptions) {
  const { stream, expectedMs } = options;
  const live = Boolean(stream.isTTY);
  const plainInterval = options.plainIntervalMs ?? 15_000;
  let suiteStarted = 0;
  let remainingAfter = 0;
  let lastPlain = 0;
  let names: string[] = [];

  const estimateLeft = (taskDone?: number, taskTotal?: number): number => {
    const elapsed = performance.now() - suiteStarted;
    const current = names[0] ?? '';
    let suiteLeft = Math.max(0, expectedMs(current) - elapsed);
    if (taskDone && taskTotal && taskDone > 0) {
      suiteLeft = (elapsed / taskDone) * (taskTotal - taskDone);
    }
    return suiteLeft + remainingAfter;
  };

  const draw = (line: string): void => {
    if (live) {
      // Some pseudo-terminals report 0 columns; assume a normal width.
      const columns = stream.columns > 20 ? stream.columns : 100;
      const width = columns - 1;
      stream.write(`\r\x1b[K${line.slice(0, width)}`);
    } else {
      stream.write(`${line}\n`);
    }
  };

  // On a terminal the line is redrawn every second so the estimate counts
  // down between the suite's own progress messages.
  let current: (() => string) | undefined;
  if (live) {
    setInterval(() => {
      if (current) draw(current());
    }, 1000).unref();
  }

  runner.on('suite:start', ({ index, total, suite }) => {
    suiteStarted = performance.now();
    // names[0] is the running suite; the rest are still to come.
    names = runner.suites.slice(index).map((s) => s.name);
    remainingAfter = names.slice(1).reduce((t, n) => t + expectedMs(n), 0);
    lastPlain = performance.now();
    current = () =>
      `[${index + 1}/${total}] ${suite.name}: starting · ~` +
      `${formatDuration(estimateLeft())} left`;
    draw(current());
  });

  runner.on('suite:progress', (event) => {
    const count =
      event.taskDone !== undefined && event.taskTotal !== undefined
        ? ` (${event.taskDone}/${event.taskTotal})`
        : '';
    current = () =>
      `[${event.index + 1}/${event.total}] ${event.suite.name}: ` +
      `${event.task}${count} · ~` +
      `${formatDuration(estimateLeft(event.taskDone, event.taskTotal))} left`;
    const now = performance.now();
    if (!live && now - lastPlain < plainInterval) return;
    lastPlain = now;
    draw(current());
  });

  runner.on('suite:end', ({ index, total, suite, result }) => {
    current = undefined;
    if (live) stream.write('\r\x1b[K');
    stream.write(
      `[${index + 1}/${total}] ${suite.name}: ${describeEnd(result)}\n`,
    );
  });
}

function describeEnd(result: SuiteResult): string {
  const took = formatDuration(result.durationMs);
  if (result.status === 'ok') {
    return `ok in ${took}, ${result.metrics.length} metrics`;
  }
  const firstLine = (result.reason ?? 'no reason given').split('\n')[0];
  return `${result.status.toUpperCase()} in ${took}: ${firstLine}`;
}
