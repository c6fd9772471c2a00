// python-reference.md: pickle vs cloudpickle measured in this run, beside
// the design memo's figures.

import type { Results, SuiteResult } from '../bench/results.js';
import type { PythonReferenceData } from '../bench/suite-data.js';
import {
  barChart,
  formatNs,
  formatRatio,
  formatTiming,
  spread,
  table,
} from './format.js';
import { timingOf } from './lookup.js';
import { MEMO_FIGURES } from './memo.js';

export function renderPythonBody(suite: SuiteResult, _results: Results): string {
  const data = suite.data as PythonReferenceData;
  const rows = data.rows.map((row) => {
    const key = `${row.library}.${row.shape}`;
    const dumps = timingOf(suite.metrics, `python.dumps.${key}`);
    const loads = timingOf(suite.metrics, `python.loads.${key}`);
    return [
      row.library,
      row.shape,
      row.status === 'refused' ? `refused (${row.error})` : row.status,
      row.bytes !== undefined ? `${row.bytes} B` : '—',
      dumps ? formatTiming(dumps) : '—',
      dumps?.ratio
        ? `${formatRatio(dumps.ratio.stats.median)} (${spread(dumps.ratio.stats)})`
        : dumps
          ? '1× (reference)'
          : '—',
      loads ? formatTiming(loads) : '—',
    ];
  });
  const timed = data.rows.filter((r) => r.status === 'works');
  const chart = barChart(
    'dumps time per call (µs)',
    'µs',
    timed.map((r) => ({
      label: `${r.library} ${r.shape}`,
      value:
        (timingOf(suite.metrics, `python.dumps.${r.library}.${r.shape}`)?.stats
          .median ?? NaN) / 1000,
    })),
  );
  const pickleModule = data.rows.find(
    (r) => r.library === 'pickle' && r.shape === 'moduleFunction',
  );
  const cloudLambda = data.rows.find(
    (r) => r.library === 'cloudpickle' && r.shape === 'lambda',
  );
  const pickleTime = timingOf(suite.metrics, 'python.dumps.pickle.moduleFunction');
  const cloudTime = timingOf(suite.metrics, 'python.dumps.cloudpickle.lambda');
  const refusals = data.rows
    .filter((r) => r.status === 'refused')
    .map((r) => `- ${r.library} · ${r.shape}: ${r.error}: ${r.reason}`);
  return [
    `Python ${data.versions['python']}, cloudpickle ` +
      `${data.versions['cloudpickle'] ?? 'not installed'}, pickle protocol ` +
      `${data.pickleProtocol}. Each timing sample is one timeit run of ` +
      `${data.number.toLocaleString('en-US')} calls; ${data.repeat} samples ` +
      'per row, taken round by round so the ratio to pickle’s module ' +
      'function is within one moment of the run. Functions are in ' +
      '`suites/python/reference_jobs.py`, shaped like ours: a module ' +
      'function, a lambda, and a closure over three values that uses an ' +
      'import (hashlib).',
    '',
    table(
      ['library', 'shape', 'result', 'bytes', 'dumps', 'dumps ratio', 'loads'],
      rows,
    ),
    '',
    chart,
    '',
    '## Beside the design memo',
    '',
    table(
      ['figure', 'memo', 'measured now'],
      [
        [
          'pickle, module function',
          `${MEMO_FIGURES.pickleBytes} B`,
          pickleModule?.bytes !== undefined ? `${pickleModule.bytes} B` : '—',
        ],
        [
          'cloudpickle, lambda',
          `${MEMO_FIGURES.cloudpickleBytes} B`,
          cloudLambda?.bytes !== undefined ? `${cloudLambda.bytes} B` : '—',
        ],
        [
          'pickle time',
          `${MEMO_FIGURES.pickleSeconds} s`,
          pickleTime
            ? `${formatNs(pickleTime.stats.median)} per call ` +
              `(${(pickleTime.stats.median * 1000 / 1e9).toFixed(4)} s per 1,000)`
            : '—',
        ],
        [
          'cloudpickle time',
          `${MEMO_FIGURES.cloudpickleSeconds} s`,
          cloudTime
            ? `${formatNs(cloudTime.stats.median)} per call ` +
              `(${(cloudTime.stats.median * 1000 / 1e9).toFixed(4)} s per 1,000)`
            : '—',
        ],
        [
          'cloudpickle / pickle, time',
          formatRatio(MEMO_FIGURES.timeFactor),
          cloudTime?.ratio
            ? `${formatRatio(cloudTime.ratio.stats.median)} (${spread(cloudTime.ratio.stats)})`
            : '—',
        ],
      ],
    ),
    '',
    'The memo does not state its call count; "per 1,000" is given only to ' +
      'make the scale comparable.',
    ...(refusals.length ? ['', '## Refusals', '', ...refusals] : []),
  ].join('\n');
}
