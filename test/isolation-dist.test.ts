// The compiled package (dist/, what users import) run under tsx: job
// modules written in TypeScript must load inside thread and process
// isolates, not only when duckqueue itself runs from its .ts sources.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST_INDEX = path.resolve('dist/index.js');
const built = existsSync(DIST_INDEX);
if (!built) console.log('isolation-dist: skipped, run `npm run build` first');

describe.skipIf(!built)('the compiled package under tsx', () => {
  it('runs a .ts job module in thread and process isolates', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dq-dist-ts-'));
    try {
      const stdout = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          'test/fixtures/dist-ts/run.ts',
          pathToFileURL(DIST_INDEX).href,
          dir,
        ],
        { encoding: 'utf8', timeout: 120_000 },
      );
      const last = stdout.trim().split('\n').at(-1)!;
      expect(JSON.parse(last)).toEqual({ thread: 42, process: 42 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
