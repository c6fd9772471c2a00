// The runner end to end with a fixture suites folder: real child processes,
// real files. A failing or crashing suite fails the run and is named, and
// the other suites' reports are still written.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../src/bench/results.js';

const root = path.resolve(import.meta.dirname, '..');
const fixtures = path.join(root, 'test', 'bench-fixtures', 'suites');

function bench(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src', 'cli.ts'), 'bench', ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, DUCKQUEUE_BENCH_SUITES_DIR: fixtures, ...env },
      timeout: 120_000,
    },
  );
}

describe('bench runner with a failing suite', () => {
  let out: string;
  let run: ReturnType<typeof bench>;
  let results: Results;

  beforeAll(() => {
    out = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-bench-test-'));
    run = bench(['--quick', '--out', out]);
    results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('exits non-zero and names every failing suite', () => {
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/2 suite\(s\) failed: broken, crashes/);
  });

  it('records the thrown error and the crash as failed results', () => {
    const byName = new Map(results.suites.map((s) => [s.suite, s]));
    expect(byName.get('broken')?.status).toBe('failed');
    expect(byName.get('broken')?.reason).toContain(
      'measurement failed on purpose',
    );
    expect(byName.get('crashes')?.status).toBe('failed');
    expect(byName.get('crashes')?.reason).toMatch(/exited with code 3/);
    expect(byName.get('crashes')?.reason).toContain('exiting with code 3');
    expect(byName.get('skipped')?.status).toBe('skipped');
    expect(results.mode).toBe('quick');
  });

  it('still measures and reports the suites that work', () => {
    const fine = results.suites.find((s) => s.suite === 'fine');
    expect(fine?.status).toBe('ok');
    expect(fine?.metrics.find((m) => m.id === 'fixture.answer')).toMatchObject(
      { kind: 'exact', value: 42 },
    );
    const page = readFileSync(path.join(out, 'fine.md'), 'utf8');
    expect(page).toContain('Mode was quick.');
    const index = readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(index).toContain('[Fine fixture](fine.md) | ok');
    expect(index).toMatch(/broken\.md\) \| failed: .*on purpose/);
    expect(readFileSync(path.join(out, 'broken.md'), 'utf8')).toContain(
      '**This suite failed**',
    );
    expect(readFileSync(path.join(out, 'skipped.md'), 'utf8')).toContain(
      '**Skipped:** fixture needs nothing',
    );
    expect(existsSync(path.join(out, 'DECISION.md'))).toBe(true);
  });

  it('lists the expected suites that are absent as not available yet', () => {
    const index = readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(index).toMatch(/Security \(.*\): not available yet\./);
  });
});

describe('bench command line', () => {
  it('runs only the suites asked for and exits 0 when they pass', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-bench-test-'));
    try {
      const run = bench(['--quick', '--suite', 'fine,skipped', '--out', out]);
      expect(run.status).toBe(0);
      const results: Results = JSON.parse(
        readFileSync(path.join(out, 'results.json'), 'utf8'),
      );
      expect(results.suites.map((s) => s.suite)).toEqual(['fine', 'skipped']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('rejects an unknown suite with exit 2 and lists the available ones', () => {
    const run = bench(['--suite', 'nope']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/unknown suite 'nope'; available: .*broken/);
  });

  it('rejects an unknown flag with exit 2 and names it', () => {
    const run = bench(['--fast']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown argument '--fast'");
  });

  it('runs full mode by default and tells the suite processes', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-bench-test-'));
    try {
      bench(['--suite', 'fine', '--out', out]);
      const page = readFileSync(path.join(out, 'fine.md'), 'utf8');
      expect(page).toContain('Mode was full.');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
