// The CLI's log lines: one line each, and nothing from a job row can send
// control sequences to the operator's terminal.

import { describe, expect, it } from 'vitest';
import { consoleLogger } from '../src/queue/logger.js';
import { printable } from '../src/queue/printable.js';

function capture() {
  const lines: string[] = [];
  return { lines, logger: consoleLogger('test', 'debug', (l) => lines.push(l)) };
}

describe('consoleLogger', () => {
  it('writes time, level, scope, message and key=value pairs', () => {
    const { lines, logger } = capture();
    logger.warn('job failed', { jobId: '7', fn: 'send mail', skipped: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN \[test\] job failed jobId=7 fn="send mail"$/,
    );
  });

  it('escapes control characters from job rows in messages and values', () => {
    const { lines, logger } = capture();
    const title = '\u001b]0;owned\u0007';
    const clear = '\u001b[2J\u009b31m';
    logger.error(`job failed ${title}`, { fn: `mail${clear}`, reason: 'a\nb' });
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(line).toContain('\\u001b]0;owned\\u0007');
    expect(line).toContain('fn="mail\\u001b[2J\\u009b31m"');
    expect(line).toContain('reason="a\\nb"');
  });
});

describe('printable', () => {
  it('leaves ordinary text alone, unicode included', () => {
    expect(printable('café ✓ 日本')).toBe('café ✓ 日本');
  });

  it('writes C0, DEL and C1 controls as escapes', () => {
    expect(printable('a\u0000b\u007fc\u0085d')).toBe(
      'a\\u0000b\\u007fc\\u0085d',
    );
  });
});
