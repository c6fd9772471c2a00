import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  BaselineReasonError,
  collectBaselineRecord,
  makeBaseline,
  writeBaseline,
} from '../src/bench/baseline.js';
import { readResultsFile } from '../src/bench/gate-input.js';
import { exact, results, suite } from './gate-fixtures.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-baseline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('baseline record', () => {
  it('refuses an empty reason', () => {
    expect(() => collectBaselineRecord('   ', 'bench')).toThrow(BaselineReasonError);
  });

  it('records no commit outside a git checkout', () => {
    const record = collectBaselineRecord('first baseline', 'bench', dir);
    expect(record.gitSha).toBeNull();
    expect(record.gitDirty).toBeNull();
    expect(record.host).toBe(os.hostname());
    expect(record.recordedBy).not.toBe('');
  });

  it('writes a baseline that reads back as results plus its record', () => {
    const run = results([suite('size', [exact('size.v8.lambda', 40, 'bytes')])]);
    const record = collectBaselineRecord('sizes after envelope v2', 'bench', dir);
    const file = path.join(dir, 'nested', 'baseline.json');
    writeBaseline(file, makeBaseline([run], record));
    expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true);
    const loaded = readResultsFile(file, 'baseline');
    expect(loaded.results.suites).toEqual(run.suites);
    expect(loaded.record).toEqual({ ...record, runs: 1, ratioRunMedians: {} });
  });
});
