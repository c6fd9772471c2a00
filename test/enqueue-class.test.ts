// A class is a function to typeof, but calling it without `new` always
// throws: enqueue refuses it at once instead of storing a job that fails
// on every attempt. Real SQLite file.

import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { DuckQueue, InvalidOptionError } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

class Report {
  run(): string {
    return 'ran';
  }
}

let q: DuckQueue;

beforeEach(async () => {
  const dir = tempDir('dq-enqueue-class-');
  q = await DuckQueue.open(join(dir, 'jobs.db'), { serialization: 'source' });
});
afterEach(() => q.close());
afterAll(removeTempDirs);

it('refuses a class as the job function, naming it and the fix', async () => {
  const err = await q.enqueue(Report as never).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidOptionError);
  expect((err as Error).message).toMatch(/got class Report/);
  expect((err as Error).message).toMatch(/without new/);
  expect((err as Error).message).toMatch(/\(\) => new Report\(\)\.run\(\)/);
  const anonymous = class {};
  const err2 = await q.enqueue(anonymous as never).catch((e: unknown) => e);
  expect(err2).toBeInstanceOf(InvalidOptionError);
  expect(await q.listJobs()).toEqual([]);
});

it('still accepts a function that uses the class', async () => {
  const id = await q.enqueue(() => 1);
  expect(typeof id).toBe('string');
});
