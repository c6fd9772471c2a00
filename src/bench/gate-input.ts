// Reads a results.json (or a baseline, which is a results.json with a
// `baseline` record) and checks the parts the gate relies on, naming the
// path of the first bad value so a broken file is fixed, not guessed at.

import { readFileSync } from 'node:fs';

import type { BaselineRecord } from './baseline.js';
import { GateInputError } from './gate-errors.js';
import { RESULTS_SCHEMA_VERSION, type Results } from './results.js';

export type ResultsRole = 'baseline' | 'current';

export interface LoadedResults {
  file: string;
  results: Results;
  /** Who recorded it and why; present in baselines only. */
  record?: BaselineRecord;
}

const HOW_TO_MAKE: Record<ResultsRole, string> = {
  baseline: 'record one with npm run bench:baseline -- --reason "..."',
  current: 'produce one with npm run bench -- --quick',
};

export function readResultsFile(file: string, role: ResultsRole): LoadedResults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new GateInputError(
        'not-found',
        `${role} file ${file} does not exist; ${HOW_TO_MAKE[role]}`,
      );
    }
    throw new GateInputError(
      'unreadable',
      `${role} file ${file} cannot be read (${code ?? String(err)})`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new GateInputError(
      'not-json',
      `${role} file ${file} is not valid JSON (${(err as Error).message}); ` +
        `${HOW_TO_MAKE[role]}`,
    );
  }
  const results = checkResults(parsed, file, role);
  const record = (parsed as { baseline?: unknown }).baseline;
  if (record === undefined) return { file, results };
  checkRecord(record, file, role);
  return { file, results, record };
}

/** The who/what/when of a baseline, as the gate prints it. */
function checkRecord(
  value: unknown,
  file: string,
  role: ResultsRole,
): asserts value is BaselineRecord {
  const bad = (path: string, rule: string): GateInputError =>
    new GateInputError(
      'bad-shape',
      `${role} file ${file}: baseline.${path} ${rule}; ${HOW_TO_MAKE[role]}`,
    );
  if (!isObject(value)) throw bad('record', 'must be an object');
  for (const key of ['reason', 'recordedBy', 'host', 'date', 'command']) {
    if (typeof value[key] !== 'string') throw bad(key, 'must be a string');
  }
  for (const key of ['email', 'gitSha']) {
    const v = value[key];
    if (v !== null && v !== undefined && typeof v !== 'string') {
      throw bad(key, 'must be a string or null');
    }
  }
  const medians = value['ratioRunMedians'];
  if (medians === undefined) return;
  const numbers = (v: unknown) =>
    Array.isArray(v) && v.every((n) => typeof n === 'number');
  if (!isObject(medians) || !Object.values(medians).every(numbers)) {
    throw bad('ratioRunMedians', 'must map metric ids to arrays of numbers');
  }
}

/** Validates the shape the gate reads; returns the value typed. */
export function checkResults(
  value: unknown,
  file: string,
  role: ResultsRole,
): Results {
  const bad = (path: string, rule: string): GateInputError =>
    new GateInputError(
      'bad-shape',
      `${role} file ${file}: ${path} ${rule}; ${HOW_TO_MAKE[role]}`,
    );
  if (!isObject(value)) throw bad('the top level', 'must be an object');
  if (value.schemaVersion !== RESULTS_SCHEMA_VERSION) {
    throw new GateInputError(
      'schema-version',
      `${role} file ${file} has schemaVersion ` +
        `${JSON.stringify(value.schemaVersion)} but this gate reads ` +
        `version ${RESULTS_SCHEMA_VERSION}; ${HOW_TO_MAKE[role]} with the ` +
        'current code',
    );
  }
  if (!Array.isArray(value.suites)) throw bad('suites', 'must be a list');
  const seen = new Map<string, string>();
  value.suites.forEach((suite: unknown, i: number) => {
    const at = `suites[${i}]`;
    if (!isObject(suite)) throw bad(at, 'must be an object');
    if (typeof suite.suite !== 'string') throw bad(`${at}.suite`, 'must be a name');
    if (!['ok', 'failed', 'skipped'].includes(suite.status as string)) {
      throw bad(`${at}.status`, "must be 'ok', 'failed' or 'skipped'");
    }
    if (!Array.isArray(suite.metrics)) throw bad(`${at}.metrics`, 'must be a list');
    suite.metrics.forEach((metric: unknown, j: number) => {
      const where = `${at}.metrics[${j}]`;
      checkMetric(metric, where, bad);
      const id = (metric as { id: string }).id;
      const first = seen.get(id);
      if (first) {
        throw bad(where, `repeats metric id '${id}' already used at ${first}`);
      }
      seen.set(id, where);
    });
  });
  return value as unknown as Results;
}

function checkMetric(
  metric: unknown,
  at: string,
  bad: (path: string, rule: string) => GateInputError,
): void {
  if (!isObject(metric)) throw bad(at, 'must be an object');
  if (typeof metric.id !== 'string' || metric.id === '') {
    throw bad(`${at}.id`, 'must be a non-empty string');
  }
  const here = `${at} ('${metric.id}')`;
  if (metric.kind === 'exact') {
    const v = metric.value;
    const ok = v === null || ['string', 'number', 'boolean'].includes(typeof v);
    if (!ok) throw bad(`${here}.value`, 'must be a string, number, boolean or null');
    return;
  }
  if (metric.kind !== 'timing') {
    throw bad(`${here}.kind`, "must be 'exact' or 'timing'");
  }
  if (metric.better !== 'lower' && metric.better !== 'higher') {
    throw bad(`${here}.better`, "must be 'lower' or 'higher'");
  }
  checkSamples(metric.samples, `${here}.samples`, bad, false);
  if (!isObject(metric.stats) || typeof metric.stats.median !== 'number') {
    throw bad(`${here}.stats.median`, 'must be a number');
  }
  if (metric.ratio === undefined) return;
  if (!isObject(metric.ratio)) throw bad(`${here}.ratio`, 'must be an object');
  if (typeof metric.ratio.to !== 'string') {
    throw bad(`${here}.ratio.to`, 'must name the reference metric');
  }
  checkSamples(metric.ratio.samples, `${here}.ratio.samples`, bad, true);
}

function checkSamples(
  samples: unknown,
  at: string,
  bad: (path: string, rule: string) => GateInputError,
  isRatio: boolean,
): void {
  if (!Array.isArray(samples)) throw bad(at, 'must be a list of numbers');
  samples.forEach((s: unknown, k: number) => {
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      throw bad(`${at}[${k}]`, `is ${JSON.stringify(s)}, not a finite number`);
    }
    if (isRatio && s <= 0) {
      throw bad(`${at}[${k}]`, `is ${s}; a ratio of two times must be > 0`);
    }
  });
  if (isRatio && samples.length === 0) {
    throw bad(at, 'is empty; a ratio needs at least one round');
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
