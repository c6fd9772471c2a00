// A Logger that keeps what it is given, for tests that check what an
// operator would read.

import type { Logger } from '../../src/queue/logger.js';

export interface LogEntry {
  level: string;
  message: string;
  meta?: Record<string, unknown>;
}

/** `entries` as logged; `lines` as "level message {meta json}". */
export function recordingLogger() {
  const entries: LogEntry[] = [];
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void => {
      entries.push({ level, message, meta });
      lines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
    };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, entries, lines };
}
