// The names a user imports from the package root, checked on the module
// that package.json points at once built (src/index.ts here).

import { describe, expect, it } from 'vitest';
import * as api from '../src/index.js';

describe('the package root', () => {
  it.each([
    'DuckQueue',
    'Worker',
    'createSerializer',
    'registerSerializer',
    'registerTask',
    'registerConfigTask',
    'inspectPayload',
    'NotSerializableError',
    'DeserializationError',
    'PolicyViolationError',
    'QueueFullError',
    'JobFailedError',
    'InvalidOptionError',
    'SignatureError',
    'StoreLockedError',
  ])('exports %s', (name) => {
    expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
  });

  it('opens a queue, runs a registered task and returns its result', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'dq-api-'));
    try {
      const double = (n: number) => n * 2;
      api.registerTask('public-api.double', double);
      const q = await api.DuckQueue.open(join(dir, 'jobs.db'), {
        serialization: 'json',
      });
      const id = await q.enqueue(double, { args: [21] });
      await new api.Worker(q, { pollMs: 5 }).run({ untilEmpty: true });
      expect(await q.result(id)).toBe(42);
      await q.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
