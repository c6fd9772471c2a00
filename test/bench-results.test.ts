// Real quick runs of the deterministic suites: results.json validates
// against its JSON Schema, metric ids are unique, and every exact metric
// (payload sizes, capability cells, refusal reasons) is identical across
// two runs. The committed full-run results.json must validate too.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExactMetric, Results } from '../src/bench/results.js';

const root = path.resolve(import.meta.dirname, '..');
const schema = JSON.parse(
  readFileSync(path.join(root, 'src', 'bench', 'results.schema.json'), 'utf8'),
);
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const DETERMINISTIC = ['size', 'capability'];

function quickRun(out: string): { status: number | null; stderr: string } {
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'src', 'cli.ts'),
      'bench',
      '--quick',
      '--suite',
      DETERMINISTIC.join(','),
      '--out',
      out,
    ],
    { cwd: root, encoding: 'utf8', timeout: 240_000 },
  );
  return { status: run.status, stderr: run.stderr };
}

function read(out: string): Results {
  return JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
}

function exactMetrics(results: Results): Map<string, ExactMetric['value']> {
  const found = new Map<string, ExactMetric['value']>();
  for (const suite of results.suites) {
    for (const metric of suite.metrics) {
      if (metric.kind === 'exact') found.set(metric.id, metric.value);
    }
  }
  return found;
}

function schemaErrors(data: unknown): string {
  validate(data);
  return JSON.stringify(validate.errors?.slice(0, 5) ?? [], null, 2);
}

describe('quick runs of the deterministic suites', () => {
  const outs: string[] = [];
  const runs: Array<{ status: number | null; stderr: string }> = [];

  beforeAll(() => {
    for (let i = 0; i < 2; i++) {
      const out = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-results-'));
      outs.push(out);
      runs.push(quickRun(out));
    }
    // Two real runs of the matrix and the size suite, one after the other.
  }, 500_000);
  afterAll(() => {
    for (const out of outs) rmSync(out, { recursive: true, force: true });
  });

  it('succeed and write results that validate against the schema', () => {
    for (const [i, run] of runs.entries()) {
      expect(run.stderr, `run ${i} failed`).not.toMatch(/suite\(s\) failed/);
      expect(run.status).toBe(0);
      const results = read(outs[i]!);
      expect(validate(results), schemaErrors(results)).toBe(true);
      expect(results.suites.map((s) => s.suite)).toEqual(DETERMINISTIC);
      expect(results.suites.every((s) => s.status === 'ok')).toBe(true);
    }
  });

  it('give every metric a unique id', () => {
    const ids = read(outs[0]!).suites.flatMap((s) => s.metrics.map((m) => m.id));
    expect(ids.length).toBeGreaterThan(50);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('produce identical sizes and capability cells both times', () => {
    const first = exactMetrics(read(outs[0]!));
    const second = exactMetrics(read(outs[1]!));
    expect([...first.keys()].some((id) => id.startsWith('size.'))).toBe(true);
    expect([...first.keys()].some((id) => id.startsWith('capability.'))).toBe(
      true,
    );
    expect(Object.fromEntries(second)).toEqual(Object.fromEntries(first));
  });

  it('reject a results file that breaks the schema', () => {
    const results = read(outs[0]!);
    const broken = structuredClone(results) as unknown as {
      suites: Array<{ metrics: Array<Record<string, unknown>> }>;
    };
    broken.suites[0]!.metrics[0]!['kind'] = 'guess';
    expect(validate(broken)).toBe(false);
    expect(validate({ ...results, schemaVersion: 99 })).toBe(false);
  });
});

describe('committed reports', () => {
  const committed = path.join(root, 'reports', 'results.json');
  it.skipIf(!existsSync(committed))(
    'reports/results.json from the full run validates against the schema',
    () => {
      const results = JSON.parse(readFileSync(committed, 'utf8'));
      expect(validate(results), schemaErrors(results)).toBe(true);
      expect(results.mode).toBe('full');
    },
  );
});
