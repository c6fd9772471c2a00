import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { run as recordBaseline } from '../src/bench/baseline-cli.js';
import { run as gate } from '../src/bench/gate-cli.js';
import { exact, noisy, results, suite, timing } from './gate-fixtures.js';

const ID = 'speed.serialize.source.closure3';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'duckqueue-gate-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

function write(name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

/** Runs the gate in-process, capturing what it prints. */
async function runGate(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  // The repository's own duckqueue.config.json must not steer these cases.
  const withConfig = argv.includes('--config')
    ? argv
    : [...argv, '--config', write('no-config.json', {})];
  const code = await gate(withConfig);
  vi.restoreAllMocks();
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const baselineRun = results([
  suite('size', [exact('size.source.lambda', 412, 'bytes')]),
  suite('speed', [
    timing(ID, noisy(2.0, 0.04, 8, 1)),
    timing('speed.serialize.v8.closure3', noisy(1.0, 0.04, 8, 2)),
  ]),
]);

describe('duckqueue gate: exit codes', () => {
  it('exits 0 and prints every metric when nothing regressed', async () => {
    const base = write('base-ok.json', baselineRun);
    const now = write('now-ok.json', results([
      suite('size', [exact('size.source.lambda', 412, 'bytes')]),
      suite('speed', [
        timing(ID, noisy(2.0, 0.04, 8, 11)),
        timing('speed.serialize.v8.closure3', noisy(1.0, 0.04, 8, 12)),
      ]),
    ]));
    const { code, out } = await runGate(['--baseline', base, '--current', now]);
    expect(code).toBe(0);
    expect(out).toMatch(/Regression gate: PASSED/);
    expect(out).toMatch(/\| metric \| baseline \| current \| change \| verdict \|/);
    for (const id of [ID, 'speed.serialize.v8.closure3', 'size.source.lambda']) {
      expect(out).toContain(`\`${id}\``);
    }
  });

  it('exits 1 and names the regressed metric', async () => {
    const base = write('base.json', baselineRun);
    const now = write('now-slow.json', results([
      suite('size', [exact('size.source.lambda', 412, 'bytes')]),
      suite('speed', [
        timing(ID, noisy(2.5, 0.04, 8, 11)),
        timing('speed.serialize.v8.closure3', noisy(1.0, 0.04, 8, 12)),
      ]),
    ]));
    const md = path.join(dir, 'out', 'gate.md');
    const { code, out, err } = await runGate([
      '--baseline', base, '--current', now, '--markdown-out', md,
    ]);
    expect(code).toBe(1);
    expect(out).toMatch(/Regression gate: FAILED — 1 of 3/);
    expect(err).toContain(`${ID} (regressed)`);
    expect(readFileSync(md, 'utf8')).toBe(`${out}`);
  });

  it('names a suite missing from the current run once, not per metric', async () => {
    const base = write('base-many.json', results([
      suite('size', Array.from({ length: 40 }, (_, i) =>
        exact(`size.source.shape${i}`, 100 + i, 'bytes'),
      )),
      suite('speed', [
        timing(ID, noisy(2.0, 0.04, 8, 1)),
        timing('speed.serialize.v8.closure3', noisy(1.0, 0.04, 8, 2)),
      ]),
    ]));
    const now = write('now-speed-only.json', results([
      suite('speed', [
        timing(ID, noisy(2.0, 0.04, 8, 11)),
        timing('speed.serialize.v8.closure3', noisy(1.0, 0.04, 8, 12)),
      ]),
    ]));
    const { code, err } = await runGate(['--baseline', base, '--current', now]);
    expect(code).toBe(1);
    expect(err).toMatch(
      /suites missing from the current results: size \(gate a whole quick run/,
    );
    expect(err).not.toContain('size.source.shape0');
    expect(err.length).toBeLessThan(400);
  });

  it('exits 1 on a size change and prints JSON with --json', async () => {
    const base = write('base.json', baselineRun);
    const now = write('now-size.json', results([
      suite('size', [exact('size.source.lambda', 500, 'bytes')]),
    ]));
    const { code, out } = await runGate([
      '--baseline', base, '--current', now, '--only', 'size.', '--json',
    ]);
    expect(code).toBe(1);
    const report = JSON.parse(out);
    expect(report.passed).toBe(false);
    expect(report.failures.map((r: { id: string; verdict: string }) => [r.id, r.verdict]))
      .toEqual([['size.source.lambda', 'changed']]);
  });

  it('exits 2 when a file is missing, saying how to make it', async () => {
    const base = write('base.json', baselineRun);
    const { code, err } = await runGate([
      '--baseline', base, '--current', path.join(dir, 'nope.json'),
    ]);
    expect(code).toBe(2);
    expect(err).toMatch(/current file .*nope\.json does not exist/);
    expect(err).toMatch(/npm run bench -- --quick/);
  });

  it('exits 2 on unparsable JSON', async () => {
    const bad = write('broken.json', '{"schemaVersion": 1, "suites": [');
    const now = write('now.json', baselineRun);
    const { code, err } = await runGate(['--baseline', bad, '--current', now]);
    expect(code).toBe(2);
    expect(err).toMatch(/baseline file .*broken\.json is not valid JSON/);
    expect(err).toMatch(/bench:baseline/);
  });

  it('exits 2 on a schema version mismatch', async () => {
    const old = write('v0.json', { ...baselineRun, schemaVersion: 0 });
    const now = write('now.json', baselineRun);
    const { code, err } = await runGate(['--baseline', old, '--current', now]);
    expect(code).toBe(2);
    expect(err).toMatch(/schemaVersion 0 but this gate reads version 1/);
  });

  it('exits 2 on a bad value, naming its path', async () => {
    const broken = structuredClone(baselineRun);
    const metric = broken.suites[1]!.metrics[0] as { ratio: { samples: unknown[] } };
    metric.ratio.samples[2] = 'fast';
    const base = write('base.json', baselineRun);
    const now = write('bad-sample.json', broken);
    const { code, err } = await runGate(['--baseline', base, '--current', now]);
    expect(code).toBe(2);
    expect(err).toContain(`suites[1].metrics[0] ('${ID}').ratio.samples[2]`);
  });

  it.each([
    ['gitSha', 12345, 'baseline.gitSha must be a string or null'],
    ['reason', 42, 'baseline.reason must be a string'],
    ['ratioRunMedians', 'oops', 'baseline.ratioRunMedians must map'],
  ])('exits 2 when the baseline record has a bad %s', async (key, value, text) => {
    const record = {
      reason: 'r', recordedBy: 'me', email: null, host: 'h', gitSha: null,
      gitDirty: false, date: '2026-01-01', command: 'c', runs: 1,
      ratioRunMedians: {}, [key]: value,
    };
    const base = write('bad-record.json', { ...baselineRun, baseline: record });
    const now = write('now.json', baselineRun);
    const { code, err } = await runGate(['--baseline', base, '--current', now]);
    expect(code).toBe(2);
    expect(err).toContain(text);
  });

  it('exits 2 on a duplicated metric id', async () => {
    const dup = results([
      suite('size', [exact('size.a', 1)]),
      suite('speed', [exact('size.a', 1)]),
    ]);
    const file = write('dup.json', dup);
    const { code, err } = await runGate(['--baseline', file, '--current', file]);
    expect(code).toBe(2);
    expect(err).toMatch(/repeats metric id 'size\.a' already used at suites\[0\]/);
  });

  it('exits 2 on bad flags and bad config', async () => {
    const base = write('base.json', baselineRun);
    expect((await runGate(['--baseline', base])).code).toBe(2);
    expect((await runGate(['--baseline', base, '--current', base, '--alpha', '2'])).code)
      .toBe(2);
    expect((await runGate(['--bogus'])).code).toBe(2);
    const config = write('cfg.json', { gate: { minEfect: 0.2 } });
    const bad = await runGate(['--baseline', base, '--current', base, '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/gate\.minEfect is not a gate option/);
  });

  it('reads thresholds from a config file, and flags override it', async () => {
    const base = write('base.json', baselineRun);
    const now = write('now-slow2.json', results([
      suite('speed', [timing(ID, noisy(2.5, 0.04, 8, 11))]),
    ]));
    const config = write('lenient.json', { gate: { minEffect: 0.5, only: ['speed.serialize.source'] } });
    const lenient = await runGate(['--baseline', base, '--current', now, '--config', config]);
    expect(lenient.code).toBe(0);
    expect(lenient.out).toMatch(/at least 50\.0% worse/);
    const strict = await runGate([
      '--baseline', base, '--current', now, '--config', config, '--min-effect', '0.1',
    ]);
    expect(strict.code).toBe(1);
  });
});

describe('bench:baseline --from', () => {
  it('records who, where, which commit, when and why, and the gate shows it', async () => {
    const from = write('quick-run.json', baselineRun);
    const out = path.join(dir, 'recorded', 'baseline.json');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const code = await recordBaseline([
      '--from', from, '--out', out, '--reason', 'source backend now minifies',
    ]);
    vi.restoreAllMocks();
    expect(code).toBe(0);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved.suites).toEqual(baselineRun.suites);
    expect(saved.baseline.reason).toBe('source backend now minifies');
    expect(saved.baseline.host).toBe(os.hostname());
    expect(typeof saved.baseline.recordedBy).toBe('string');
    expect(saved.baseline.recordedBy.length).toBeGreaterThan(0);
    expect(saved.baseline.gitSha).toMatch(/^[0-9a-f]{40}$/);
    expect(Date.parse(saved.baseline.date)).not.toBeNaN();

    const { code: gateCode, out: text } = await runGate(['--baseline', out, '--current', from]);
    expect(gateCode).toBe(0);
    expect(text).toContain('"source backend now minifies"');
  });

  it('refuses to record without a reason', async () => {
    const from = write('quick-run.json', baselineRun);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await recordBaseline(['--from', from, '--out', path.join(dir, 'x.json')])).toBe(2);
    expect(await recordBaseline(['--from', from, '--reason', '  '])).toBe(2);
  });

  it('refuses a full run: the gate compares quick runs', async () => {
    const from = write('full-run.json', { ...baselineRun, mode: 'full' });
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const code = await recordBaseline([
      '--from', from, '--out', path.join(dir, 'y.json'), '--reason', 'r',
    ]);
    expect(code).toBe(2);
  });
});

describe('npx duckqueue gate (real process)', () => {
  it('dispatches through src/cli.ts and exits 2 on a missing baseline', () => {
    const root = path.resolve(import.meta.dirname, '..');
    const now = write('now.json', baselineRun);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'gate',
        '--baseline', path.join(dir, 'missing-baseline.json'), '--current', now],
      { cwd: root, encoding: 'utf8' },
    );
    expect(child.status).toBe(2);
    expect(child.stderr).toMatch(/baseline file .*missing-baseline\.json does not exist/);
  });
});
