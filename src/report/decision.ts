// DECISION.md: which serializer for which situation, argued from the
// numbers of this run only. Every figure is looked up in results.json;
// when a suite did not run, its column says so instead of guessing.

import type { Results, SuiteResult, TimingMetric } from '../bench/results.js';
import type {
  CapabilityData,
  PythonReferenceData,
  QueueData,
  SizeData,
  SpeedData,
} from '../bench/suite-data.js';
import {
  formatBytes,
  formatNs,
  formatPercent,
  formatRate,
  formatRatio,
  spread,
  table,
} from './format.js';
import { findSuite, okSuite, timingOf } from './lookup.js';
import { MEMO_FIGURES } from './memo.js';

const BACKENDS = [
  { id: 'v8', label: 'v8 (by reference, pickle’s role)' },
  { id: 'json', label: 'json (registered tasks)' },
  { id: 'source', label: 'source (by value, cloudpickle’s role)' },
  { id: 'auto', label: 'auto (v8, else source)' },
  { id: 'pulumi', label: 'Pulumi serializeFunction (peer)' },
  { id: 'serialize-javascript', label: 'serialize-javascript (peer)' },
];

/** What loading a payload can do, by design of each backend. */
const LOAD_RISK: Record<string, string> = {
  v8: 'imports a module the payload names and calls one export; no code in the payload',
  json: 'calls a task registered in the worker; never evaluates code',
  source: 'evaluates function text from the payload: a payload is code',
  auto: 'as v8, or as source when it fell back',
  pulumi: 'evaluates module text from the payload',
  'serialize-javascript': 'eval of the payload',
};

interface Context {
  results: Results;
  size?: SuiteResult;
  speed?: SuiteResult;
  capability?: SuiteResult;
  queue?: SuiteResult;
  python?: SuiteResult;
}

function timing(suite: SuiteResult | undefined, id: string) {
  return suite ? timingOf(suite.metrics, id) : undefined;
}

function withSpread(m: TimingMetric | undefined): string {
  return m ? `${formatNs(m.stats.median)} (${spread(m.stats)})` : '—';
}

function ratioWithSpread(m: TimingMetric | undefined): string {
  return m?.ratio
    ? `${formatRatio(m.ratio.stats.median)} (${spread(m.ratio.stats)})`
    : '—';
}

function sizeOf(ctx: Context, backend: string, shape: string) {
  const data = ctx.size?.data as SizeData | undefined;
  const row = data?.functionRows.find(
    (r) => r.backend === backend && r.shape === shape,
  );
  return row?.status === 'works' ? row.bytes : undefined;
}

function serializeTiming(ctx: Context, backend: string, shape: string) {
  return timing(ctx.speed, `speed.serialize.${backend}.${shape}`);
}

function capabilityCounts(ctx: Context, backend: string): string {
  const data = ctx.capability?.data as CapabilityData | undefined;
  if (!data) return 'capability suite did not run';
  const cells = data.cells.filter((c) => c.backend === backend);
  if (!cells.length) return '—';
  const works = cells.filter((c) => c.outcome === 'works').length;
  const wrong = cells.filter((c) => c.outcome === 'wrong').length;
  return `${works}/${cells.length} corpus shapes` + (wrong ? `, ${wrong} wrong` : '');
}

function speedShapes(ctx: Context, backend: string): string {
  const data = ctx.speed?.data as SpeedData | undefined;
  if (!data) return '';
  const rows = data.functionRows.filter((r) => r.backend === backend);
  const works = rows.filter((r) => r.status === 'works').length;
  return rows.length ? `${works}/${rows.length} bench shapes` : '';
}

function dependencies(ctx: Context, backend: string): string {
  const data = ctx.speed?.data as SpeedData | undefined;
  const dep = data?.dependencies?.find((d) => d.backend === backend);
  if (!dep) return '—';
  return `${dep.transitive} package${dep.transitive === 1 ? '' : 's'} (${dep.direct.join(', ')})`;
}

function securityCell(ctx: Context, backend: string): string {
  const security = findSuite(ctx.results, 'security');
  const note =
    security?.status === 'ok'
      ? ' — attacks measured in [security.md](security.md)'
      : security
        ? ` — security suite ${security.status} in this run`
        : ' — security suite not in this run';
  return `${LOAD_RISK[backend] ?? '—'}${note}`;
}

function tradeOffTable(ctx: Context): string {
  return table(
    [
      'backend',
      'flexibility',
      'serialize: module fn / lambda / closure3',
      'size: module fn / lambda',
      'security (what a payload can do on load)',
      'dependencies',
    ],
    BACKENDS.map((b) => {
      const sizes = ['moduleFunction', 'lambda'].map((s) => {
        const n = sizeOf(ctx, b.id, s);
        return n === undefined ? 'refused' : formatBytes(n);
      });
      const speedRows = (ctx.speed?.data as SpeedData | undefined)?.functionRows;
      const times = ['moduleFunction', 'lambda', 'closure3'].map((s) => {
        const m = serializeTiming(ctx, b.id, s);
        if (m) return formatNs(m.stats.median);
        const row = speedRows?.find((r) => r.backend === b.id && r.shape === s);
        if (row?.status === 'works') return 'not timed';
        return row?.status ?? '—';
      });
      const flex = [capabilityCounts(ctx, b.id), speedShapes(ctx, b.id)]
        .filter(Boolean)
        .join('; ');
      return [
        b.label,
        flex,
        ctx.speed ? times.join(' / ') : 'speed suite did not run',
        ctx.size ? sizes.join(' / ') : 'size suite did not run',
        securityCell(ctx, b.id),
        dependencies(ctx, b.id),
      ];
    }),
  );
}

function memoTable(ctx: Context): string {
  const python = ctx.python?.data as PythonReferenceData | undefined;
  const pyBytes = (lib: string, shape: string) =>
    python?.rows.find((r) => r.library === lib && r.shape === shape)?.bytes;
  const pyTime = (lib: string, shape: string) =>
    timing(ctx.python, `python.dumps.${lib}.${shape}`);
  const byRef = sizeOf(ctx, 'v8', 'moduleFunction');
  const byValue = sizeOf(ctx, 'source', 'lambda');
  const pickleB = pyBytes('pickle', 'moduleFunction');
  const cloudB = pyBytes('cloudpickle', 'lambda');
  const bytes = (n: number | undefined) => (n === undefined ? '—' : `${n} B`);
  const factor = (a?: number, b?: number) =>
    a !== undefined && b !== undefined ? formatRatio(b / a) : '—';
  const ourRef = serializeTiming(ctx, 'v8', 'moduleFunction');
  const ourValue = serializeTiming(ctx, 'source', 'lambda');
  const cloudTime = pyTime('cloudpickle', 'lambda');
  return table(
    ['figure', 'design memo (Python)', 'Python, this run', 'duckqueue, this run'],
    [
      [
        'by reference, bytes',
        `${MEMO_FIGURES.pickleBytes} B (pickle)`,
        bytes(pickleB),
        `${bytes(byRef)} (v8)`,
      ],
      [
        'by value (a lambda), bytes',
        `${MEMO_FIGURES.cloudpickleBytes} B (cloudpickle)`,
        bytes(cloudB),
        `${bytes(byValue)} (source)`,
      ],
      [
        'by value / by reference, bytes',
        formatRatio(MEMO_FIGURES.sizeFactor),
        factor(pickleB, cloudB),
        factor(byRef, byValue),
      ],
      [
        'by reference, time',
        `${MEMO_FIGURES.pickleSeconds} s`,
        withSpread(pyTime('pickle', 'moduleFunction')),
        withSpread(ourRef),
      ],
      [
        'by value (a lambda), time',
        `${MEMO_FIGURES.cloudpickleSeconds} s`,
        withSpread(cloudTime),
        withSpread(ourValue),
      ],
      [
        'by value / by reference, time (same-run ratio)',
        formatRatio(MEMO_FIGURES.timeFactor),
        ratioWithSpread(cloudTime),
        ratioWithSpread(ourValue),
      ],
    ],
  );
}

interface DataTotals {
  best: { label: string; total: number };
  rows: Array<{ label: string; codec: string; total: number }>;
  v8?: number;
  all: string;
}

/** Encode + decode medians per format on one payload, fastest first. */
function dataTotals(ctx: Context, payload: string): DataTotals | undefined {
  const data = ctx.speed?.data as SpeedData | undefined;
  if (!data) return undefined;
  const rows = data.dataRows
    .filter((r) => r.payload === payload && r.encodeId && r.decodeId)
    .map((r) => ({
      label: r.codecLabel,
      codec: r.codec,
      total:
        (timing(ctx.speed, r.encodeId!)?.stats.median ?? NaN) +
        (timing(ctx.speed, r.decodeId!)?.stats.median ?? NaN),
    }))
    .filter((r) => Number.isFinite(r.total))
    .sort((a, b) => a.total - b.total);
  if (!rows.length) return undefined;
  const totals: DataTotals = {
    best: rows[0]!,
    rows,
    all: rows.map((r) => `${r.label} ${formatNs(r.total)}`).join(', '),
  };
  const v8 = rows.find((r) => r.codec === 'v8')?.total;
  if (v8 !== undefined) totals.v8 = v8;
  return totals;
}

function argumentsAdvice(ctx: Context): string | undefined {
  const small = dataTotals(ctx, 'push');
  const large = dataTotals(ctx, 'mimeDb');
  if (!small && !large) return undefined;
  const versus = (t: DataTotals | undefined, what: string): string => {
    if (!t || t.v8 === undefined) return '';
    const factor = t.v8 / t.best.total;
    return factor <= 1.0001
      ? `node:v8 is the fastest round trip on ${what} (${formatNs(t.v8)}; ${t.all})`
      : `node:v8 takes ${formatRatio(factor)} the time of the fastest, ` +
          `${t.best.label}, on ${what} (${t.all})`;
  };
  // superjson and devalue also keep rich types: say how they compare.
  const richPeers = ['superjson', 'devalue'].filter((codec) =>
    [small, large].every((t) => {
      const theirs = t?.rows.find((r) => r.codec === codec)?.total;
      return t?.v8 !== undefined && theirs !== undefined && theirs > t.v8;
    }),
  );
  return (
    '7. **Arguments: `node:v8`**: built into Node, it keeps Date, Map, ' +
    'Set, BigInt, typed arrays and cycles' +
    (richPeers.length
      ? ` (${richPeers.join(' and ')} keep${richPeers.length === 1 ? 's' : ''} ` +
        'most of these too, and were slower on both payloads)'
      : '') +
    '; plain JSON when the payload must be read outside JavaScript. ' +
    [versus(small, 'a webhook event'), versus(large, 'the 160 KB mime-db document')]
      .filter(Boolean)
      .join('; ') +
    '.'
  );
}

// Whoever writes the database chooses what runs; what a key costs.
function signingAdvice(ctx: Context): string | undefined {
  const security = findSuite(ctx.results, 'security');
  if (security?.status !== 'ok') return undefined;
  const perJob = ['json', 'v8', 'source'].flatMap((backend) => {
    const m = timing(security, `security.queued.${backend}.signed`);
    return m?.ratio ? [{ backend, ratio: m.ratio.stats }] : [];
  });
  if (perJob.length === 0) return undefined;
  const worst = Math.max(...perJob.map((r) => r.ratio.median));
  return (
    '5. **Whenever anyone but your producers can write the queue ' +
    'database: sign payloads** (`signingKey`, plus `strict` and ' +
    '`allowModules`; see [security.md](security.md)). A signed job ' +
    'through the SQLite queue takes ' +
    perJob
      .map((r) => `${formatRatio(r.ratio.median)} (${spread(r.ratio)}) ${r.backend}`)
      .join(', ') +
    ' the time of an unsigned one with a 1 KB argument ' +
    `(target ≤ 1.10×: ${worst <= 1.1 ? 'met' : 'missed'}).`
  );
}

function answer(ctx: Context): string[] {
  const lines: string[] = [];
  const v8Bytes = sizeOf(ctx, 'v8', 'moduleFunction');
  const v8Time = serializeTiming(ctx, 'v8', 'moduleFunction');
  const queue = ctx.queue?.data as QueueData | undefined;
  const queueV8 = timing(ctx.queue, 'queue.sqlite.v8.jobsPerSec');
  lines.push(
    '1. **A function exported from a module, with the same code deployed ' +
      'where workers run (the common case): `v8`.** It stores module + ' +
      `export name: ${v8Bytes === undefined ? '—' : `${v8Bytes} B`} for a ` +
      `module function, serialized in ${withSpread(v8Time)}` +
      (queueV8
        ? `; the SQLite queue runs ${formatRate(queueV8.stats.median)} ` +
          `(${spread(queueV8.stats)}) end to end with it, ` +
          `${queueV8.ratio ? formatPercent(queueV8.ratio.stats.median) : '—'} ` +
          'of raw SQLite in the same rounds' +
          (queue
            ? ` (targets ≥ ${formatRate(queue.targets.jobsPerSecond)}: ` +
              `${queueV8.stats.median >= queue.targets.jobsPerSecond ? 'met' : 'missed'}` +
              `; ≥ ${formatPercent(queue.targets.fractionOfRaw)} of raw: ` +
              `${(queueV8.ratio?.stats.median ?? 0) >= queue.targets.fractionOfRaw ? 'met' : 'missed'})`
            : '') +
          '.'
        : '.'),
  );
  const lambdaBytes = sizeOf(ctx, 'source', 'lambda');
  const closure = serializeTiming(ctx, 'source', 'closure3');
  const lambdaTime = serializeTiming(ctx, 'source', 'lambda');
  lines.push(
    '2. **Lambdas, closures, functions typed at a REPL: `source`** (or ' +
      '`auto`, below). It ships the function text and a snapshot of what ' +
      `it captures: ${lambdaBytes === undefined ? '—' : `${lambdaBytes} B`} ` +
      `for a closure-free arrow (${
        v8Bytes !== undefined && lambdaBytes !== undefined
          ? `${formatRatio(lambdaBytes / v8Bytes)} v8’s module function; ` +
            `cloudpickle is ${formatRatio(MEMO_FIGURES.sizeFactor)} pickle`
          : 'no comparison'
      }), ${withSpread(lambdaTime)} to serialize it ` +
      `(${ratioWithSpread(lambdaTime)} of v8 by reference in the same ` +
      `rounds), and ${withSpread(closure)} for a closure over three values ` +
      `with an import (target ≤ 50 µs: ${
        closure ? (closure.stats.median <= 50_000 ? 'met' : 'missed') : 'not measured'
      }). Loading runs code from the payload: only for producers you trust.`,
  );
  const autoModule = serializeTiming(ctx, 'auto', 'moduleFunction');
  lines.push(
    '3. **Default: `auto`.** v8 when the function can be found by ' +
      'reference, source otherwise, with the reason recorded in the ' +
      `payload. On a module function it costs ${withSpread(autoModule)} ` +
      `(${ratioWithSpread(autoModule)} of v8 alone); it carries ` +
      `${capabilityCounts(ctx, 'auto')}.`,
  );
  const jsonModule = serializeTiming(ctx, 'json', 'moduleFunction');
  lines.push(
    '4. **Producers you do not trust, or many teams on one queue: `json`** ' +
      'with registered tasks. Payloads hold a task name and data, never ' +
      `code; ${withSpread(jsonModule)} per call, ` +
      `${sizeOf(ctx, 'json', 'moduleFunction') ?? '—'} B for a module ` +
      'function. Flexibility comes from configuration-based tasks ' +
      '(one registered processor dispatching on a config argument).',
  );
  const signing = signingAdvice(ctx);
  if (signing) lines.push(signing);
  const pulumiLambda = serializeTiming(ctx, 'pulumi', 'lambda');
  const speed = ctx.speed?.data as SpeedData | undefined;
  const pulumiCrypto = speed?.functionRows.find(
    (r) => r.backend === 'pulumi' && r.shape === 'closure3',
  );
  const sjWrong = speed?.functionRows.filter(
    (r) => r.backend === 'serialize-javascript' && r.status === 'wrong',
  );
  lines.push(
    '6. **Not the peers.** Pulumi’s runtime.serializeFunction takes ' +
      `${withSpread(pulumiLambda)} for \`x => x * 2\`` +
      (pulumiCrypto && pulumiCrypto.status !== 'works'
        ? ` and ${pulumiCrypto.status === 'refused' ? 'refuses' : 'breaks'} ` +
          'the closure that imports node:crypto'
        : '') +
      `; serialize-javascript drops closures and imports (wrong on ` +
      `${sjWrong?.map((r) => r.shape).join(', ') || '—'}) without an error.`,
  );
  const args = argumentsAdvice(ctx);
  if (args) lines.push(args);
  return lines;
}

export function renderDecision(results: Results): string {
  const ctx: Context = { results };
  const opt = (name: string) => okSuite(results, name);
  const size = opt('size');
  const speed = opt('speed');
  const capability = opt('capability');
  const queue = opt('queue');
  const python = opt('python-reference');
  if (size) ctx.size = size;
  if (speed) ctx.speed = speed;
  if (capability) ctx.capability = capability;
  if (queue) ctx.queue = queue;
  if (python) ctx.python = python;
  const missing = ['size', 'speed', 'capability', 'queue', 'python-reference']
    .filter((n) => !okSuite(results, n))
    .map((n) => {
      const s = findSuite(results, n);
      return `- ${n}: ${s ? `${s.status}: ${(s.reason ?? '').split('\n')[0]}` : 'not run'}`;
    });
  const env = results.environment;
  return [
    '<!-- Generated by `npm run bench` from results.json (src/report/decision.ts). Do not edit by hand. -->',
    '# How should a job queue serialize the functions it runs?',
    '',
    `_Decided from the ${results.mode} run of ${env.date.slice(0, 10)} on ` +
      `${env.cpuModel} (${env.cores} cores), Node ${env.node}; commit ` +
      `${env.gitSha?.slice(0, 10) ?? 'unknown'}${env.gitDirty ? ' with uncommitted changes' : ''}. ` +
      'Times are medians (± relative margin of error, n samples); ratios ' +
      'are computed round by round within this run._',
    '',
    '## Which serializer for which situation',
    '',
    ...answer(ctx),
    '',
    '## Trade-offs, measured',
    '',
    tradeOffTable(ctx),
    '',
    'Flexibility: shapes that round-trip correctly in a fresh process ' +
      '([capability.md](capability.md)) and in the speed suite’s own shapes ' +
      '([speed.md](speed.md)). Sizes from [size.md](size.md). ' +
      'Dependencies: packages in the run-time closure per package-lock.json.',
    '',
    '## The design memo’s figures beside ours',
    '',
    memoTable(ctx),
    '',
    'The memo’s Python figures are quoted; the middle column re-measures ' +
      'pickle and cloudpickle on this machine in the same run ' +
      '([python-reference.md](python-reference.md)).',
    ...(missing.length
      ? ['', '## Suites missing from this decision', '', ...missing]
      : []),
    '',
  ].join('\n');
}
