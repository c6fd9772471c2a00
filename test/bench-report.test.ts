// The markdown renderers on small hand-made results: what a reader sees
// when suites fail, are skipped or are missing, and how charts are written.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Results, SuiteResult } from '../src/bench/results.js';
import { summarize } from '../src/bench/stats.js';
import type { PythonReferenceData } from '../src/bench/suite-data.js';
import { renderDecision } from '../src/report/decision.js';
import { barChart, formatBytes, formatNs } from '../src/report/format.js';
import { headline } from '../src/report/headline.js';
import { renderIndex, renderSuitePage } from '../src/report/render.js';

function results(suites: SuiteResult[]): Results {
  return {
    schemaVersion: 1,
    mode: 'quick',
    environment: {
      node: 'v20.20.2',
      v8: '11.3',
      cpuModel: 'Test CPU',
      cores: 2,
      memoryBytes: 2 ** 34,
      os: 'Linux test',
      gitSha: 'a'.repeat(40),
      gitDirty: false,
      date: '2026-01-02T03:04:05.000Z',
      packages: { tinybench: '6.2.5' },
    },
    suites,
    durationMs: 1234,
  };
}

const pythonData: PythonReferenceData = {
  versions: { python: '3.11.7', cloudpickle: '2.1.0' },
  number: 100,
  repeat: 3,
  pickleProtocol: 5,
  rows: [
    { library: 'pickle', shape: 'moduleFunction', status: 'works', bytes: 40 },
    { library: 'cloudpickle', shape: 'lambda', status: 'works', bytes: 511 },
    {
      library: 'pickle',
      shape: 'lambda',
      status: 'refused',
      error: 'PicklingError',
      reason: "Can't pickle <lambda>",
    },
  ],
};

const python: SuiteResult = {
  suite: 'python-reference',
  title: 'Python reference',
  status: 'ok',
  durationMs: 2000,
  data: pythonData,
  metrics: [
    {
      kind: 'timing',
      id: 'python.dumps.pickle.moduleFunction',
      unit: 'ns',
      better: 'lower',
      samples: [600, 700, 800],
      stats: summarize([600, 700, 800]),
    },
    {
      kind: 'timing',
      id: 'python.dumps.cloudpickle.lambda',
      unit: 'ns',
      better: 'lower',
      samples: [12_000, 14_000, 16_000],
      stats: summarize([12_000, 14_000, 16_000]),
      ratio: {
        to: 'python.dumps.pickle.moduleFunction',
        samples: [20, 20, 20],
        stats: summarize([20, 20, 20]),
      },
    },
  ],
};

const failed: SuiteResult = {
  suite: 'queue',
  title: 'Queue throughput',
  status: 'failed',
  reason: 'sqlite/v8: 10 of 20 jobs done; the queue lost jobs\nstack…',
  durationMs: 10,
  metrics: [],
};

const queueOk: SuiteResult = {
  suite: 'queue',
  title: 'Queue throughput',
  status: 'ok',
  durationMs: 10,
  metrics: [],
  data: {
    rows: [],
    rawMetricId: 'queue.raw.jobsPerSec',
    rawClaimBatch: 32,
    jobsPerRound: 1000,
    rounds: 4,
    targets: { jobsPerSecond: 10_000, fractionOfRaw: 0.5 },
    peers: [],
  },
};

const dagSuite: SuiteResult = {
  suite: 'dag',
  title: 'DAG scheduling',
  status: 'ok',
  durationMs: 10,
  metrics: [],
  data: { nodes: 1000, overheadMicrosPerNode: { fanout: 111.44, chain: 498.8 } },
};

function rate(id: string, value: number, ratio?: number) {
  return {
    kind: 'timing' as const,
    id,
    unit: 'jobs/s' as const,
    better: 'higher' as const,
    samples: [value],
    stats: summarize([value]),
    ...(ratio === undefined
      ? {}
      : { ratio: { to: 'x', samples: [ratio], stats: summarize([ratio]) } }),
  };
}

describe('headlines', () => {
  it('give each suite its first figure, not a metric count', () => {
    const ok = { status: 'ok' as const, durationMs: 1 };
    expect(headline({ ...ok, suite: 'dag', metrics: [], data: dagSuite.data })).toBe(
      'fanout +111 µs/node, chain +499 µs/node',
    );
    expect(
      headline({
        ...ok,
        suite: 'storage',
        metrics: [rate('storage.sqlite.enqueue.batch', 128_000)],
      }),
    ).toMatch(/^SQLite batch enqueue 128,000\/s$/);
    expect(
      headline({
        ...ok,
        suite: 'isolation',
        metrics: [rate('isolation.thread.jobsPerSec', 4000, 0.29)],
      }),
    ).toBe('thread 29% of in-process jobs/s');
  });
});

describe('report pages', () => {
  it('the queue page shows the per-node DAG cost when the dag suite ran', () => {
    const withDag = renderSuitePage(queueOk, results([queueOk, dagSuite]));
    expect(withDag).toContain('## Jobs as DAG nodes');
    expect(withDag).toMatch(/\| fanout \| 111\.4 µs \|/);
    expect(withDag).toMatch(/\| chain \| 498\.8 µs \|/);
    const alone = renderSuitePage(queueOk, results([queueOk]));
    expect(alone).not.toContain('DAG nodes');
  });

  it('index links each suite, shows failures and missing suites', () => {
    const index = renderIndex(results([python, failed]));
    expect(index).toContain('[Python reference](python-reference.md) | ok');
    expect(index).toContain(
      '[Queue throughput](queue.md) | failed: sqlite/v8: 10 of 20 jobs done',
    );
    // suites/size.ts exists, so its absence is this run's choice.
    expect(index).toMatch(
      /- Payload size \(.*\): not part of this run; `npm run bench -- --suite size`/,
    );
    expect(index).not.toMatch(/- Queue throughput \(/);
  });

  it('index says "not available yet" for an expected suite with no file', () => {
    const saved = process.env['DUCKQUEUE_BENCH_SUITES_DIR'];
    process.env['DUCKQUEUE_BENCH_SUITES_DIR'] = path.join(
      import.meta.dirname,
      'bench-fixtures',
      'suites',
    );
    try {
      const index = renderIndex(results([python]));
      expect(index).toMatch(/- Security \(.*\): not available yet\./);
    } finally {
      if (saved === undefined) delete process.env['DUCKQUEUE_BENCH_SUITES_DIR'];
      else process.env['DUCKQUEUE_BENCH_SUITES_DIR'] = saved;
    }
  });

  it('a failed suite page shows the reason and no numbers', () => {
    const page = renderSuitePage(failed, results([failed]));
    expect(page).toContain('**This suite failed**');
    expect(page).toContain('the queue lost jobs');
    expect(page).not.toContain('jobs/s (spread)');
  });

  it('the python page sets fresh figures beside the memo with spread', () => {
    const page = renderSuitePage(python, results([python]));
    expect(page).toContain('| pickle, module function | 37 B | 40 B |');
    expect(page).toContain('| cloudpickle, lambda | 557 B | 511 B |');
    expect(page).toContain('20.0× (±0.0%, n=3)');
    expect(page).toContain("pickle · lambda: PicklingError: Can't pickle");
  });

  it('DECISION.md names the suites it could not use', () => {
    const decision = renderDecision(results([python, failed]));
    expect(decision).toContain('## Suites missing from this decision');
    expect(decision).toContain('- size: not run');
    expect(decision).toContain('- queue: failed: sqlite/v8: 10 of 20 jobs done');
    expect(decision).toContain('| by reference, bytes | 37 B (pickle) | 40 B |');
    expect(decision).toContain('size suite did not run');
  });
});

describe('formatting', () => {
  it('writes a mermaid xychart that GitHub can parse', () => {
    const chart = barChart('time "per" [call]', 'µs', [
      { label: 'a"b', value: 1.23456 },
      { label: 'skipped', value: Number.NaN },
      { label: 'c', value: 10 },
    ]);
    expect(chart.split('\n')).toEqual([
      '```mermaid',
      'xychart-beta',
      '  title "time per call"',
      '  x-axis ["ab", "c"]',
      '  y-axis "µs" 0 --> 11',
      '  bar [1.23, 10]',
      '```',
    ]);
    expect(barChart('empty', 'x', [])).toBe('');
  });

  it('picks units a reader expects', () => {
    expect(formatNs(950)).toBe('950 ns');
    expect(formatNs(1_234)).toBe('1.23 µs');
    expect(formatNs(31_300)).toBe('31.3 µs');
    expect(formatNs(2_400_000)).toBe('2.40 ms');
    expect(formatBytes(557)).toBe('557 B');
    expect(formatBytes(160_384)).toBe('156.6 KiB');
  });
});
