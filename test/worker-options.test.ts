// Worker options at their edges, and a job row whose timeout no timer can
// wait: loggers without the methods the worker calls, fractions and values
// past 2^31-1 ms, a heartbeat slower than claims lapse, a memory limit
// with nothing to limit, and timeout_ms planted in a real SQLite row.

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  DuckQueue,
  InvalidJobRowError,
  Worker,
} from '../src/index.js';
import type { WorkerOptions } from '../src/worker/options.js';
import { registerTask } from '../src/serialize/index.js';
import { expectOptionError } from './helpers/option-errors.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

async function later(value: string): Promise<string> {
  await new Promise((resolve) => setImmediate(resolve));
  return value;
}
registerTask('worker-options.later', later);

let dir: string;
let q: DuckQueue;

beforeEach(async () => {
  dir = tempDir('dq-worker-options-');
  q = await DuckQueue.open(join(dir, 'jobs.db'), {
    serialization: 'json',
    visibilityTimeoutMs: 30_000,
  });
});
afterEach(() => q.close());
afterAll(removeTempDirs);

function workerError(options: WorkerOptions): unknown {
  try {
    new Worker(q, options);
    return null;
  } catch (err) {
    return err;
  }
}


describe('Worker options', () => {
  it.each([
    ['a string', 'console', /expected an object with debug, info, warn and error/],
    ['an empty object', {}, /has no debug, info, warn, error methods/],
    ['an object without warn', { debug() {}, info() {}, error() {} }, /has no warn method/],
  ])('refuse a logger that is %s', (_, logger, message) => {
    expectOptionError(workerError({ logger: logger as never }), 'logger', message);
  });

  it('take console as the logger', () => {
    expect(workerError({ logger: console })).toBeNull();
  });

  it.each([
    ['pollMs', { pollMs: 2.5 }, /must be whole milliseconds from 1 to 60000, got 2.5/],
    ['graceMs', { graceMs: 0.5 }, /must be whole milliseconds/],
    ['heartbeatMs', { heartbeatMs: 100.5 }, /must be whole milliseconds/],
    ['graceMs', { graceMs: 2 ** 31 }, /\(ms; a Node timer cannot wait longer\)/],
    ['heartbeatMs', { heartbeatMs: 1e300 }, /\(ms; a Node timer cannot wait longer\)/],
  ])('refuse %s %j', (option, options, message) => {
    expectOptionError(workerError(options), option, message);
  });

  it('refuse a heartbeat that lets running claims lapse', () => {
    expectOptionError(
      workerError({ heartbeatMs: 30_000 }),
      'heartbeatMs',
      /30000 is not shorter than the queue's visibilityTimeoutMs \(30000\)/,
    );
    expect(workerError({ heartbeatMs: 29_999 })).toBeNull();
  });

  it.each([
    ['by default', { memoryLimitMb: 256 }],
    ["with isolation 'none'", { isolation: 'none', memoryLimitMb: 256 }],
  ] as const)('refuse memoryLimitMb %s, where there is nothing to limit', (_, options) => {
    expectOptionError(
      workerError(options),
      'memoryLimitMb',
      /256 has no effect with isolation 'none'.*set isolation 'thread' or 'process'/,
    );
  });

  it("take memoryLimitMb null with isolation 'none', and a limit with threads", () => {
    expect(workerError({ memoryLimitMb: null })).toBeNull();
    expect(workerError({ isolation: 'thread', memoryLimitMb: 256 })).toBeNull();
  });
});

describe('a planted timeout_ms out of range', () => {
  function plantTimeout(id: string, value: unknown): void {
    const db = new Database(join(dir, 'jobs.db'));
    try {
      db.prepare('UPDATE jobs SET timeout_ms = ? WHERE id = ?').run(value, Number(id));
    } finally {
      db.close();
    }
  }

  it.each([
    ['negative', -5, '-5'],
    ['fractional', 1.5, '1.5'],
    ['zero', 0, '0'],
    ['2^31', 2 ** 31, '2147483648'],
    ['1e300', 1e300, '1e+300'],
    ['text', 'soon', 'soon'],
  ])(
    'fails only that job (%s), names it, and the worker keeps going',
    async (_, value, shown) => {
      const planted = await q.enqueue(later, { args: ['planted'], timeoutMs: 1_000 });
      const fine = await q.enqueue(later, { args: ['fine'], timeoutMs: 1_000 });
      plantTimeout(planted, value);
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.name);
      process.on('warning', onWarning);
      const failed: unknown[] = [];
      const worker = new Worker(q, { pollMs: 5 });
      worker.on('job:failed', (e) => failed.push(e.error));
      try {
        await worker.run({ untilEmpty: true });
      } finally {
        process.off('warning', onWarning);
      }
      const job = await q.getJob(planted);
      expect(job.status).toBe('failed');
      expect(job.attempts).toBe(1);
      expect(job.lastError?.name).toBe('InvalidJobRowError');
      expect(job.lastError?.message).toContain(
        `job ${planted} has timeoutMs ${shown} in its row`,
      );
      expect(failed).toHaveLength(1);
      expect(failed[0]).toBeInstanceOf(InvalidJobRowError);
      expect(failed[0]).toMatchObject({ jobId: planted, field: 'timeoutMs' });
      expect(await q.result(fine)).toBe('fine');
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    },
  );
});
