// The committed baseline the regression gate compares against: a quick
// run's results.json plus a record of who recorded it, where, from which
// commit, when and why. Changing the baseline is how a deliberate change
// in size or speed is accepted, so that decision leaves a trace.

import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Results } from './results.js';

export interface BaselineRecord {
  /** Why the baseline was (re-)recorded, in the recorder's words. */
  reason: string;
  /** git user.name, else $USER, else the OS account name. */
  recordedBy: string;
  /** git user.email when configured. */
  email: string | null;
  host: string;
  gitSha: string | null;
  /** True when the tree had uncommitted changes at recording time. */
  gitDirty: boolean | null;
  /** ISO 8601 time of recording. */
  date: string;
  /** The command that produced the measured run. */
  command: string;
}

export type Baseline = Results & { baseline: BaselineRecord };

export class BaselineReasonError extends Error {
  override readonly name = 'BaselineReasonError';
  constructor() {
    super(
      'a baseline needs a reason: pass --reason "why the numbers are ' +
        'expected to change" (it is stored in reports/baseline.json)',
    );
  }
}

/** Gathers who/where/when for a baseline recorded from `cwd`. */
export function collectBaselineRecord(
  reason: string,
  command: string,
  cwd = process.cwd(),
): BaselineRecord {
  if (reason.trim() === '') throw new BaselineReasonError();
  const git = (args: string[]): string | null => {
    try {
      const out = execFileSync('git', args, {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
      return out === '' ? null : out;
    } catch {
      return null;
    }
  };
  const sha = git(['rev-parse', 'HEAD']);
  const status = sha === null ? null : git(['status', '--porcelain']);
  return {
    reason: reason.trim(),
    recordedBy:
      git(['config', 'user.name']) ?? process.env.USER ?? os.userInfo().username,
    email: git(['config', 'user.email']),
    host: os.hostname(),
    gitSha: sha,
    gitDirty: sha === null ? null : status !== null,
    date: new Date().toISOString(),
    command,
  };
}

export function makeBaseline(results: Results, record: BaselineRecord): Baseline {
  return { ...results, baseline: record };
}

/** Writes atomically so a crash never leaves half a baseline behind. */
export function writeBaseline(file: string, baseline: Baseline): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(baseline, null, 2)}\n`);
  renameSync(temp, file);
}
