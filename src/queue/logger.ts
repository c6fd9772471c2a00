// The logger the worker and the CLI write to. The queue itself never logs;
// it emits events. Any object with these four methods works (console,
// pino, winston...). `meta` carries ids (jobId, workerId, queue) so an
// operator can find the job the line is about.

import { hasControl, printable } from './printable.js';

export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

const ignore = (): void => {};

/** Drops everything: the default for library use. */
export const silentLogger: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * One line per message on stderr: time, level, scope, message, then
 * key=value pairs. Used by the CLI.
 */
export function consoleLogger(
  scope: string,
  minLevel: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const min = LEVELS.indexOf(minLevel);
  const at =
    (level: LogLevel) =>
    (message: string, meta?: Record<string, unknown>): void => {
      if (LEVELS.indexOf(level) < min) return;
      const pairs = meta
        ? Object.entries(meta)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => ` ${k}=${formatValue(v)}`)
            .join('')
        : '';
      const time = new Date().toISOString();
      const text = printable(message);
      write(`${time} ${level.toUpperCase()} [${scope}] ${text}${pairs}`);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

// Plain when unambiguous; quoted when a space or quote would blur where
// the value ends. Values often come from job rows (function names, error
// messages): control characters never reach the terminal raw.
function formatValue(v: unknown): string {
  if (typeof v === 'string') {
    return v === '' || /[\s"=]/.test(v) || hasControl(v)
      ? printable(JSON.stringify(v))
      : v;
  }
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return printable(/\s/.test(s) ? JSON.stringify(s) : s);
}
