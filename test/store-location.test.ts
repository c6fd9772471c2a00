// A database path in a directory that does not exist is refused with
// StoreLocationError, and nothing is created on the way.

import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DuckQueue, StoreLocationError } from '../src/index.js';
import { removeTempDirs, tempDir } from './helpers/tmp.js';

afterAll(removeTempDirs);

describe.each(['sqlite', 'duckdb'] as const)('%s store location', (store) => {
  it('refuses a path in a missing directory and creates nothing', async () => {
    const dir = tempDir();
    const file = join(dir, 'no-such-dir', 'jobs.db');
    const opening = DuckQueue.open(file, { store });
    await expect(opening).rejects.toThrow(StoreLocationError);
    await expect(opening).rejects.toThrow(
      /directory .*no-such-dir does not exist/,
    );
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
  });

  it('refuses a path whose parent is a file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'plain'), 'not a directory');
    await expect(
      DuckQueue.open(join(dir, 'plain', 'jobs.db'), { store }),
    ).rejects.toThrow(/is not a directory/);
  });

  it('creates the file itself in an existing directory', async () => {
    const file = join(tempDir(), 'jobs.db');
    const q = await DuckQueue.open(file, { store });
    await q.close();
    expect(existsSync(file)).toBe(true);
  });
});
